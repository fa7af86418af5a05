"""Time to accuracy of transfer learning vs training from scratch (chapter 10's claim, measured).

    .venv/bin/python -m bench.transfer [--per-class 100] [--size 96] [--epochs 6] [--seed 42]
    .venv/bin/python -m bench.transfer --profile gpu --out transfer_gpu   # chapter 10's gpu budget

On Fashion-MNIST with ``--per-class`` training and validation images per
class (first images of each class in the training split, disjoint), the same
EfficientNet-Lite0 (:mod:`course.pretrained`) is trained four ways on the same
data and budget, inputs resized to ``--size`` pixels inside the model:

* ``imagenet_frozen``: ImageNet weights frozen (BatchNorm in inference mode), a new head;
* ``imagenet_finetuned``: that model after its head has trained, with the top
  two stages unfrozen at a 10x lower learning rate (BatchNorm still in inference mode);
* ``random_frozen``: random weights frozen, a new head (BatchNorm statistics
  calibrated on training images first, see :func:`course.ch10.calibrate_batchnorm`);
* ``scratch``: random weights, everything trained (BatchNorm in training mode,
  its statistics recalibrated on training images before each evaluation).

Each run records validation accuracy per epoch with the elapsed training
seconds, then the final accuracy on 2,000 official test images.  Prints a
JSON summary and writes ``bench/results/OUT.json`` (default ``transfer_cpu``) and a plot.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from course.ch10 import calibrate_batchnorm

RESULTS = Path(__file__).parent / "results"


def data(per_class: int, n_test: int = 2000):
    """(train, val, test) arrays of Fashion-MNIST: uint8 images as float32 0..255 (N, 28, 28, 1), labels."""
    from course.data import load_fashion_mnist

    (x, y), (xt, yt) = load_fashion_mnist()
    train = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)])
    val = np.concatenate([np.flatnonzero(y == c)[per_class:2 * per_class] for c in range(10)])

    def prep(a):
        return a[..., None].astype("float32")

    return (prep(x[train]), y[train]), (prep(x[val]), y[val]), (prep(xt[:n_test]), yt[:n_test])


def build(size: int, weights: str | None, bn_inference: bool = True):
    """Raw 28x28 grey pixels -> resize -> RGB -> (x - 127) / 128 -> EfficientNet-Lite0 -> 10 classes.

    Returns ``(model, backbone, prep)``; ``prep`` is the model's preprocessing part alone.

    ``bn_inference``: the backbone's BatchNorm layers always use their moving
    statistics (right for pretrained weights); from scratch they must use
    batch statistics in training, as usual.
    """
    import keras
    from keras import layers

    from course.pretrained import efficientnet_lite0

    backbone = efficientnet_lite0((size, size, 3), include_top=False, weights=weights, pooling="avg")
    inputs = keras.Input((28, 28, 1))
    x = layers.Resizing(size, size, interpolation="bilinear")(inputs)
    x = layers.Concatenate()([x, x, x])
    prep = keras.Model(inputs, layers.Rescaling(1 / 128, offset=-127 / 128)(x), name="preprocess")
    x = backbone(prep.output, training=False) if bn_inference else backbone(prep.output)
    x = layers.Dropout(0.2)(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x)), backbone, prep


def fit(model, train, val, epochs: int, lr: float, clock: list[float], history: list[dict],
        calibrate: bool = False) -> None:
    """Train with Adam; append (seconds of training so far, validation accuracy) after each epoch.

    ``calibrate``: recalibrate BatchNorm statistics on training images before
    each evaluation (counted in the training time).
    """
    import keras

    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(*train, batch_size=32, epochs=1, verbose=0)
        if calibrate:
            calibrate_batchnorm(model, train[0])
        clock[0] += time.perf_counter() - start
        acc = float(model.evaluate(*val, batch_size=256, verbose=0)[1])
        history.append({"seconds": round(clock[0], 1), "val_accuracy": acc})


def run(mode: str, size: int, epochs: int, train, val, test, seed: int) -> dict:
    """One of the four settings; returns its history and final test accuracy."""
    import keras

    keras.utils.set_random_seed(seed)
    model, backbone, prep = build(size, "imagenet" if mode.startswith("imagenet") else None,
                            bn_inference=mode != "scratch")
    clock, history = [0.0], []
    if mode == "scratch":
        fit(model, train, val, epochs, 1e-3, clock, history, calibrate=True)
    else:
        if mode == "random_frozen":
            calibrate_batchnorm(backbone, prep(train[0][:256]))
        backbone.trainable = False
        head_epochs = epochs if mode != "imagenet_finetuned" else epochs // 2
        fit(model, train, val, head_epochs, 1e-3, clock, history)
        if mode == "imagenet_finetuned":
            backbone.trainable = True
            top = [layer for layer in backbone.layers if layer.name.startswith(("block14", "block15", "head"))]
            for layer in backbone.layers:
                layer.trainable = layer in top and not isinstance(layer, keras.layers.BatchNormalization)
            fit(model, train, val, epochs - head_epochs, 1e-4, clock, history)
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    test_acc = float(model.evaluate(*test, batch_size=256, verbose=0)[1])
    return {"mode": mode, "history": history, "test_accuracy": test_acc, "trainable_params": trainable,
            "params": int(model.count_params())}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--modes", nargs="+",
                        default=["imagenet_frozen", "imagenet_finetuned", "random_frozen", "scratch"])
    parser.add_argument("--profile", choices=["smoke", "cpu", "gpu"],
                        help="take image size, training images per class (60 %% of the chapter's "
                             "selection) and epochs from chapter 10's budget (course.ch10.BUDGET)")
    parser.add_argument("--out", default="transfer_cpu", help="results name in bench/results/ (.json, .png)")
    args = parser.parse_args(argv)
    if args.profile:
        from course.ch10 import BUDGET

        budget = BUDGET[args.profile]
        args.size, args.per_class = budget["image_size"], round(0.6 * budget["per_class"])
        args.epochs = budget["head_epochs"] + budget["fine_tune_epochs"]
    train, val, test = data(args.per_class)
    runs = [run(m, args.size, args.epochs, train, val, test, args.seed) for m in args.modes]
    summary = {"machine": f"{platform.machine()} {os.cpu_count()} cores", "load_average": os.getloadavg(),
               "per_class": args.per_class, "size": args.size, "epochs": args.epochs, "seed": args.seed,
               "profile": args.profile, "runs": runs}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(summary, indent=1))
    _plot(runs, RESULTS / f"{args.out}.png")
    print(json.dumps({r["mode"]: {"test_accuracy": r["test_accuracy"], "seconds": r["history"][-1]["seconds"]}
                      for r in runs}, indent=1))
    return summary


def _plot(runs, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for r in runs:
        ax.plot([h["seconds"] for h in r["history"]], [h["val_accuracy"] for h in r["history"]], "o-",
                label=f"{r['mode']} (test {r['test_accuracy']:.1%})")
    ax.set_xlabel("training seconds (2-core CPU)")
    ax.set_ylabel("validation accuracy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
