"""Time-to-accuracy of chapter 9's reference solution.

    .venv/bin/python -m bench.ch09_time_to_accuracy [--profile cpu] [--epochs N] [--seed 42]

Trains the reference recipe exactly as the solution cells of
``source/ch09_mnist/ch09_mnist.ipynb`` define it (``preprocess`` and
``build_model`` are taken from the notebook; the training settings below
mirror its ``ex3_train`` cell: batch 128, Adam, one warm-up epoch to 3e-3 then
cosine decay, label smoothing 0.1, the same validation split) and, for the
benchmark only, measures the test accuracy after every epoch.  Reports the
training wall time (test evaluations excluded) and epochs to 99.0, 99.3, 99.5
and 99.6 % test accuracy, the best accuracy, the peak resident memory of the
process, and the machine; writes ``bench/results/ch09_time_to_accuracy_PROFILE.json``
and a plot ``.png`` beside it.  Runs on any Keras backend (``KERAS_BACKEND``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import textwrap
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
SOURCE = ROOT / "source" / "ch09_mnist" / "ch09_mnist.ipynb"
TARGETS = (0.990, 0.993, 0.995, 0.996)
RECIPE = {"cpu": {"epochs": 8, "width": 24}, "gpu": {"epochs": 30, "width": 64}}
"""Mirrors ``EPOCHS`` and ``WIDTH`` of the notebook's ``ex3_train`` solution cell."""


def solution_functions() -> dict:
    """``preprocess`` and ``build_model`` from the source notebook's solution cells."""
    import keras
    import numpy as np

    nb = nbformat.read(SOURCE, as_version=4)
    namespace = {"keras": keras, "np": np}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in ("ex1_preprocess", "ex2_build_model"):
            exec(textwrap.dedent(cell.source), namespace)  # noqa: S102 - the instructor's own code
    return namespace


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run(profile: str, epochs: int | None, seed: int) -> dict:
    """Train once, measuring test accuracy after every epoch."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    from sklearn.model_selection import train_test_split

    from course.data import load_mnist

    fns = solution_functions()
    preprocess, build_model = fns["preprocess"], fns["build_model"]
    epochs = epochs or RECIPE[profile]["epochs"]
    (x_full, y_full), (x_test, y_test) = load_mnist()
    x_train, x_val, y_train, y_val = train_test_split(x_full, y_full, test_size=5_000,
                                                      stratify=y_full, random_state=42)
    keras.utils.set_random_seed(seed)
    model = build_model(RECIPE[profile]["width"])
    batch = 128
    steps = epochs * int(np.ceil(len(x_train) / batch))
    warmup = steps // max(epochs, 4)
    schedule = keras.optimizers.schedules.CosineDecay(1e-4, decay_steps=steps - warmup,
                                                      warmup_target=3e-3, warmup_steps=warmup)
    model.compile(keras.optimizers.Adam(schedule),
                  keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])
    x_test_in = preprocess(x_test)
    curve = []

    class Clock(keras.callbacks.Callback):
        """Training time per epoch (validation included), then the benchmark's test evaluation."""

        def on_train_begin(self, logs=None):
            self.train_s = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.train_s += time.perf_counter() - self.t0
            pred = self.model.predict(x_test_in, batch_size=1000, verbose=0).argmax(axis=1)
            curve.append({"epoch": epoch + 1, "train_s": round(self.train_s, 1),
                          "val_accuracy": round(float(logs["val_accuracy"]), 4),
                          "test_accuracy": float(np.mean(pred == y_test))})
            print(json.dumps(curve[-1]), flush=True)

    model.fit(preprocess(x_train), keras.utils.to_categorical(y_train, 10),
              validation_data=(preprocess(x_val), keras.utils.to_categorical(y_val, 10)),
              epochs=epochs, batch_size=batch, verbose=0, callbacks=[Clock()])
    reach = {}
    for target in TARGETS:
        hit = next((p for p in curve if p["test_accuracy"] >= target), None)
        reach[f"{target:.1%}"] = None if hit is None else {"epoch": hit["epoch"], "train_s": hit["train_s"]}
    best = max(curve, key=lambda p: p["test_accuracy"])
    return {
        "profile": profile, "epochs": epochs, "seed": seed, "params": int(model.count_params()),
        "backend": keras.backend.backend(), "keras": keras.__version__,
        "machine": f"{cpu_name()}, {os.cpu_count()} cores, {platform.machine()}, "
                   f"Python {platform.python_version()}",
        "reached": reach, "best_test_accuracy": best["test_accuracy"], "best_epoch": best["epoch"],
        "final_test_accuracy": curve[-1]["test_accuracy"], "train_s_total": curve[-1]["train_s"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "curve": curve,
    }


def plot(result: dict, path: Path) -> None:
    """Test accuracy against training wall time, with the target lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([p["train_s"] for p in result["curve"]], [100 * p["test_accuracy"] for p in result["curve"]],
            "o-", label=f"test accuracy ({result['profile']} profile)")
    for target in TARGETS:
        ax.axhline(100 * target, color="grey", lw=0.6, ls="--")
    ax.set_ylim(98.5, 100)
    ax.set_xlabel("training wall time (s)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"ch09 reference recipe, {result['machine'].split(',')[1].strip()}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    """Run the benchmark and write its result and plot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=sorted(RECIPE), default="cpu")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    result = run(args.profile, args.epochs, args.seed)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"ch09_time_to_accuracy_{args.profile}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    plot(result, out.with_suffix(".png"))
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=1))


if __name__ == "__main__":
    main()
