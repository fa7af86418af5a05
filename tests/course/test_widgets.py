"""course.widgets: the shared explorer wiring, and chapter widgets checked without a browser."""

from __future__ import annotations

import numpy as np
import pytest

from course.widgets import View, explorer, fmt_bytes, shift_images

w = pytest.importorskip("ipywidgets")


def test_explorer_renders_the_current_values_and_follows_the_controls():
    calls = []

    def render(values):
        calls.append(dict(values))
        return View(f"<b class='sum'>{values['a'] + values['b']}</b>")

    a, b = w.IntSlider(2), w.IntText(3)
    box = explorer({"a": a, "b": b}, render, readout_class="readout")
    readout = box.children[1].children[0]
    assert "readout" in readout._dom_classes and readout.value == "<b class='sum'>5</b>"
    a.value = 10
    assert readout.value == "<b class='sum'>13</b>" and calls[-1] == {"a": 10, "b": 3}
    assert box.values() == {"a": 10, "b": 3}
    assert box.render({"a": 1, "b": 1}).html == "<b class='sum'>2</b>"  # pure: no control changed
    assert readout.value == "<b class='sum'>13</b>"


def test_explorer_layouts():
    render = lambda values: View("x")
    top = explorer({"a": w.IntSlider()}, render, arrange="top")
    assert isinstance(top, w.VBox) and isinstance(top.children[0], w.HBox)
    with pytest.raises(ValueError, match="arrange"):
        explorer({"a": w.IntSlider()}, render, arrange="diagonal")


def test_fmt_bytes_uses_decimal_units():
    assert fmt_bytes(999) == "999 bytes"
    assert fmt_bytes(4_223_000_000) == "4.22 GB"
    assert fmt_bytes(1_500) == "1.50 kB"


def test_shift_images_moves_content_and_fills_with_zeros():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    moved = shift_images(x, 1, -1)
    assert moved[0].tolist() == [0, 0, 0, 0]
    assert moved[1].tolist() == [1, 2, 3, 0]
    batch = np.stack([x, x])[..., None]
    assert np.array_equal(shift_images(batch, 1, -1)[1, ..., 0], moved)
    assert not shift_images(x, 3, 0).any()


def test_chapter2_calculator_renders_the_question_without_a_browser():
    from course.ch02 import calculator

    box = calculator()
    view = box.render(box.values())
    assert "<b class='cnn-total-params'>903,400</b>" in view.html
    bad = box.render({**box.values(), "filters": "ten"})
    assert "cnn-calc-error" in bad.html and bad.figure is None


def test_chapter5_inhibition_widget_renders_without_a_browser():
    from course.ch05 import inhibition_widget

    box = inhibition_widget()
    values = box.values()
    weak = box.render({**values, "strong": 1.0}).html
    strong = box.render({**values, "strong": 20.0}).html
    assert "lrn-neighbour-out" in weak and weak != strong


def test_chapter6_architecture_explorer_renders_without_a_browser():
    from course.ch06 import architecture_explorer, architecture_stats

    box = architecture_explorer({"LeNet-5": architecture_stats("LeNet-5")})
    lenet = box.render({"name": "LeNet-5", "measure": "params"})
    assert "<b class='arch-params'>61,706</b>" in lenet.html and "<b class='arch-depth'>5</b>" in lenet.html
    assert box.render({"name": "LeNet-5", "measure": "mult_adds"}).figure is not None


def test_chapter7_canvas_widget_renders_without_a_browser():
    from course.ch07 import canvas_widget, classifier, fully_convolutional

    fcn = fully_convolutional(classifier(), lambda k, b, s: (k.reshape(*s, k.shape[1]), b))
    digits = np.random.default_rng(1).random((3, 28, 28, 1)).astype("float32")
    box = canvas_widget(fcn, digits, np.array([3, 1, 4]))
    view = box.render({"index": 1, "top": 8, "left": 20, "cls": 4})
    assert "(top, left) = (8, 20)" in view.html and "score map 8×15, stride 4" in view.html
