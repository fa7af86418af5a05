"""course.canvases and course.data.load_digit_canvases: the chapter 8 segmentation set."""

from __future__ import annotations

import numpy as np
import pytest

from course.canvases import INK, N_CLASSES, class_shares, make_canvases


def _digits():
    """Three 28x28 'digits': filled squares of different sizes and intensities."""
    images = np.zeros((3, 28, 28), np.uint8)
    images[0, 4:10, 4:10] = 200
    images[1, 10:20, 8:12] = 255
    images[1, 10, 8] = INK - 1            # faint ink: background in the mask
    images[2, 0:3, 0:28] = 130
    return images, np.array([3, 7, 0], np.uint8)


def test_masks_label_the_ink_of_each_digit_and_nothing_else():
    images, labels = _digits()
    x, mask, counts = make_canvases(images, labels, 50, size=48, digits=(1, 3), seed=1)
    assert x.shape == mask.shape == (50, 48, 48) and x.dtype == mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 1, 4, 8} and counts.min() >= 1 and counts.max() <= 3
    assert np.array_equal(mask > 0, x >= INK)     # every labelled pixel is ink, every ink pixel is labelled
    ink = {int(v) for v in np.unique(x[mask == 8])}
    assert ink == {255}, ink                      # digit 7's pixels carry its own intensities
    # each digit's pixel count is preserved: pasted whole, never overlapping another
    per_digit = {1: (images[2] >= INK).sum(), 4: 36, 8: (images[1] >= INK).sum()}
    for k, n in per_digit.items():
        assert all((mask[i] == k).sum() % n == 0 for i in range(50)), k


def test_generation_is_deterministic_and_seeded():
    images, labels = _digits()
    a = make_canvases(images, labels, 20, seed=5)
    b = make_canvases(images, labels, 20, seed=5)
    c = make_canvases(images, labels, 20, seed=6)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_bad_arguments_are_refused_clearly():
    images, labels = _digits()
    with pytest.raises(ValueError, match="cannot hold"):
        make_canvases(images, labels, 1, size=20)
    with pytest.raises(ValueError, match="labels"):
        make_canvases(images, labels[:2], 1)
    with pytest.raises(ValueError, match="low"):
        make_canvases(images, labels, 1, digits=(0, 2))


def test_class_shares_sum_to_one_over_all_classes():
    shares = class_shares(np.array([[0, 0, 3], [10, 0, 0]]))
    assert shares.shape == (N_CLASSES,) and shares.sum() == pytest.approx(1)
    assert shares[0] == pytest.approx(4 / 6) and shares[3] == shares[10] == pytest.approx(1 / 6)


def test_load_digit_canvases_uses_disjoint_training_digits():
    from course.data import load_digit_canvases, load_mnist

    (xt, mt), (xv, mv) = load_digit_canvases(200, 100)
    assert xt.shape == (200, 48, 48) and xv.shape == (100, 48, 48)
    shares = class_shares(mt)
    assert 0.85 < shares[0] < 0.97 and (shares[1:] > 0).all()    # measured: 91.7 % background
    (x, y), _ = load_mnist()
    again = make_canvases(x[:50_000], y[:50_000], 200, seed=0)
    assert np.array_equal(again[0], xt) and np.array_equal(again[1], mt)
    val = make_canvases(x[50_000:], y[50_000:], 100, seed=1)
    assert np.array_equal(val[0], xv) and np.array_equal(val[1], mv)
