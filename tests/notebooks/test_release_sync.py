"""release/ is exactly what `nbgrader generate_assignment` makes from source/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.cli import assignments
from tests.notebooks.submissions import ROOT

ASSIGNMENTS = assignments(ROOT)


def test_every_source_assignment_is_released():
    released = sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir())
    assert released == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_matches_a_fresh_generation(course_factory, assignment):
    course = course_factory(f"release_{assignment}", [assignment], references=False)  # this run generates it
    for committed in sorted((ROOT / "release" / assignment).rglob("*")):
        if committed.is_dir():
            continue
        fresh = course / "release" / assignment / committed.relative_to(ROOT / "release" / assignment)
        assert fresh.exists(), f"{committed} is not generated any more"
        if committed.suffix == ".ipynb":
            assert json.loads(fresh.read_text()) == json.loads(committed.read_text()), (
                f"{committed.relative_to(ROOT)} is stale: run `cnn-course release {assignment}`")
        else:
            assert fresh.read_bytes() == committed.read_bytes(), committed
    generated = {p.relative_to(course / "release") for p in (course / "release" / assignment).rglob("*")}
    committed_set = {p.relative_to(ROOT / "release") for p in (ROOT / "release" / assignment).rglob("*")}
    assert generated == committed_set, f"files differ: {generated ^ committed_set}"


def test_release_holds_no_solutions_or_hidden_tests():
    for nb in (ROOT / "release").rglob("*.ipynb"):
        text = Path(nb).read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "_probe("):
            assert marker not in text, f"{marker} in {nb}"
