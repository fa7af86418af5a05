"""The "setup cell" of every course notebook.

Run it first in a notebook::

    from course.env import setup
    ENV = setup("ch02")

:func:`setup` quiets TensorFlow's C++ logging (before TensorFlow or Keras is
imported), seeds Python, numpy and Keras, finds out which Keras backend and
device are in use, picks the course *profile* and prints a one-block report
such as::

    CNN Course ch02 | Python 3.11.7 | numpy 2.4.6 | keras 3.15.1 (tensorflow 2.21.0) | device: CPU (2 cores) | profile: cpu

The profile (``"cpu"`` or ``"gpu"``) tells notebooks how big their
experiments may be.  It is ``"gpu"`` when a GPU is visible to the backend and
``"cpu"`` otherwise; set the environment variable ``CNN_COURSE_PROFILE`` to
``cpu`` or ``gpu`` to override it.  A third value, ``smoke``, is never
detected: it asks notebooks with long training runs for a seconds-long
version (a few hundred images, one epoch), so that a notebook can be checked
end to end quickly.  The grader builds the reference records of such a
notebook in this profile when the notebook's metadata asks for it (its probes
never depend on how long a model trained); models are always graded in
``cpu`` or ``gpu``.  On TensorFlow the ``smoke`` profile also runs
``tf.function``s eagerly: tracing a network's training step takes longer
than training it on a few hundred images (measured: the chapter 10 notebook
87 s traced, 41 s eager); the numbers are the same, only slower per step.

Only the framework of the active backend is imported: TensorFlow is never
imported when Keras runs on torch or JAX.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import platform
import random
import sys

PROFILE_ENV = "CNN_COURSE_PROFILE"
"""Environment variable that overrides the detected profile."""

PROFILES = ("cpu", "gpu", "smoke")
"""The valid profiles (``smoke`` only on request, see the module docstring)."""

_FRAMEWORK_MODULES = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}


def setup(chapter: str | None = None, seed: int = 42, quiet: bool = True) -> dict:
    """Prepare a notebook: quiet logs, seed everything, report the environment.

    Args:
        chapter: Chapter label shown in the report, e.g. ``"ch02"``.
        seed: Seed for Python's ``random``, numpy and Keras (and its backend).
        quiet: Set ``TF_CPP_MIN_LOG_LEVEL=2`` before TensorFlow is imported,
            hiding TensorFlow's C++ info and warning messages, and show only
            errors of TensorFlow's Python logger.

    Returns:
        A dict with the keys ``chapter``, ``seed``, ``python``, ``numpy``,
        ``keras``, ``backend``, ``backend_version``, ``gpu``, ``gpu_name``,
        ``device``, ``cpu_cores``, ``profile`` and ``profile_source``
        (``"auto"`` or ``"env"``).

    Raises:
        ValueError: If ``CNN_COURSE_PROFILE`` is set to something other than
            ``cpu`` or ``gpu``.
    """
    if quiet:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    override = _profile_override()  # fail early on a bad value
    with _native_stderr_silenced(quiet and "keras" not in sys.modules):
        keras = importlib.import_module("keras")
        _framework_version(keras.backend.backend())  # finish importing the backend quietly
    if quiet:  # e.g. TensorFlow's "triggered tf.function retracing" notes when models are compared
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    seed_everything(seed)
    backend = keras.backend.backend()
    gpu_name = _detect_gpu(backend)
    info = {
        "chapter": chapter,
        "seed": seed,
        "python": platform.python_version(),
        "numpy": importlib.import_module("numpy").__version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": _framework_version(backend),
        "gpu": gpu_name is not None,
        "gpu_name": gpu_name,
        "device": "GPU" if gpu_name is not None else "CPU",
        "cpu_cores": cpu_cores(),
        "profile": override or ("gpu" if gpu_name is not None else "cpu"),
        "profile_source": "env" if override else "auto",
    }
    if info["profile"] == "smoke" and backend == "tensorflow":
        importlib.import_module("tensorflow").config.run_functions_eagerly(True)
    print(format_report(info))
    return info


@contextlib.contextmanager
def _native_stderr_silenced(active: bool):
    """Point file descriptor 2 at /dev/null while native libraries load.

    TensorFlow's C++ start-up banner (absl, oneDNN) ignores
    ``TF_CPP_MIN_LOG_LEVEL``; it is written straight to the process's stderr.
    """
    if not active:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def get_profile(gpu: bool | None = None) -> str:
    """Return the course profile, ``"cpu"`` or ``"gpu"`` (or ``"smoke"`` when requested).

    ``CNN_COURSE_PROFILE`` wins when set; otherwise the profile is ``"gpu"``
    exactly when a GPU is available.

    Args:
        gpu: Whether a GPU is available; ``None`` asks the Keras backend
            (which imports Keras).

    Raises:
        ValueError: If ``CNN_COURSE_PROFILE`` is not ``cpu``, ``gpu`` or ``smoke``.
    """
    override = _profile_override()
    if override:
        return override
    if gpu is None:
        keras = importlib.import_module("keras")
        gpu = _detect_gpu(keras.backend.backend()) is not None
    return "gpu" if gpu else "cpu"


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy and Keras (which seeds its backend)."""
    random.seed(seed)
    importlib.import_module("numpy").random.seed(seed)
    importlib.import_module("keras").utils.set_random_seed(seed)


def cpu_cores() -> int:
    """Number of CPU cores this process may use (respects CPU affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def format_report(info: dict) -> str:
    """Format the facts returned by :func:`setup` as the one-block report."""
    title = f"CNN Course {info['chapter']}" if info["chapter"] else "CNN Course"
    framework = info["backend"]
    if info["backend_version"]:
        framework += f" {info['backend_version']}"
    if info["gpu"]:
        device = f"GPU ({info['gpu_name']})"
    else:
        device = f"CPU ({info['cpu_cores']} cores)"
    profile = info["profile"]
    if info["profile_source"] == "env":
        profile += f" (from {PROFILE_ENV})"
    parts = [
        title,
        f"Python {info['python']}",
        f"numpy {info['numpy']}",
        f"keras {info['keras']} ({framework})",
        f"device: {device}",
        f"profile: {profile}",
    ]
    return " | ".join(parts)


def _profile_override() -> str | None:
    """Return the validated ``CNN_COURSE_PROFILE`` value, or ``None`` if unset."""
    raw = os.environ.get(PROFILE_ENV, "").strip()
    if not raw:
        return None
    value = raw.lower()
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV} must be 'cpu', 'gpu' or 'smoke', got {raw!r}; "
            f"unset it to pick the profile from the detected device."
        )
    return value


def _framework_version(backend: str) -> str | None:
    """Version of the active backend's framework (already imported by Keras)."""
    module = _FRAMEWORK_MODULES.get(backend)
    if module is None:
        return None
    try:
        return importlib.import_module(module).__version__
    except (ImportError, AttributeError):
        return None


def _detect_gpu(backend: str) -> str | None:
    """Name of the first GPU the backend can use, or ``None`` without one."""
    detectors = {"tensorflow": _tensorflow_gpu, "torch": _torch_gpu, "jax": _jax_gpu}
    detector = detectors.get(backend)
    if detector is None:  # numpy / openvino backends run on the CPU here
        return None
    try:
        return detector()
    except Exception:  # noqa: BLE001 - a broken driver must not stop the notebook
        return None


def _tensorflow_gpu() -> str | None:
    """First TensorFlow GPU's name (only called on the tensorflow backend)."""
    tf = importlib.import_module("tensorflow")
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name") or gpus[0].name


def _torch_gpu() -> str | None:
    """First CUDA device's name (only called on the torch backend)."""
    torch = importlib.import_module("torch")
    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_name(0)


def _jax_gpu() -> str | None:
    """First JAX GPU's kind (only called on the jax backend)."""
    jax = importlib.import_module("jax")
    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    if not gpus:
        return None
    return getattr(gpus[0], "device_kind", None) or str(gpus[0])
