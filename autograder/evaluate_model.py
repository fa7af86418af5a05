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

CONV_CLASSES = {"Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv1D", "Conv3D"}


def _layers(model):
    """All layers, nested models flattened."""
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _layers(layer)
        yield layer


def test_data(task: str):
    """``(x, y)`` of the task's official test set, scaled to [0, 1]."""
    from course import data
    from course.graded_data import GRADED_DATA_ENV

    os.environ.pop(GRADED_DATA_ENV, None)  # the grader's evaluation always uses the real test set
    if task in ("mnist", "ch09_mnist"):
        (_, _), (x, y) = data.load_mnist()
    elif task == "fashion_mnist":
        (_, _), (x, y) = data.load_fashion_mnist()
    else:
        raise ValueError(f"unknown task {task!r}")
    return x.astype("float32") / 255.0, y


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
    try:
        x = x.reshape((len(x), *shape))
        scores = model.predict(x, batch_size=500, verbose=0)
    except Exception as exc:  # noqa: BLE001 - wrong shapes etc. are the student's to fix
        return {"ok": False, "error": f"the model does not accept {task} test images of shape "
                                      f"{x.shape[1:]} scaled to [0, 1]: {type(exc).__name__}: {exc}"}
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
