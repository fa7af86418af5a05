"""course.ch07: the FCN plumbing keeps weights and geometry, canvases place digits."""

from __future__ import annotations

import numpy as np
import pytest

from course import ch07


def _reshape(kernel, bias, input_shape):
    return kernel.reshape(*input_shape, kernel.shape[1]), bias


def test_fully_convolutional_keeps_every_weight_and_prediction():
    model = ch07.classifier()
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    fcn = ch07.fully_convolutional(model, _reshape)
    assert fcn.count_params() == model.count_params()
    np.testing.assert_allclose(fcn.predict(x, verbose=0)[:, 0, 0], model.predict(x, verbose=0), atol=1e-6)
    assert fcn.predict(np.zeros((1, 56, 84, 1), "float32"), verbose=0).shape == (1, 8, 15, 10)


def test_fully_convolutional_uses_the_conversion_it_is_given():
    model = ch07.classifier()

    def zeros(kernel, bias, input_shape):
        return np.zeros((*input_shape, kernel.shape[1])), np.zeros_like(bias)

    out = ch07.fully_convolutional(model, zeros).predict(np.ones((1, 28, 28, 1), "float32"), verbose=0)
    np.testing.assert_allclose(out, 0.1, atol=1e-6)   # all-zero logits: a uniform softmax


def test_canvas_pastes_digits_and_keeps_the_brightest_pixel_where_they_overlap():
    digits = np.zeros((2, 28, 28, 1), "float32")
    digits[0, 0, 0], digits[1, 0, 0] = 0.3, 0.9
    board = ch07.canvas(digits, [(5, 7), (5, 7)], size=(40, 50))
    assert board.shape == (40, 50, 1) and board[5, 7, 0] == pytest.approx(0.9) and board.sum() == pytest.approx(0.9)
    edge = ch07.canvas(digits[:1], [(30, 40)], size=(40, 50))   # clipped at the border
    assert edge[30, 40, 0] == pytest.approx(0.3)
