"""Data in a graded run: the grader holds the test set, the notebook gets a stand-in.

A chapter whose saved model is graded on a test set (chapter 9: MNIST) must
not hand that test set to the student's kernel, or a model could be trained
on it (or memorize it) and buy the points.  In a graded run the grader's
sandbox therefore hides every copy of the test set (the Keras cache, the
packaged file) and binds a folder of its own at the path named by
:data:`GRADED_DATA_ENV`, holding for each withheld data set ``NAME.npz``
with the official *training* images and labels and a **stand-in** for the
test split: the training images :data:`STANDIN` (50,000 to 59,999), so the
notebook still runs top to bottom.  :func:`course.data.load_mnist` then
returns that stand-in in place of ``x_test, y_test`` and says so once.
Accuracies the notebook prints on it are not test accuracies; the grader
measures the saved model on the real test set itself.

Outside a graded run none of this is active and the loaders behave as usual.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["GRADED_DATA_ENV", "STANDIN", "TITLES", "graded_data_dir", "load_graded", "test_set_withheld"]

GRADED_DATA_ENV = "CNN_COURSE_GRADED_DATA"
"""Environment variable the grading sandbox sets to the folder of graded-run data."""

STANDIN = slice(50_000, 60_000)
"""Training images that stand in for the test split in a graded run."""

TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
"""Data-set names as people write them."""
_announced: set[str] = set()


def graded_data_dir() -> Path | None:
    """The graded-run data folder, or ``None`` outside a graded run."""
    value = os.environ.get(GRADED_DATA_ENV, "")
    return Path(value) if value else None


def test_set_withheld(name: str = "mnist") -> bool:
    """Whether this is a graded run in which the grader holds the test set of ``name``."""
    folder = graded_data_dir()
    return folder is not None and (folder / f"{name}.npz").is_file()


def standin_notice(name: str) -> str:
    """The one sentence a graded notebook prints about its stand-in test set."""
    title = TITLES.get(name, name)
    return (f"Graded run: the grader holds the {title} test set, so x_test/y_test here are a "
            f"stand-in (training images {STANDIN.start:,} to {STANDIN.stop - 1:,}); accuracies "
            f"printed on them are not test accuracies, and the grader measures your saved model "
            f"on the real test set itself.")


def load_graded(name: str):
    """``((x_train, y_train), (x_standin, y_standin))`` of a graded run, or ``None``.

    ``None`` outside a graded run, or when the grader withholds nothing of
    ``name``.  Prints :func:`standin_notice` the first time.
    """
    if not test_set_withheld(name):
        return None
    path = graded_data_dir() / f"{name}.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = tuple(npz[key].copy() for key in ("x_train", "y_train", "x_test", "y_test"))
    if name not in _announced:
        _announced.add(name)
        print(standin_notice(name), flush=True)
    x_train, y_train, x_test, y_test = arrays
    return (x_train, y_train), (x_test, y_test)
