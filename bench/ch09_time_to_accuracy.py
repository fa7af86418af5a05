"""Time-to-accuracy of chapter 9's reference solution, over several seeds.

    .venv/bin/python -m bench.ch09_time_to_accuracy [--profile cpu] [--seeds 42 43 44]
        [--epochs N] [--limit N] [--save model.keras] [--out FILE.json]

Trains the reference recipe *as the notebook runs it*: the solution cells
``ex1_preprocess``, ``ex2_build_model`` and ``ex3_train`` of
``source/ch09_mnist/ch09_mnist.ipynb`` are executed as they are, with the
notebook's data split, in a namespace where ``LiveHistory`` is a callback of
this benchmark that measures the test accuracy after every epoch (test
evaluations excluded from the training time) and where the cell's seed is
replaced by the run's.  Reports per seed the training wall time and epoch to
99.0 / 99.3 / 99.5 / 99.6 / 99.7 % test accuracy, the best and final
accuracy, and over the seeds the median and spread; peak resident memory,
the machine and the load average.  Writes
``bench/results/ch09_time_to_accuracy_PROFILE.json`` and a plot ``.png``
beside it.  Runs on any Keras backend (``KERAS_BACKEND``); needs neither
TensorFlow nor nbformat, so it also runs on a GPU machine with only PyTorch
or JAX (see ``bench/gpu_check.sh``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
SOURCE = ROOT / "source" / "ch09_mnist" / "ch09_mnist.ipynb"
TARGETS = (0.990, 0.993, 0.995, 0.996, 0.997)
CELLS = ("ex1_preprocess", "ex2_build_model", "ex3_train")
_SEED = re.compile(r"keras\.utils\.set_random_seed\((\d+)\)")


def solution_cells() -> dict[str, str]:
    """Source of the solution cells :data:`CELLS` (plain JSON reading, no nbformat needed)."""
    nb = json.loads(SOURCE.read_text())
    out = {}
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in CELLS:
            source = cell["source"]
            out[gid] = "".join(source) if isinstance(source, list) else source
    return out


def training_code(seed: int, epochs: int | None) -> str:
    """``ex3_train`` with the run's seed (and an epoch budget, if given), model saving left out."""
    code = solution_cells()["ex3_train"]
    if not _SEED.search(code):
        raise ValueError("ex3_train no longer seeds with keras.utils.set_random_seed(N)")
    code = _SEED.sub(f"keras.utils.set_random_seed({seed})", code)
    if epochs:
        code = re.sub(r"^EPOCHS = .*$", f"EPOCHS = {epochs}", code, count=1, flags=re.MULTILINE)
    return code.split('model.save("mnist_model.keras")')[0]


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def device_name() -> str:
    """The accelerator Keras trains on, in words ('CPU' when none)."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "torch":
            import torch

            if torch.cuda.is_available():
                return torch.cuda.get_device_name(0)
        elif backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform == "gpu"]
            if gpus:
                return gpus[0].device_kind
        elif backend == "tensorflow":
            import tensorflow as tf

            if tf.config.list_physical_devices("GPU"):
                return "GPU (TensorFlow)"
    except Exception as exc:  # noqa: BLE001 - only a label
        return f"unknown ({type(exc).__name__})"
    return "CPU"


def spread(values: list[float]) -> dict:
    """``{"median", "min", "max"}`` of ``values`` (a figure over seeds)."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def run_context() -> dict:
    """Backend, versions, device, machine, peak memory and load: what every result states."""
    import keras

    return {"backend": keras.backend.backend(), "keras": keras.__version__, "device": device_name(),
            "machine": f"{cpu_name()}, {os.cpu_count()} cores, {platform.machine()}, "
                       f"Python {platform.python_version()}",
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


def split(limit: int | None):
    """The notebook's data: train/validation split of the training set, the test set."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from course.data import load_mnist

    (x_full, y_full), (x_test, y_test) = load_mnist()
    x_train, x_val, y_train, y_val = train_test_split(x_full, y_full, test_size=5_000,
                                                      stratify=y_full, random_state=42)
    if limit:
        x_train, y_train, x_val, y_val = x_train[:limit], y_train[:limit], x_val[:500], y_val[:500]
        x_test, y_test = x_test[:1000], y_test[:1000]
    return np, x_train, y_train, x_val, y_val, x_test, y_test


def run(profile: str, seed: int, epochs: int | None = None, limit: int | None = None,
        save: Path | None = None) -> dict:
    """Train once with ``seed``, measuring test accuracy after every epoch."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    np, x_train, y_train, x_val, y_val, x_test, y_test = split(limit)
    curve: list[dict] = []
    holder: dict = {}

    class Clock(keras.callbacks.Callback):
        """Stands in for ``LiveHistory``: training time per epoch, then the test evaluation."""

        def __init__(self, *args, **kwargs):
            super().__init__()
            self.widget, self.train_s = None, 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.train_s += time.perf_counter() - self.t0
            pred = self.model.predict(holder["test"], batch_size=1000, verbose=0).argmax(axis=1)
            curve.append({"epoch": epoch + 1, "train_s": round(self.train_s, 1),
                          "val_accuracy": round(float(logs.get("val_accuracy", float("nan"))), 4),
                          "test_accuracy": float(np.mean(pred == y_test))})
            print(json.dumps({"seed": seed, **curve[-1]}), flush=True)

    scope = {"keras": keras, "np": np, "PROFILE": profile, "LiveHistory": Clock,
             "display": lambda *a, **k: None, "x_train": x_train, "y_train": y_train,
             "x_val": x_val, "y_val": y_val}
    cells = solution_cells()
    exec(cells["ex1_preprocess"], scope)  # noqa: S102 - the instructor's own solution code
    exec(cells["ex2_build_model"], scope)  # noqa: S102
    holder["test"] = scope["preprocess"](x_test)
    exec(training_code(seed, epochs), scope)  # noqa: S102
    model = scope["model"]
    if save:
        model.save(save)
    reach = {}
    for target in TARGETS:
        hit = next((p for p in curve if p["test_accuracy"] >= target), None)
        reach[f"{target:.1%}"] = None if hit is None else {"epoch": hit["epoch"], "train_s": hit["train_s"]}
    best = max(curve, key=lambda p: p["test_accuracy"])
    return {"seed": seed, "epochs": len(curve), "params": int(model.count_params()), "reached": reach,
            "best_test_accuracy": best["test_accuracy"], "best_epoch": best["epoch"],
            "final_test_accuracy": curve[-1]["test_accuracy"], "train_s_total": curve[-1]["train_s"],
            "curve": curve}


def summarize(profile: str, runs: list[dict], limit: int | None) -> dict:
    """Median and spread over the seeds, with the machine and its load."""
    finals = [r["final_test_accuracy"] for r in runs]
    times = [r["train_s_total"] for r in runs]
    reached = {}
    for target in TARGETS:
        key = f"{target:.1%}"
        hits = [r["reached"][key]["train_s"] for r in runs if r["reached"][key]]
        reached[key] = {"seeds_reaching": len(hits),
                        "median_train_s": statistics.median(hits) if hits else None}
    return {
        "profile": profile, "seeds": [r["seed"] for r in runs], "limit": limit,
        "final_test_accuracy": spread(finals), "train_s": spread(times), "reached": reached,
        **run_context(), "runs": runs,
    }


def plot(result: dict, path: Path) -> None:
    """Test accuracy against training wall time, one line per seed, with the target lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for r in result["runs"]:
        ax.plot([p["train_s"] for p in r["curve"]], [100 * p["test_accuracy"] for p in r["curve"]],
                "o-", ms=3, label=f"seed {r['seed']}")
    for target in TARGETS:
        ax.axhline(100 * target, color="grey", lw=0.6, ls="--")
    ax.set_ylim(98.5, 100)
    ax.set_xlabel("training wall time (s)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"ch09 reference recipe, {result['profile']} profile, {result['device']}, "
                 f"{result['machine'].split(',')[1].strip()}, load {result['load_average_at_end'][0]}",
                 fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and write its result and plot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("cpu", "gpu", "smoke"), default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--epochs", type=int, default=None, help="override the notebook's EPOCHS")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on this many images only (a quick check, not a measurement)")
    parser.add_argument("--save", type=Path, default=None, help="save the last seed's model here")
    parser.add_argument("--out", type=Path, default=None, help="result JSON (default: bench/results/)")
    args = parser.parse_args(argv)
    runs = [run(args.profile, seed, args.epochs, args.limit, args.save) for seed in args.seeds]
    result = summarize(args.profile, runs, args.limit)
    out = args.out or RESULTS / f"ch09_time_to_accuracy_{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    plot(result, out.with_suffix(".png"))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    return result


if __name__ == "__main__":
    main()
