"""Chapter 4's shift explorer, driven in JupyterLab by headless Chromium.

Opens the *release* (student) notebook, runs all cells (execution stops at the
first exercise, which raises NotImplementedError; the explorer in section 7
comes before it), moves the "Shift x" and "Window" sliders with the keyboard and
checks the readout against counts computed here from first principles with
numpy: a max-pooled value is unchanged when its window's maximum is, a
convolution output (generic weights) when its window's content is.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.browser.conftest import lab_fixture, labelled, run_all_cells

pytestmark = pytest.mark.browser

ASSIGNMENT = "ch04_pooling"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
CELL_TIMEOUT_MS = 180_000  # the notebook imports TensorFlow and builds four ImageNet models first
UI_TIMEOUT_MS = 60_000


ch04_lab = lab_fixture(ASSIGNMENT)


def _digit() -> np.ndarray:
    """MNIST x_test[0] scaled to [0, 1], the explorer's default pattern."""
    from course.data import load_mnist

    (_, _), (x_test, _) = load_mnist()
    return x_test[0].astype(np.float32) / 255.0


def _expected(image: np.ndarray, dx: int, window: int, stride: int) -> tuple[str, str]:
    """("u of a", "u of a") for max pooling and a convolution, image moved ``dx`` px right."""
    moved = np.zeros_like(image)
    if dx >= 0:
        moved[:, dx:] = image[:, :image.shape[1] - dx]
    else:
        moved[:, :dx] = image[:, -dx:]
    n_out = (image.shape[0] - window) // stride + 1
    active = pool_same = conv_same = 0
    for i in range(n_out):
        for j in range(n_out):
            rows, cols = slice(i * stride, i * stride + window), slice(j * stride, j * stride + window)
            before, after = image[rows, cols], moved[rows, cols]
            if before.any() or after.any():
                active += 1
                pool_same += int(before.max() == after.max())
                conv_same += int(np.array_equal(before, after))
    return f"{pool_same} of {active}", f"{conv_same} of {active}"


def _nudge(explorer, label: str, key: str) -> None:
    """Press ``key`` (e.g. ArrowRight: one step) on the handle of the slider labelled ``label``."""
    handle = labelled(explorer, "widget-hslider", label).locator(".noUi-handle")
    handle.focus()
    handle.press(key)


def test_shift_explorer_counts_unchanged_outputs(ch04_lab, page):
    from playwright.sync_api import expect

    page.goto(ch04_lab.url(f"lab/tree/{NOTEBOOK}"), wait_until="domcontentloaded")
    notebook = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Cell")).first
    expect(notebook).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator("#jp-menu-panel")).to_be_visible(timeout=UI_TIMEOUT_MS)
    ch04_lab.wait_for_kernel_ready(NOTEBOOK, timeout=UI_TIMEOUT_MS / 1000)

    run_all_cells(page, timeout_ms=UI_TIMEOUT_MS)

    explorer = notebook.locator(".jp-OutputArea-output").filter(
        has=page.locator(".cnn-shift-readout")).first
    pool_cell = explorer.locator(".cnn-shift-readout .cnn-pool-unchanged")
    conv_cell = explorer.locator(".cnn-shift-readout .cnn-conv-unchanged")
    digit = _digit()

    # No shift: every active output is unchanged, for both layers.
    pool0, conv0 = _expected(digit, 0, 2, 2)
    assert pool0 == conv0
    expect(pool_cell).to_have_text(pool0, timeout=CELL_TIMEOUT_MS)
    expect(conv_cell).to_have_text(conv0)

    # One pixel to the right.
    _nudge(explorer, "Shift x", "ArrowRight")
    pool1, conv1 = _expected(digit, 1, 2, 2)
    expect(pool_cell).to_have_text(pool1, timeout=UI_TIMEOUT_MS)
    expect(conv_cell).to_have_text(conv1)
    u, a = (int(v) for v in pool1.split(" of "))
    assert 0 < u < a, "the lesson's point: some, not all, pooled outputs survive a 1-pixel shift"
    expect(explorer.locator(".cnn-shift-readout .cnn-pool-fraction")).to_have_text(f"{100 * u / a:.1f}%")

    # Overlapping 3x3 windows, stride 2, same shift.
    _nudge(explorer, "Window", "ArrowRight")
    pool3, conv3 = _expected(digit, 1, 3, 2)
    expect(pool_cell).to_have_text(pool3, timeout=UI_TIMEOUT_MS)
    expect(conv_cell).to_have_text(conv3)
    assert pool3 != pool1
