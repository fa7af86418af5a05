"""Evaluate one saved Keras model on a held-out test set, as a separate process.

    python -m autograder.evaluate_model MODEL_FILE TASK

Runs inside the grading sandbox (no network, the model file read-only, data
read-only).  The model is loaded with ``safe_mode=True`` and ``compile=False``
(no Lambda layers, no custom objects, no pickled code).  Prints one JSON line:
``{"ok": true, "accuracy": ..., "n": ..., "conv_layers": ..., "params": ...}``
or ``{"ok": false, "error": "..."}``.
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
}
"""Tasks the grader can evaluate a model on.  ``unit``: images scaled to [0, 1] and
reshaped to the model's input; ``pixels``: float 0..255, resized (bilinear) to the
model's input height and width, grey replicated to its number of channels."""


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


def model_inputs(x, task: str, input_shape) -> np.ndarray:
    """Test images ``x`` (uint8, N x H x W) as the model of ``task`` with ``input_shape`` expects them."""
    mode = TASKS[task][1]
    if mode == "unit":
        return (x.astype("float32") / 255.0).reshape((len(x), *input_shape))
    height, width, channels = input_shape
    import keras

    images = x.astype("float32")[..., None]
    if (height, width) != images.shape[1:3]:
        images = keras.ops.convert_to_numpy(keras.ops.image.resize(images, (height, width),
                                                                   interpolation="bilinear"))
    return np.repeat(images, channels, axis=-1) if channels != 1 else images


def evaluate(path: str, task: str) -> dict:
    """Load ``path`` safely and measure its accuracy on ``task``'s test set."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 - any refusal to load is the message
        return {"ok": False, "error": f"the model could not be loaded safely: "
                                      f"{type(exc).__name__}: {str(exc)[:300]}"}
    x, y = test_data(task)
    shape = tuple(d for d in model.input_shape[1:])
    scaled = "scaled to [0, 1]" if TASKS[task][1] == "unit" else "as pixel values 0-255"
    try:
        x = model_inputs(x, task, shape)
        scores = model.predict(x, batch_size=500, verbose=0)
    except Exception as exc:  # noqa: BLE001 - wrong shapes etc. are the student's to fix
        return {"ok": False, "error": f"the model does not accept {task} test images of shape "
                                      f"{x.shape[1:]} {scaled}: {type(exc).__name__}: {exc}"}
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] != 10:
        return {"ok": False, "error": f"the model outputs shape {scores.shape[1:]}, not 10 class scores"}
    accuracy = float(np.mean(scores.argmax(axis=1) == y))
    conv = sum(type(layer).__name__ in CONV_CLASSES for layer in _layers(model))
    return {"ok": True, "accuracy": accuracy, "n": len(y), "conv_layers": int(conv),
            "params": int(model.count_params())}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: print the JSON verdict for one model file."""
    path, task = (argv or sys.argv[1:])[:2]
    print(json.dumps(evaluate(path, task)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
