"""Time-to-mean-IoU of chapter 8's two models, with and without skip connections, over seeds.

    .venv/bin/python -m bench.ch08_time_to_miou [--profile cpu] [--seeds 0 1 2]
        [--save model.keras] [--out FILE.json]

Runs the chapter's own code as the notebook does: the narrative cell that
defines ``conv_bn_relu``, ``encoder``, ``train`` and ``build_noskip``, and the
solution cell ``ex6_build_segmenter`` of
``source/ch08_segmentation/ch08_segmentation.ipynb``, on the profile's
canvases (``course.data.load_digit_canvases``, ``course.ch08.BUDGET``).  For
each seed it trains the U-Net (``build_segmenter``) and the no-skip model
(``build_noskip``) with the notebook's ``train`` and, after every epoch, measures
the mean IoU on the validation canvases and on the grader's test canvases
(``autograder.evaluate_model.segmentation_test_data``: MNIST test digits, the
grader's default seed), evaluation time excluded from the training time.
Reports per seed and model the training time, the final figures and the time
to mean IoU 0.5 / 0.7 / 0.8 / 0.85; over the seeds the median and spread;
peak memory, the machine and the load average.  Writes
``bench/results/ch08_time_to_miou_PROFILE.json`` and a ``.png`` beside it.
Any Keras backend (``KERAS_BACKEND``); needs neither TensorFlow nor nbformat.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bench.ch09_time_to_accuracy import run_context, spread

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
SOURCE = ROOT / "source" / "ch08_segmentation" / "ch08_segmentation.ipynb"
TARGETS = (0.5, 0.7, 0.8, 0.85)
MODELS = {"with skips": "build_segmenter", "no skips": "build_noskip"}


def chapter_code() -> str:
    """The notebook's recipe cell (``def train``) and its solution cell ``ex6_build_segmenter``."""
    cells = json.loads(SOURCE.read_text())["cells"]

    def text(cell) -> str:
        return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]

    recipe = [text(c) for c in cells if c["cell_type"] == "code" and "def train(" in text(c)]
    build = [text(c) for c in cells
             if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "ex6_build_segmenter"]
    if len(recipe) != 1 or len(build) != 1:
        raise ValueError(f"{SOURCE.name}: expected one recipe cell and one ex6 cell, got "
                         f"{len(recipe)} and {len(build)}")
    return recipe[0] + "\n\n" + build[0]


def run(profile: str, seed: int, save: Path | None = None) -> dict:
    """Train both models with ``seed``; mean IoU after every epoch."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    from autograder.evaluate_model import mean_iou, segmentation_test_data
    from course.canvases import N_CLASSES
    from course.ch08 import BUDGET, predict_masks
    from course.data import load_digit_canvases

    budget = BUDGET[profile]
    (x_train, m_train), (x_val, m_val) = load_digit_canvases(budget["n_train"], budget["n_val"])
    x_test, m_test = segmentation_test_data()
    scope = {"keras": keras, "np": np, "PROFILE": profile, "B": budget, "N_CLASSES": N_CLASSES,
             "x_train": x_train, "m_train": m_train}
    exec(chapter_code(), scope)  # noqa: S102 - the instructor's own notebook code

    class Clock(keras.callbacks.Callback):
        """Training time per epoch, then the validation and test evaluation, into ``curve``."""

        def __init__(self, name: str, curve: list):
            super().__init__()
            self.name, self.curve, self.train_s = name, curve, 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.train_s += time.perf_counter() - self.t0
            test_pred = predict_masks(self.model, x_test)
            self.curve.append({"epoch": epoch + 1, "train_s": round(self.train_s, 1),
                               "val_miou": round(mean_iou(predict_masks(self.model, x_val), m_val, N_CLASSES)[0], 4),
                               "test_miou": round(mean_iou(test_pred, m_test, N_CLASSES)[0], 4),
                               "test_pixel_accuracy": round(float(np.mean(test_pred == m_test)), 4)})
            print(json.dumps({"seed": seed, "model": self.name, **self.curve[-1]}), flush=True)

    out = {"seed": seed}
    for name, builder in MODELS.items():
        curve: list[dict] = []
        keras.utils.set_random_seed(seed)
        model = scope[builder](scope["WIDTH"])
        scope["train"](model, callbacks=[Clock(name, curve)])
        if save and name == "with skips":
            model.save(save)
        reach = {}
        for target in TARGETS:
            hit = next((p for p in curve if p["test_miou"] >= target), None)
            reach[str(target)] = None if hit is None else {"epoch": hit["epoch"], "train_s": hit["train_s"]}
        out[name] = {"params": int(model.count_params()), "reached": reach, "curve": curve,
                     "final_test_miou": curve[-1]["test_miou"], "final_val_miou": curve[-1]["val_miou"],
                     "train_s_total": curve[-1]["train_s"]}
    return out


def summarize(profile: str, runs: list[dict]) -> dict:
    """Median and spread over the seeds, with the machine and its load."""
    from course.ch08 import BUDGET

    models = {name: {"final_test_miou": spread([r[name]["final_test_miou"] for r in runs]),
                     "train_s": spread([r[name]["train_s_total"] for r in runs]),
                     "params": runs[0][name]["params"]} for name in MODELS}
    return {"profile": profile, "budget": BUDGET[profile], "seeds": [r["seed"] for r in runs],
            "models": models, **run_context(), "runs": runs}


def plot(result: dict, path: Path) -> None:
    """Test mean IoU against training wall time, one line per seed and model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for name, color in zip(MODELS, ("tab:blue", "tab:orange"), strict=True):
        for i, run_ in enumerate(result["runs"]):
            curve = run_[name]["curve"]
            ax.plot([0] + [p["train_s"] for p in curve], [0] + [p["test_miou"] for p in curve], marker="o",
                    color=color, alpha=0.8, label=name if i == 0 else None)
    from course.thresholds import tiers

    table = tiers("ch08_segmentation", result["profile"])
    for key, style in (("zero", ":"), ("full", "--")):
        ax.axhline(table[key], color="gray", linestyle=style, linewidth=1)
        ax.text(1, table[key] + 0.01, f"{key} credit", fontsize=7, color="gray")
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("mean IoU, grader's test canvases")
    ax.set_title(f"chapter 8, {result['profile']} profile, seeds {result['seeds']} — {result['device']}, "
                 f"{result['backend']}", fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu", choices=("cpu", "gpu", "smoke"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--save", type=Path, help="save the last seed's U-Net here")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    runs = [run(args.profile, seed, args.save if seed == args.seeds[-1] else None) for seed in args.seeds]
    result = summarize(args.profile, runs)
    out = args.out or RESULTS / f"ch08_time_to_miou_{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    plot(result, out.with_suffix(".png"))
    for name, figures in result["models"].items():
        f = figures["final_test_miou"]
        print(f"{name}: final test mean IoU median {f['median']:.3f} (min {f['min']:.3f}, max {f['max']:.3f}), "
              f"training {figures['train_s']['median']:.0f} s median")
    print(f"wrote {out} and {out.with_suffix('.png').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
