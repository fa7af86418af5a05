"""Chapter 9's live training curves and error explorer, driven in JupyterLab by headless Chromium.

Opens the *release* (student) notebook with the server (hence its kernel) in the
``smoke`` profile, so the tutorial baseline trains for one epoch on 1,000 images
with a 500-image validation set, and runs all cells (execution stops at exercise 1's
test cell, whose call of the unfinished ``preprocess`` raises NotImplementedError; both
widgets come before it).  Then:

* ``LiveHistory``'s status reaches "epoch 1 done" and its validation accuracy is
  1 - N/500, N being the number of validation errors the next cell prints (the
  same model on the same images: Keras's ``val_accuracy`` at the end of ``fit``
  and the notebook's own ``predict``); the curves are rendered as a PNG;
* the error explorer's count is N with True=any, Predicted=any; the counts for
  True=0..9 sum to N; True=c, Predicted=c shows 0; and, for the true class with
  the most errors, the counts over Predicted=0..9 sum to that class's count.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import lab_fixture, labelled, open_notebook, run_all_cells

pytestmark = pytest.mark.browser

ASSIGNMENT = "ch09_mnist"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
N_VAL = 500  # the smoke profile's validation set
CELL_TIMEOUT_MS = 300_000  # importing TensorFlow, loading MNIST and one epoch, on a loaded 2-core box
UI_TIMEOUT_MS = 60_000
UPDATE_TIMEOUT_S = 60  # one explorer update: a comm round trip and a matplotlib figure


ch09_lab = lab_fixture(ASSIGNMENT, env={"CNN_COURSE_PROFILE": "smoke"})


def _rendered_png(img) -> tuple[int, int]:
    """``(naturalWidth, naturalHeight)`` of a decoded PNG ``<img>`` (asserts it is a PNG data URL)."""
    src = img.get_attribute("src") or ""
    assert src.startswith("data:image/png"), f"expected an inline PNG, got src={src[:60]!r}"
    img.evaluate("el => el.decode()")
    return tuple(img.evaluate("el => [el.naturalWidth, el.naturalHeight]"))


class Explorer:
    """The error explorer's dropdowns, count and figure, with a wait for each redraw."""

    def __init__(self, output):
        self.output = output
        self.true_dd = labelled(output, "widget-dropdown", "True").locator("select")
        self.pred_dd = labelled(output, "widget-dropdown", "Predicted").locator("select")
        self.count = output.locator(".cnn-error-count .cnn-errors")
        self.figure = output.locator(".widget-output img")

    def options(self, dropdown) -> list[str]:
        return [text.strip() for text in dropdown.locator("option").all_text_contents()]

    def shown(self) -> int:
        return int(self.count.text_content(timeout=UI_TIMEOUT_MS))

    def select(self, true: str, predicted: str) -> int:
        """Set both dropdowns (by label), wait for the kernel's redraw, return the count shown.

        ``update`` sets the count and then replaces the figure, so a figure that is not
        the one marked before the change means the count belongs to the new selection.
        The selection may equal the current one; then nothing is sent and nothing waited for.
        """
        changes = [(dd, label) for dd, label in ((self.true_dd, true), (self.pred_dd, predicted))
                   if dd.evaluate("el => el.options[el.selectedIndex].text").strip() != label]
        for dropdown, label in changes:
            self.figure.first.evaluate("el => el.setAttribute('data-test-old', '1')")
            dropdown.select_option(label=label)
            self._wait_for_new_figure(f"True={true}, Predicted={predicted}")
        return self.shown()

    def _wait_for_new_figure(self, what: str) -> None:
        deadline = time.monotonic() + UPDATE_TIMEOUT_S
        fresh = self.output.locator(".widget-output img:not([data-test-old])")
        while time.monotonic() < deadline:
            if fresh.count() == 1 and self.figure.count() == 1:
                _rendered_png(fresh)
                return
            time.sleep(0.2)
        raise AssertionError(f"the explorer did not redraw within {UPDATE_TIMEOUT_S} s for {what}")


def test_live_history_and_error_explorer(ch09_lab, page):
    from playwright.sync_api import expect

    notebook = open_notebook(page, ch09_lab, NOTEBOOK, timeout_ms=UI_TIMEOUT_MS)
    started = time.monotonic()
    run_all_cells(page)

    # --- LiveHistory: epoch 1 done, a validation accuracy, a rendered curve --------------------
    live = notebook.locator(".jp-OutputArea-output").filter(has=page.locator(".cnn-live-status")).first
    status = live.locator(".cnn-live-status")
    expect(status).to_contain_text(re.compile(r"epoch 1 done"), timeout=CELL_TIMEOUT_MS)
    status_text = status.inner_text()
    assert re.search(r"^tutorial baseline: epoch 1 done, \d+ s, val accuracy \d\.\d{4}$",
                     status_text.strip()), status_text
    val_acc_text = live.locator(".cnn-val-acc").text_content().strip()
    assert re.fullmatch(r"[01]\.\d{4}", val_acc_text), val_acc_text
    curve = live.locator(".widget-output img")
    expect(curve).to_have_count(1, timeout=UI_TIMEOUT_MS)
    width, height = _rendered_png(curve)
    assert width > 300 and height > 100, f"training-curve image is {width}x{height}"

    # --- the printed error count, from the notebook's own predict ------------------------------
    errors_re = re.compile(rf"^(\d+) validation errors out of {N_VAL}$", re.MULTILINE)
    printed = notebook.locator(".jp-OutputArea-output").filter(has_text=errors_re)
    expect(printed).to_have_count(1, timeout=CELL_TIMEOUT_MS)
    n_errors = int(errors_re.search(printed.inner_text()).group(1))
    assert 0 < n_errors < N_VAL, f"{n_errors} errors out of {N_VAL}"
    # Keras's val_accuracy (end of fit, dropout off, batches of 128) and the notebook's predict
    # (batches of 1000) classify the same 500 images with the same weights.
    assert val_acc_text == f"{1 - n_errors / N_VAL:.4f}", (
        f"live status shows val accuracy {val_acc_text}, but {n_errors}/{N_VAL} errors "
        f"means {1 - n_errors / N_VAL:.4f}")

    # Let Run All finish (it stops at exercise 1's test cell) so the explorer's updates are not queued
    # behind the remaining cells.
    stopped = notebook.locator(".jp-OutputArea-output").filter(has_text="NotImplementedError")
    expect(stopped).to_have_count(1, timeout=CELL_TIMEOUT_MS)
    ch09_lab.wait_for_kernel_ready(NOTEBOOK, timeout=UI_TIMEOUT_MS / 1000)
    outputs = notebook.locator(".jp-OutputArea-output")
    assert outputs.filter(has_text="Visible tests passed").count() == 0, "Run All went past exercise 1"

    # --- error explorer ------------------------------------------------------------------------
    explorer = Explorer(notebook.locator(".jp-OutputArea-output").filter(
        has=page.locator(".cnn-error-count")).first)
    expect(explorer.count).to_have_count(1, timeout=UI_TIMEOUT_MS)
    classes = [str(c) for c in range(10)]
    assert explorer.options(explorer.true_dd) == ["any", *classes]
    assert explorer.options(explorer.pred_dd) == ["any", *classes]
    expect(explorer.figure).to_have_count(1, timeout=UI_TIMEOUT_MS)
    _rendered_png(explorer.figure)
    assert explorer.shown() == n_errors, "True=any, Predicted=any must show every validation error"

    per_true = {c: explorer.select(c, "any") for c in classes}
    assert sum(per_true.values()) == n_errors, f"per true class {per_true} do not sum to {n_errors}"

    for c in classes:
        assert explorer.select(c, c) == 0, f"True={c}, Predicted={c} is a correct answer, not an error"

    worst = max(classes, key=lambda c: per_true[c])
    per_pred = {p: explorer.select(worst, p) for p in classes}
    assert per_pred[worst] == 0
    assert sum(per_pred.values()) == per_true[worst], (
        f"True={worst}: per predicted class {per_pred} do not sum to {per_true[worst]}")

    assert explorer.select("any", "any") == n_errors
    print(f"\nvalidation errors {n_errors}, val accuracy {val_acc_text}, per true class {per_true}, "
          f"true {worst} by predicted {per_pred}; {time.monotonic() - started:.0f} s after Run All")
