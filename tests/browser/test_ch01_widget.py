"""Chapter 1's shift explorer, driven in JupyterLab by headless Chromium.

Opens the *release* (student) notebook in the ``smoke`` profile (the explorer's readouts
do not depend on how well the models trained), runs all cells (the training experiment of
section 5 runs first; execution then stops at the first exercise, which raises
NotImplementedError; the explorer in section 6 comes before it), shifts the digit with
the dx slider and checks the readouts: the pixel correlation against numpy, the
equivariance readout against the theorem (exactly 1 for a stride-1 convolution away
from the borders), and the dense layer's responses against "they changed".
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.browser.conftest import lab_fixture, run_all_cells

pytestmark = pytest.mark.browser

ASSIGNMENT = "ch01_cnn_vs_dnn"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
RUN_TIMEOUT_MS = 300_000  # the notebook trains three small models before the explorer renders
UI_TIMEOUT_MS = 60_000


ch01_lab = lab_fixture(ASSIGNMENT, env={"CNN_COURSE_PROFILE": "smoke"})


def _set_slider(page, slider, value: int) -> None:
    """Type ``value`` into an ipywidgets slider's editable readout and press Enter."""
    readout = slider.locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")


def _pixel_correlation(dy: int, dx: int) -> str:
    """Correlation of test digit 0 with itself moved (dy down, dx right, zero fill), from numpy."""
    from course.data import load_mnist

    image = load_mnist()[1][0][0].astype(np.float64) / 255
    moved = np.zeros_like(image)
    h, w = image.shape
    moved[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return f"{np.corrcoef(image.ravel(), moved.ravel())[0, 1]:.3f}"


def test_shift_explorer_updates(ch01_lab, page):
    from playwright.sync_api import expect

    page.goto(ch01_lab.url(f"lab/tree/{NOTEBOOK}"), wait_until="domcontentloaded")
    notebook = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Cell")).first
    expect(notebook).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator("#jp-menu-panel")).to_be_visible(timeout=UI_TIMEOUT_MS)
    ch01_lab.wait_for_kernel_ready(NOTEBOOK, timeout=UI_TIMEOUT_MS / 1000)

    run_all_cells(page, timeout_ms=UI_TIMEOUT_MS)

    explorer = notebook.locator(".jp-OutputArea-output").filter(
        has=page.locator(".cnn-shift-readout")).first
    shift = explorer.locator(".cnn-shift")
    expect(shift).to_have_text("dx=0, dy=0", timeout=RUN_TIMEOUT_MS)
    for name in ("pixel", "dense", "conv-raw", "conv", "pooled"):
        expect(explorer.locator(f".cnn-{name}-corr")).to_have_text("1.000")

    dx_slider = explorer.locator(".cnn-ctl-dx")
    expect(dx_slider).to_have_count(1)
    _set_slider(page, dx_slider, 3)
    expect(shift).to_have_text("dx=3, dy=0", timeout=UI_TIMEOUT_MS)
    expect(explorer.locator(".cnn-pixel-corr")).to_have_text(_pixel_correlation(0, 3))
    # Translation equivariance: conv(shift(x)) == shift(conv(x)) away from the borders.
    expect(explorer.locator(".cnn-conv-corr")).to_have_text("1.000")
    dense = float(explorer.locator(".cnn-dense-corr").inner_text())
    raw = float(explorer.locator(".cnn-conv-raw-corr").inner_text())
    assert dense < 0.99 and raw < 0.99, (dense, raw)

    dy_slider = explorer.locator(".cnn-ctl-dy")
    _set_slider(page, dy_slider, -2)
    expect(shift).to_have_text("dx=3, dy=-2", timeout=UI_TIMEOUT_MS)
    expect(explorer.locator(".cnn-pixel-corr")).to_have_text(_pixel_correlation(-2, 3))
    expect(explorer.locator(".cnn-conv-corr")).to_have_text("1.000")
