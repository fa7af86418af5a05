"""course.ch08: colours, predictions and the segmentation explorer's readout."""

from __future__ import annotations

import numpy as np

from course import ch08
from course.canvases import N_CLASSES


def _iou(pred, truth, n):
    out = np.full(n, np.nan)
    for c in range(n):
        union = np.count_nonzero((pred == c) | (truth == c))
        if union:
            out[c] = np.count_nonzero((pred == c) & (truth == c)) / union
    return out


def test_colorize_paints_labels_and_overlays_them_on_the_canvas():
    mask = np.array([[0, 1], [5, 0]])
    rgb = ch08.colorize(mask)
    assert rgb.shape == (2, 2, 3) and (rgb[0, 0] == 0).all()
    np.testing.assert_allclose(rgb[0, 1], ch08.CLASS_COLORS[1])
    over = ch08.colorize(mask, np.full((2, 2), 255, np.uint8), alpha=0.5)
    np.testing.assert_allclose(over[0, 0], 1.0)                      # background shows the canvas
    np.testing.assert_allclose(over[1, 0], 0.5 + 0.5 * ch08.CLASS_COLORS[5])


def test_to_input_scales_like_the_grader():
    x = np.array([[[0, 255]]], np.uint8)
    out = ch08.to_input(x)
    assert out.shape == (1, 1, 2, 1) and out.dtype == np.float32 and out.max() == 1.0


def test_explorer_reports_the_per_class_iou_of_the_chosen_canvas():
    truth = np.zeros((2, 8, 8), np.uint8)
    truth[:, 2:5, 2:5] = 4
    perfect, coarse = truth.copy(), np.zeros_like(truth)
    coarse[:, 2:6, 2:6] = 4
    box = ch08.segmentation_explorer(np.zeros_like(truth), truth, {"a": perfect, "b": coarse}, _iou)
    view = box.render({"canvas": 1, "overlay": True})
    assert "canvas <b class='seg-canvas'>1</b>" in view.html
    assert "<td>digit 3</td><td>1.00</td><td>0.56</td>" in view.html    # 9 / 16
    assert view.html.count("class='seg-miou'") == 2
    assert len(view.figure.axes) == 4
    assert N_CLASSES == 11
