"""Chapter 2's calculator widget, driven in JupyterLab by headless Chromium.

Opens the *release* (student) notebook, runs all cells (execution stops at the
first exercise, which raises NotImplementedError; the calculator in section 5
comes before it), then changes the calculator's controls and checks that the
Keras-backed summary follows.
"""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import labelled, open_notebook, run_all_cells

pytestmark = pytest.mark.browser

NOTEBOOK = "ch02_params_and_memory.ipynb"
CELL_TIMEOUT_MS = 120_000  # the setup cell imports TensorFlow: slow on small machines
UI_TIMEOUT_MS = 60_000


def test_calculator_widget_updates(ch02_lab, page):
    from playwright.sync_api import expect

    start = time.monotonic()

    def phase(name: str) -> None:
        print(f"{time.monotonic() - start:6.1f} s  {name}")

    notebook = open_notebook(page, ch02_lab, NOTEBOOK, timeout_ms=UI_TIMEOUT_MS)
    phase("notebook open, kernel idle and connected")
    run_all_cells(page)

    calc = notebook.locator(".jp-OutputArea-output").filter(
        has=page.locator(".cnn-calc-summary")).first
    total = calc.locator(".cnn-calc-summary .cnn-total-params")
    expect(total).to_have_text("903,400", timeout=CELL_TIMEOUT_MS)
    phase("calculator rendered")

    def output_shapes():
        return calc.locator(".cnn-calc-summary table tr").filter(has=page.locator("td")).locator(
            "td:nth-child(2)")

    expect(output_shapes()).to_have_text(["(100, 150, 100)", "(50, 75, 200)", "(25, 38, 400)"])

    # Filters: a Text widget with continuous_update=False, so the value is sent on Enter.
    filters = labelled(calc, "widget-text", "Filters").locator("input")
    expect(filters).to_have_count(1)
    filters.fill("10, 20, 40")
    filters.press("Enter")
    # (3*3*3+1)*10 + (3*3*10+1)*20 + (3*3*20+1)*40 = 280 + 1,820 + 7,240
    expect(total).to_have_text("9,340", timeout=UI_TIMEOUT_MS)
    expect(output_shapes()).to_have_text(["(100, 150, 10)", "(50, 75, 20)", "(25, 38, 40)"])
    phase("filters applied")

    # Padding "valid": shapes shrink to floor((n - 3) / 2) + 1, parameters do not change.
    padding = labelled(calc, "widget-dropdown", "Padding").locator("select")
    expect(padding).to_have_count(1)
    padding.select_option("valid")
    expect(output_shapes()).to_have_text(["(99, 149, 10)", "(49, 74, 20)", "(24, 36, 40)"],
                                         timeout=UI_TIMEOUT_MS)
    expect(total).to_have_text("9,340")
    expect(calc.locator(".cnn-calc-error")).to_have_count(0)
    phase("padding applied")
