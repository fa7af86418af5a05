"""Chapter 5's lateral-inhibition widget, driven in JupyterLab by headless Chromium.

Opens the *release* (student) notebook, runs all cells (execution stops at the
first exercise, which raises NotImplementedError; the widget in section 5 comes
before it), then moves the widget's sliders and checks the neighbour channel's
output against the LRN formula computed here with numpy.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.browser.conftest import lab_fixture, run_all_cells, set_slider

pytestmark = pytest.mark.browser

ASSIGNMENT = "ch05_lrn"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
CELL_TIMEOUT_MS = 180_000  # the cells before the widget import TensorFlow and build 4 Keras models
UI_TIMEOUT_MS = 60_000


ch05_lab = lab_fixture(ASSIGNMENT)


def lrn_at_pixel(values, depth_radius, bias, alpha, beta):
    """TensorFlow's documented LRN formula on one pixel's channel vector (float64)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    for d in range(len(values)):
        window = values[max(0, d - depth_radius):d + depth_radius + 1]
        out[d] = values[d] / (bias + alpha * np.sum(window ** 2)) ** beta
    return out



def _wait_for_value(locator, want: float, timeout_s: float = UI_TIMEOUT_MS / 1000) -> None:
    """Wait until ``locator`` shows a number within 1e-3 (relative) of ``want``.

    The widget prints 4 significant digits of a float32 computation; ``want`` is float64.
    """
    deadline = time.monotonic() + timeout_s
    text = None
    while time.monotonic() < deadline:
        text = locator.text_content(timeout=UI_TIMEOUT_MS)
        try:
            if abs(float(text) - want) <= 1e-3 * abs(want):
                return
        except ValueError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"readout shows {text!r}, expected about {want:.6g}")


def test_inhibition_widget_follows_its_sliders(ch05_lab, page):
    from playwright.sync_api import expect

    from course.ch05 import FAR_CHANNEL, NEIGHBOUR_CHANNEL, PIXEL_ACTIVATIONS, STRONG_CHANNEL

    page.goto(ch05_lab.url(f"lab/tree/{NOTEBOOK}"), wait_until="domcontentloaded")
    notebook = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Cell")).first
    expect(notebook).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator("#jp-menu-panel")).to_be_visible(timeout=UI_TIMEOUT_MS)
    ch05_lab.wait_for_kernel_ready(NOTEBOOK, timeout=UI_TIMEOUT_MS / 1000)

    run_all_cells(page, timeout_ms=UI_TIMEOUT_MS)

    widget = notebook.locator(".jp-OutputArea-output").filter(has=page.locator(".lrn-readout")).first
    neighbour = widget.locator(".lrn-readout .lrn-neighbour-out")
    far_gain = widget.locator(".lrn-readout .lrn-far-gain")
    expect(neighbour).to_have_count(1, timeout=CELL_TIMEOUT_MS)

    def expect_readout(strong, **params):
        values = list(PIXEL_ACTIVATIONS)
        values[STRONG_CHANNEL] = strong
        out = lrn_at_pixel(values, **params)
        _wait_for_value(neighbour, out[NEIGHBOUR_CHANNEL])
        _wait_for_value(far_gain, out[FAR_CHANNEL] / values[FAR_CHANNEL])

    defaults = {"depth_radius": 2, "bias": 1.0, "alpha": 0.1, "beta": 0.75}
    expect_readout(PIXEL_ACTIVATIONS[STRONG_CHANNEL], **defaults)

    # Radius 0: every channel only normalizes itself; the neighbour is no longer inhibited.
    set_slider(widget, "Radius", "0")
    expect_readout(PIXEL_ACTIVATIONS[STRONG_CHANNEL], **dict(defaults, depth_radius=0))

    # A stronger winner and a radius that reaches the far channel (8 channels away).
    set_slider(widget, "Strong", "12")
    set_slider(widget, "Radius", "8")
    expect_readout(12.0, **dict(defaults, depth_radius=8))
