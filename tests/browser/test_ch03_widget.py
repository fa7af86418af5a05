"""Chapter 3's memory-budget explorer, driven in JupyterLab by headless Chromium.

The explorer displays the *student's* ``training_memory`` and ``largest_batch``
(course/ch03.py holds no estimator), so the test opens the release notebook as a
student who solved the exercises has it: the release with every solution cell
filled in from source/ (as the grading tests do).  It runs all cells, then
changes the controls (dtype, checkpointing, image size, batch, budget) and
checks the readout against totals computed here from first principles.
"""

from __future__ import annotations

import math

import pytest

from tests.browser.conftest import lab_fixture, labelled, run_all_cells
from tests.notebooks.submissions import make_submission

pytestmark = pytest.mark.browser

ASSIGNMENT = "ch03_gpu_memory"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
CELL_TIMEOUT_MS = 300_000  # the whole notebook runs first (TensorFlow import, real tensors)
UI_TIMEOUT_MS = 60_000

# The scenario network, written out here: 224x224x3 input, 3x3 "same" convolutions,
# Flatten, Dense 512, Dense 10 (must agree with course.ch03.SCENARIO, checked below).
FILTERS = (32, 32, 64, 64, 128, 128, 256)
STRIDES = (1, 2, 1, 2, 1, 2, 2)
DENSE = (512, 10)


def lower_bound(size: int, batch: int, var_bytes: int, act_bytes: int, slots: int = 2,
                checkpointing: bool = False) -> int:
    """Parameters + gradients + optimizer state + activations + inputs, in bytes."""
    h = w = size
    channels, params, outputs = 3, 0, []
    for f, s in zip(FILTERS, STRIDES):
        params += (9 * channels + 1) * f
        h, w, channels = math.ceil(h / s), math.ceil(w / s), f
        outputs.append(h * w * f)
    fan_in = h * w * channels
    for units in DENSE:
        params += (fan_in + 1) * units
        outputs.append(units)
        fan_in = units
    if checkpointing:  # keep layers k, 2k, ...; hold one segment's other outputs
        k = math.ceil(math.sqrt(len(outputs)))
        segments = [outputs[i:i + k] for i in range(0, len(outputs), k)]
        kept = sum(seg[-1] for seg in segments if len(seg) == k)
        held = max(sum(seg[:-1]) if len(seg) == k else sum(seg) for seg in segments)
        per_image = kept + held
    else:
        per_image = sum(outputs)
    return (2 + slots) * params * var_bytes + batch * (per_image + size * size * 3) * act_bytes


def largest(budget: float, size: int, var_bytes: int, act_bytes: int, checkpointing: bool = False) -> int:
    b = 0
    while lower_bound(size, b + 1, var_bytes, act_bytes, checkpointing=checkpointing) <= budget:
        b += 1
    return b


def test_first_principles_match_the_scenario():
    from course.ch03 import SCENARIO

    assert SCENARIO["input_shape"] == (224, 224, 3) and tuple(SCENARIO["dense_units"]) == DENSE
    assert [(s["filters"], s["strides"], s["kernel_size"], s["padding"]) for s in SCENARIO["layers"]] == [
        (f, s, 3, "same") for f, s in zip(FILTERS, STRIDES)]
    assert lower_bound(224, 256, 4, 4) == 4_223_117_984  # section 2 of the notebook


def _solved_folder(tmp_path_factory):
    """The ch03 release notebook with the exercises solved (the explorer comes after them)."""
    return make_submission(tmp_path_factory.mktemp("ch03-solved"), ASSIGNMENT, "student").parent


ch03_lab = lab_fixture(ASSIGNMENT, folder=_solved_folder)


def _bytes(n: int) -> str:
    return f"{n:,}"


def test_memory_explorer_updates(ch03_lab, page):
    from playwright.sync_api import expect

    page.goto(ch03_lab.url(f"lab/tree/{NOTEBOOK}"), wait_until="domcontentloaded")
    notebook = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Cell")).first
    expect(notebook).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator("#jp-menu-panel")).to_be_visible(timeout=UI_TIMEOUT_MS)
    ch03_lab.wait_for_kernel_ready(NOTEBOOK, timeout=UI_TIMEOUT_MS / 1000)

    run_all_cells(page, notebook)

    explorer = notebook.locator(".jp-OutputArea-output").filter(has=page.locator(".cnn-mem-readout")).first
    total = explorer.locator(".cnn-mem-total-bytes")
    verdict = explorer.locator(".cnn-mem-verdict")
    biggest = explorer.locator(".cnn-mem-largest")
    budget = 4e9

    # The scenario: 224 px, batch 256, float32, Adam, 4 GB.
    expect(total).to_have_text(_bytes(lower_bound(224, 256, 4, 4)), timeout=CELL_TIMEOUT_MS)
    expect(verdict).to_have_text("does not fit")
    expect(biggest).to_have_text(_bytes(largest(budget, 224, 4, 4)))
    expect(explorer.locator(".cnn-mem-error")).to_have_count(0)

    # Mixed precision: 4-byte variables, 2-byte activations.
    labelled(explorer, "widget-dropdown", "dtype").locator("select").select_option("mixed_float16")
    expect(total).to_have_text(_bytes(lower_bound(224, 256, 4, 2)), timeout=UI_TIMEOUT_MS)
    expect(verdict).to_have_text("fits")
    expect(biggest).to_have_text(_bytes(largest(budget, 224, 4, 2)))

    # Gradient checkpointing on top.
    explorer.locator(".widget-checkbox").filter(has_text="Checkpointing").locator("input").check()
    expect(total).to_have_text(_bytes(lower_bound(224, 256, 4, 2, checkpointing=True)), timeout=UI_TIMEOUT_MS)
    expect(biggest).to_have_text(_bytes(largest(budget, 224, 4, 2, checkpointing=True)))

    # Image size one step (16 px) up, with the keyboard on the slider.
    slider = labelled(explorer, "widget-hslider", "Image size")
    handle = slider.locator(".noUi-handle")
    handle.focus()
    handle.press("ArrowRight")
    expect(slider.locator(".widget-readout")).to_have_text("240", timeout=UI_TIMEOUT_MS)
    expect(total).to_have_text(_bytes(lower_bound(240, 256, 4, 2, checkpointing=True)), timeout=UI_TIMEOUT_MS)

    # A bigger batch (sent on Enter) no longer fits; a bigger budget fits it again.
    batch = labelled(explorer, "widget-text", "Batch size").locator("input")
    batch.fill("1000")
    batch.press("Enter")
    expect(total).to_have_text(_bytes(lower_bound(240, 1000, 4, 2, checkpointing=True)), timeout=UI_TIMEOUT_MS)
    expect(verdict).to_have_text("does not fit")
    gb = labelled(explorer, "widget-text", "Budget (GB)").locator("input")
    gb.fill("80")
    gb.press("Enter")
    expect(verdict).to_have_text("fits", timeout=UI_TIMEOUT_MS)
    expect(biggest).to_have_text(_bytes(largest(80e9, 240, 4, 2, checkpointing=True)))
    expect(explorer.locator(".cnn-mem-error")).to_have_count(0)
