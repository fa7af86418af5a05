"""Chapter sources: every ``source/`` notebook is derived from its ``chapters/`` script."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.cli import assignments
from tools import chapters

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = chapters.sources(ROOT)


def test_every_assignment_has_exactly_one_chapter_script():
    assert [s.parent.name for s in SCRIPTS] == assignments(ROOT)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.parent.name)
def test_source_notebook_is_in_sync_with_its_chapter_script(script):
    assert chapters.stale(script) is None


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.parent.name)
def test_cell_ids_are_unique_and_nbgrader_cells_keep_their_metadata(script):
    nb = nbformat.read(chapters.derived_notebook(script), as_version=4)
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids)
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert grade_ids and len(set(grade_ids)) == len(grade_ids)


def _course_copy(tmp_path: Path, assignment: str) -> Path:
    for folder in ("chapters", "source"):
        shutil.copytree(ROOT / folder / assignment, tmp_path / folder / assignment)
    shutil.copy(ROOT / "jupytext.toml", tmp_path / "jupytext.toml")
    return chapters.chapter_script(tmp_path, assignment)


def test_a_stale_notebook_is_detected(tmp_path):
    script = _course_copy(tmp_path, "ch02_params_and_memory")
    script.write_text(script.read_text().replace("info = setup(", "info = setup(  ", 1))
    assert "is stale" in chapters.stale(script)
    assert chapters.sync(script) and chapters.stale(script) is None


def test_inserting_a_cell_changes_no_other_cell_id(tmp_path):
    script = _course_copy(tmp_path, "ch02_params_and_memory")
    before = nbformat.read(chapters.derived_notebook(script), as_version=4)
    text = script.read_text()
    marker = "# %% [markdown]\n# ## 1. Output shapes"
    assert marker in text
    script.write_text(text.replace(marker, "# %%\nprint('a new cell')\n\n" + marker, 1))
    chapters.sync(script)
    after = nbformat.read(chapters.derived_notebook(script), as_version=4)
    assert len(after.cells) == len(before.cells) + 1
    new = [c for c in after.cells if c.source == "print('a new cell')"]
    assert len(new) == 1
    assert [c.id for c in after.cells if c is not new[0]] == [c.id for c in before.cells]
    assert [c.source for c in after.cells if c is not new[0]] == [c.source for c in before.cells]


def test_a_notebook_edited_in_jupyterlab_goes_back_into_its_script(tmp_path):
    script = _course_copy(tmp_path, "ch09_mnist")
    notebook = chapters.derived_notebook(script)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[0].source += "\n\nEdited with create-assignment."
    nb.metadata["jupytext"] = {"formats": "source///ipynb,chapters///py:percent"}  # as Lab writes it
    nbformat.write(nb, notebook)
    chapters.from_notebook(tmp_path, "ch09_mnist")
    assert "# Edited with create-assignment." in script.read_text()
    assert "reference_profile: smoke" in script.read_text()  # course notebook metadata kept
    chapters.sync(script)
    assert chapters.stale(script) is None
    assert "jupytext" not in nbformat.read(notebook, as_version=4).metadata
