"""Chapter 6's architecture explorer, driven in JupyterLab by headless Chromium.

Opens the *release* (student) notebook in the ``smoke`` profile (the lesson's
training comparisons shrink to seconds; the explorer is the same), runs all
cells (execution stops at the first exercise, which raises
NotImplementedError; the explorer in section 6 comes before it), then picks
architectures and checks the readout against Keras models built here.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import lab_fixture, labelled, open_notebook, run_all_cells

pytestmark = pytest.mark.browser

ASSIGNMENT = "ch06_architectures"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
CELL_TIMEOUT_MS = 240_000  # TensorFlow import, six small trainings, four large Keras models
UI_TIMEOUT_MS = 90_000     # building VGG16 (138 M parameters) on first selection takes seconds

ch06_lab = lab_fixture(ASSIGNMENT, env={"CNN_COURSE_PROFILE": "smoke"})


def test_architecture_explorer_follows_the_dropdown(ch06_lab, page):
    import keras
    from playwright.sync_api import expect

    from course.ch06 import depth, googlenet, multiply_adds

    notebook = open_notebook(page, ch06_lab, NOTEBOOK, timeout_ms=UI_TIMEOUT_MS)
    run_all_cells(page, timeout_ms=UI_TIMEOUT_MS)

    widget = notebook.locator(".jp-OutputArea-output").filter(has=page.locator(".arch-readout")).first
    params = widget.locator(".arch-readout .arch-params")
    expect(params).to_have_text("60,965,224", timeout=CELL_TIMEOUT_MS)   # AlexNet, the default
    expect(widget.locator(".arch-readout .arch-depth")).to_have_text("8")

    network = labelled(widget, "widget-dropdown", "Network").locator("select")
    expect(network).to_have_count(1)

    google = googlenet()
    network.select_option("GoogLeNet")
    expect(params).to_have_text(f"{google.count_params():,}", timeout=UI_TIMEOUT_MS)
    expect(widget.locator(".arch-readout .arch-madds")).to_have_text(f"{multiply_adds(google):,}")
    expect(widget.locator(".arch-readout .arch-depth")).to_have_text(str(depth(google)))

    # VGG16 is not built by the lesson: the explorer builds it on first selection.
    vgg = keras.applications.VGG16(weights=None)
    network.select_option("VGG16")
    expect(params).to_have_text(f"{vgg.count_params():,}", timeout=UI_TIMEOUT_MS)
    expect(widget.locator(".arch-readout .arch-depth")).to_have_text("16")
    expect(widget.locator(".arch-readout table")).to_contain_text("VGG16")

    widget.get_by_role("button", name="multiply-adds").click()
    expect(widget.locator(".arch-readout .arch-madds")).to_have_text(f"{multiply_adds(vgg):,}",
                                                                     timeout=UI_TIMEOUT_MS)
