"""Evaluate one saved Keras model on a held-out test set, as a separate process.

    python -m autograder.evaluate_model MODEL_FILE TASK [SEED]

Runs inside the grading sandbox (no network, the model file read-only, data
read-only).  The model is loaded with ``safe_mode=True`` and ``compile=False``
(no Lambda layers, no custom objects, no pickled code).  Prints one JSON line:
``{"ok": true, "metric": ..., "score": ..., "accuracy": ..., "n": ..., "conv_layers": ...,
"params": ...}`` or ``{"ok": false, "error": "..."}``.  ``score`` is the graded figure,
named by ``metric``: test accuracy for classification tasks, mean IoU over the classes
for segmentation (``accuracy`` is then the pixel accuracy, reported but not graded).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

CONV_CLASSES = {"Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv1D", "Conv3D"}


def _layers(model):
    """All layers, nested models flattened."""
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _layers(layer)
        yield layer


TASKS = {
    # task: (data set, how test images reach the model)
    "mnist": ("mnist", "unit"), "ch09_mnist": ("mnist", "unit"),
    "fashion_mnist": ("fashion_mnist", "unit"),
    # A model trained on image files (keras.utils.image_dataset_from_directory): it gets what
    # that loader yields for the test images saved as PNG files, resized to its input size.
    "fashion_mnist_images": ("fashion_mnist", "pixels"), "ch10_transfer": ("fashion_mnist", "pixels"),
    # A segmentation model: canvases of MNIST test digits (course.canvases), scaled to [0, 1].
    "ch08_segmentation": ("mnist", "segmentation"),
}
"""Tasks the grader can evaluate a model on.  ``unit``: images scaled to [0, 1] and
reshaped to the model's input; ``pixels``: float 0..255, resized (bilinear) to the
model's input height and width, grey replicated to its number of channels;
``segmentation``: :data:`SEGMENTATION_CANVASES` canvases built from the test digits
with the grader's seed, scaled to [0, 1], scored by mean IoU per pixel."""

SEGMENTATION_CANVASES = 2_000
"""Test canvases the grader builds for a segmentation task."""

SEGMENTATION_SEED_ENV = "CNN_COURSE_SEGMENTATION_SEED"
"""Environment variable holding the grader's canvas seed (an integer); instructors set their own."""

SEGMENTATION_SEED = 80_417
"""Seed used when :data:`SEGMENTATION_SEED_ENV` is not set.  Knowing it gains nothing: the
canvases are built from the MNIST test digits, which a graded kernel cannot read."""


def test_data(task: str):
    """``(x, y)`` of the task's official test set: uint8 images (N, H, W) and labels."""
    from course import data
    from course.graded_data import GRADED_DATA_ENV

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    os.environ.pop(GRADED_DATA_ENV, None)  # the grader's evaluation always uses the real test set
    loader = {"mnist": data.load_mnist, "fashion_mnist": data.load_fashion_mnist}[TASKS[task][0]]
    (_, _), (x, y) = loader()
    return x, y


def grader_seed() -> int:
    """The grader's canvas seed: :data:`SEGMENTATION_SEED_ENV` if set, else :data:`SEGMENTATION_SEED`."""
    value = os.environ.get(SEGMENTATION_SEED_ENV, "").strip()
    try:
        return int(value) if value else SEGMENTATION_SEED
    except ValueError:
        raise ValueError(f"{SEGMENTATION_SEED_ENV} must be an integer, got {value!r}") from None


def segmentation_test_data(seed: int | None = None):
    """``(x, mask)``: the grader's test canvases, built from the official MNIST test digits."""
    from course.canvases import make_canvases

    seed = grader_seed() if seed is None else seed

    digits, labels = test_data("ch08_segmentation")
    x, mask, _ = make_canvases(digits, labels, SEGMENTATION_CANVASES, seed=seed)
    return x, mask


def mean_iou(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> tuple[float, np.ndarray]:
    """``(mean IoU, IoU per class)`` of label maps ``pred`` and ``truth``, over all their pixels.

    Intersections and unions are summed over the whole test set (as PASCAL VOC does); a class
    absent from both maps has no IoU (``nan``) and is left out of the mean.
    """
    pred, truth = np.asarray(pred).ravel().astype(np.int64), np.asarray(truth).ravel().astype(np.int64)
    confusion = np.bincount(truth * n_classes + pred, minlength=n_classes ** 2).reshape(n_classes, -1)
    inter = np.diag(confusion).astype(float)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, np.nan)
    return float(np.nanmean(iou)), iou


def model_inputs(x, task: str, input_shape) -> np.ndarray:
    """Test images ``x`` (uint8, N x H x W) as the model of ``task`` with ``input_shape`` expects them."""
    mode = TASKS[task][1]
    if mode in ("unit", "segmentation"):
        return (x.astype("float32") / 255.0).reshape((len(x), *input_shape))
    height, width, channels = input_shape
    import keras

    images = x.astype("float32")[..., None]
    if (height, width) != images.shape[1:3]:
        images = keras.ops.convert_to_numpy(keras.ops.image.resize(images, (height, width),
                                                                   interpolation="bilinear"))
    return np.repeat(images, channels, axis=-1) if channels != 1 else images


def evaluate(path: str, task: str, seed: int | None = None) -> dict:
    """Load ``path`` safely and measure its score on ``task``'s test set.

    ``seed``: the canvas seed of a segmentation task (default :func:`grader_seed`).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 - any refusal to load is the message
        return {"ok": False, "error": f"the model could not be loaded safely: "
                                      f"{type(exc).__name__}: {str(exc)[:300]}"}
    segmentation = TASKS[task][1] == "segmentation"
    x, y = segmentation_test_data(seed) if segmentation else test_data(task)
    shape = tuple(d if d is not None else x.shape[1 + i] for i, d in enumerate(model.input_shape[1:3]))
    shape = (*shape, *model.input_shape[3:])
    scaled = "scaled to [0, 1]" if TASKS[task][1] != "pixels" else "as pixel values 0-255"
    try:
        x = model_inputs(x, task, shape)
        scores = model.predict(x, batch_size=250 if segmentation else 500, verbose=0)
    except Exception as exc:  # noqa: BLE001 - wrong shapes etc. are the student's to fix
        return {"ok": False, "error": f"the model does not accept {task} test images of shape "
                                      f"{x.shape[1:]} {scaled}: {type(exc).__name__}: {exc}"}
    scores = np.asarray(scores)
    conv = sum(type(layer).__name__ in CONV_CLASSES for layer in _layers(model))
    verdict = {"ok": True, "n": len(y), "conv_layers": int(conv), "params": int(model.count_params())}
    if segmentation:
        from course.canvases import N_CLASSES

        if scores.shape[1:] != (*y.shape[1:], N_CLASSES):
            return {"ok": False, "error": f"the model outputs shape {scores.shape[1:]}, not "
                                          f"{N_CLASSES} class scores per pixel {(*y.shape[1:], N_CLASSES)}"}
        pred = scores.argmax(axis=-1)
        miou, _ = mean_iou(pred, y, N_CLASSES)
        return verdict | {"metric": "mean IoU", "score": miou, "accuracy": float(np.mean(pred == y))}
    if scores.ndim != 2 or scores.shape[1] != 10:
        return {"ok": False, "error": f"the model outputs shape {scores.shape[1:]}, not 10 class scores"}
    accuracy = float(np.mean(scores.argmax(axis=1) == y))
    return verdict | {"metric": "test accuracy", "score": accuracy, "accuracy": accuracy}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: print the JSON verdict for one model file."""
    args = argv or sys.argv[1:]
    path, task = args[:2]
    seed = int(args[2]) if len(args) > 2 else None
    print(json.dumps(evaluate(path, task, seed)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
