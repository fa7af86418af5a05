"""Digits on a canvas: a semantic-segmentation data set generated from MNIST.

:func:`make_canvases` places one to a few MNIST digits, each cropped to its
ink, at random non-overlapping positions on a larger black canvas, and
labels every pixel: ``0`` for background, ``d + 1`` for a pixel of digit
``d`` whose intensity is at least :data:`INK` (so the mask has
:data:`N_CLASSES` = 11 classes).  It is deterministic given its seed, so a
notebook, its graded run and the grader all see the same canvases when they
use the same digits and seed.

The course draws **training** canvases from MNIST training digits only
(:func:`course.data.load_digit_canvases`); the grader draws its test canvases
from the MNIST *test* digits with a seed of its own.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CLASS_NAMES", "INK", "N_CLASSES", "SIZE", "class_shares", "make_canvases"]

SIZE = 48
"""Default canvas height and width in pixels."""

INK = 128
"""A digit pixel at or above this intensity is labelled as the digit; fainter ones as background."""

N_CLASSES = 11
"""Background plus the ten digits."""

CLASS_NAMES = ("background", *(f"digit {d}" for d in range(10)))
"""Mask value ``k`` means ``CLASS_NAMES[k]``."""


def _ink_box(image: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of the smallest box holding every non-zero pixel of ``image``."""
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    if rows.size == 0:
        return slice(0, 1), slice(0, 1)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def make_canvases(images: np.ndarray, labels: np.ndarray, n: int, size: int = SIZE,
                  digits: tuple[int, int] = (1, 3), seed: int = 0, tries: int = 30):
    """``(x, mask, counts)``: ``n`` canvases of ``size`` × ``size`` built from ``images``.

    ``images``: uint8 digits ``(M, 28, 28)`` with their ``labels`` ``(M,)``.
    Each canvas holds between ``digits[0]`` and ``digits[1]`` digits drawn
    at random (with replacement) from ``images``; a digit that finds no free
    place after ``tries`` random positions is left out (``counts`` says how
    many each canvas holds).  Returns ``x``: uint8 ``(n, size, size)``,
    ``mask``: uint8 ``(n, size, size)`` in ``0 .. N_CLASSES - 1``, ``counts``:
    int ``(n,)``.
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"images must be (M, H, W) with M labels, got {images.shape} and "
                         f"{labels.shape}")
    if size < images.shape[1] or size < images.shape[2]:
        raise ValueError(f"a canvas of {size} pixels cannot hold {images.shape[1:]} digits")
    low, high = digits
    if not 1 <= low <= high:
        raise ValueError(f"digits must be (low, high) with 1 <= low <= high, got {digits}")
    rng = np.random.default_rng(seed)
    x = np.zeros((n, size, size), np.uint8)
    mask = np.zeros((n, size, size), np.uint8)
    counts = np.zeros(n, int)
    for i in range(n):
        taken = np.zeros((size, size), bool)
        for j in rng.integers(0, len(images), size=rng.integers(low, high + 1)):
            rows, cols = _ink_box(images[j])
            crop = images[j][rows, cols]
            h, w = crop.shape
            for _ in range(tries):
                r, c = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
                if not taken[r:r + h, c:c + w].any():
                    break
            else:
                continue
            # a one-pixel margin keeps neighbouring digits from touching
            taken[max(r - 1, 0):r + h + 1, max(c - 1, 0):c + w + 1] = True
            x[i, r:r + h, c:c + w] = crop
            mask[i, r:r + h, c:c + w] = np.where(crop >= INK, int(labels[j]) + 1, 0)
            counts[i] += 1
    return x, mask, counts


def class_shares(mask: np.ndarray) -> np.ndarray:
    """Share of the pixels of ``mask`` in each of the :data:`N_CLASSES` classes."""
    counts = np.bincount(np.asarray(mask).ravel(), minlength=N_CLASSES)
    return counts / counts.sum()
