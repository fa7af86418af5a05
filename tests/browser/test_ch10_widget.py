"""Chapter 10's widgets, driven in JupyterLab by headless Chromium.

Serves the *source* notebook (solutions in place, so Run All reaches the
augmentation preview after Exercise 3 and the final explorer after training)
in the ``smoke`` profile (32-pixel images, one epoch per stage; the widgets
are the same). Checks that the freeze/unfreeze explorer counts the parameters
of the blocks it unfreezes (block15 + head of EfficientNet-Lite0: 1,009,792,
BatchNorm excluded), that the final explorer lists the measured stages, and
that the augmentation preview redraws for a new seed and leaves images
unchanged at prediction time.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import lab_fixture, open_notebook, run_all_cells, set_slider

pytestmark = pytest.mark.browser

ASSIGNMENT = "ch10_transfer"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
RUN_TIMEOUT_MS = 400_000  # TensorFlow import, the weights' conversion and two short training runs
UI_TIMEOUT_MS = 60_000


ch10_lab = lab_fixture(ASSIGNMENT, serve="source", env={"CNN_COURSE_PROFILE": "smoke"})


def test_freeze_explorer_and_augmentation_preview(ch10_lab, page):
    from playwright.sync_api import expect

    notebook = open_notebook(page, ch10_lab, NOTEBOOK, timeout_ms=UI_TIMEOUT_MS)
    run_all_cells(page, timeout_ms=UI_TIMEOUT_MS)

    explorers = notebook.locator(".jp-OutputArea-output").filter(has=page.locator(".freeze-readout"))
    expect(explorers).to_have_count(2, timeout=RUN_TIMEOUT_MS)
    first = explorers.first
    readout = first.locator(".freeze-readout")
    expect(readout).to_contain_text("top 0 of 18 blocks unfrozen")
    set_slider(first, "Unfrozen", 2)
    expect(readout).to_contain_text("top 2 of 18 blocks unfrozen", timeout=UI_TIMEOUT_MS)
    expect(readout.locator(".freeze-trainable")).to_have_text("1,009,792")
    expect(readout).to_contain_text("blocks training: block15, head")
    expect(explorers.last.locator(".freeze-readout")).to_contain_text("+ top 2 blocks fine-tuned")

    preview = notebook.locator(".jp-OutputArea-output").filter(has=page.locator(".aug-readout")).first
    aug = preview.locator(".aug-readout")
    expect(aug.locator(".aug-unchanged")).to_have_text("unchanged")
    set_slider(preview, "Seed", 7)
    expect(aug.locator(".aug-seed")).to_have_text("7", timeout=UI_TIMEOUT_MS)
    expect(aug.locator(".aug-unchanged")).to_have_text("unchanged")
