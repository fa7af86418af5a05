"""Chapter 7's canvas widget, driven in JupyterLab by headless Chromium.

Opens the *release* (student) notebook in the ``smoke`` profile (the
classifier trains for seconds; the widget is the same), runs all cells
(execution stops at the first exercise, which raises NotImplementedError;
the widget in section 5 comes before it), then moves the digit and checks
that the best cell of the heat map follows it in steps of the stride.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import lab_fixture, open_notebook, run_all_cells, set_slider

pytestmark = pytest.mark.browser

ASSIGNMENT = "ch07_fcn"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
CELL_TIMEOUT_MS = 180_000  # TensorFlow import and a short training run
UI_TIMEOUT_MS = 60_000

ch07_lab = lab_fixture(ASSIGNMENT, env={"CNN_COURSE_PROFILE": "smoke"})



def test_canvas_widget_reports_the_window_under_the_digit(ch07_lab, page):
    from playwright.sync_api import expect

    notebook = open_notebook(page, ch07_lab, NOTEBOOK, timeout_ms=UI_TIMEOUT_MS)
    run_all_cells(page, timeout_ms=UI_TIMEOUT_MS)

    widget = notebook.locator(".jp-OutputArea-output").filter(has=page.locator(".fcn-readout")).first
    readout = widget.locator(".fcn-readout")
    expect(readout.locator(".fcn-best-cell")).to_have_count(1, timeout=CELL_TIMEOUT_MS)
    expect(readout).to_contain_text("score map 8×15, stride 4")
    expect(readout).to_contain_text("(top, left) = (12, 30)")

    # Move the digit to the top-left corner and then 8 px right, 4 px down: the text follows
    # the controls and every best cell's window lies on the 4-pixel grid.
    for top, left in ((0, 0), (4, 8), (28, 56)):
        set_slider(widget, "Top", top)
        set_slider(widget, "Left", left)
        expect(readout).to_contain_text(f"(top, left) = ({top}, {left})", timeout=UI_TIMEOUT_MS)
        text = readout.text_content()
        cell = re.search(r"at cell \((\d+), (\d+)\), which sees pixels rows (\d+)–(\d+), columns (\d+)–(\d+)", text)
        assert cell, text
        i, j, r0, r1, c0, c1 = (int(v) for v in cell.groups())
        assert (r0, c0) == (4 * i, 4 * j) and (r1 - r0, c1 - c0) == (25, 25)
        assert 0 <= i < 8 and 0 <= j < 15
