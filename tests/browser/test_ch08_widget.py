"""Chapter 8's segmentation explorer, driven in JupyterLab by headless Chromium.

Serves the *source* notebook (solutions in place, so Run All trains both
models and reaches the explorer) in the ``smoke`` profile (160 canvases, one
epoch per model; the widget is the same).  Checks that the explorer shows the
per-class IoU of both models for the chosen canvas, that moving the slider
redraws it for another canvas, and that the overlay toggle keeps it working.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import lab_fixture, open_notebook, run_all_cells, set_slider

pytestmark = pytest.mark.browser

ASSIGNMENT = "ch08_segmentation"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
RUN_TIMEOUT_MS = 300_000  # TensorFlow import and two one-epoch training runs
UI_TIMEOUT_MS = 60_000


ch08_lab = lab_fixture(ASSIGNMENT, serve="source", env={"CNN_COURSE_PROFILE": "smoke"})


def test_segmentation_explorer_redraws_per_canvas(ch08_lab, page):
    from playwright.sync_api import expect

    notebook = open_notebook(page, ch08_lab, NOTEBOOK, timeout_ms=UI_TIMEOUT_MS)
    run_all_cells(page, timeout_ms=UI_TIMEOUT_MS)

    explorer = notebook.locator(".jp-OutputArea-output").filter(has=page.locator(".seg-readout")).first
    readout = explorer.locator(".seg-readout")
    expect(readout.locator(".seg-canvas")).to_have_text("0", timeout=RUN_TIMEOUT_MS)
    expect(readout.locator(".seg-miou")).to_have_count(2)
    expect(readout).to_contain_text("background")
    expect(readout.locator("th")).to_contain_text(["class", "no skips", "with skips"])
    first = readout.inner_text()
    set_slider(explorer, "Canvas", 5)
    expect(readout.locator(".seg-canvas")).to_have_text("5", timeout=UI_TIMEOUT_MS)
    assert readout.inner_text() != first
    explorer.locator(".widget-checkbox").filter(has_text="Overlay").locator("input").check()
    expect(readout.locator(".seg-canvas")).to_have_text("5", timeout=UI_TIMEOUT_MS)
    expect(explorer.locator("img")).to_have_count(1, timeout=UI_TIMEOUT_MS)
