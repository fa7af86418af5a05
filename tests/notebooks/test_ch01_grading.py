"""Chapter 1 through the real autograde path: full marks, zero, wrong answers, attacks.

Every graded notebook runs the chapter's training experiment (about a minute
or two on 2 CPU cores), so this module grades 11 submissions in one batch.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder import batch, grading
from tests.notebooks import ch01_cases
from tests.notebooks.submissions import ROOT, make_submission

pytestmark = pytest.mark.slow

A = ch01_cases.A
AUTOGRADED = ch01_cases.ALL_CELLS
POINTS = {"test_dense_params": 2, "test_conv_params": 2, "test_conv2d_valid": 3,
          "test_conv2d_strides": 2, "test_conv2d_same": 3}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch01 submission of this module in one nbgrader batch."""
    course = course_factory("ch01", [A])
    make_submission(course, A, "source", raw=ROOT / "source" / A / f"{A}.ipynb")
    make_submission(course, A, "solved")
    make_submission(course, A, "blank", solved=False)
    for name in ch01_cases.WRONG_ANSWERS:
        make_submission(course, A, f"wrong_{name}", overrides=ch01_cases.wrong_answer_overrides(name))
    for name in ch01_cases.ATTACKS:
        make_submission(course, A, f"attack_{name}", overrides=ch01_cases.attack_overrides(name))
    outcomes = batch.grade_batch(course, A, jobs=2, progress=False)  # what `cnn-course grade -j 2` runs
    assert {o.status for o in outcomes.values()} == {"graded"}, outcomes
    return course, grading.cell_scores(course, A)


def auto(scores: dict, student: str) -> dict[str, float]:
    """Autograded cell scores of one student."""
    return {k: v[0] for k, v in scores[student].items() if k in AUTOGRADED}


def test_every_test_cell_has_hidden_probes(graded):
    course, _ = graded
    ref = json.loads((course / ".grading/references" / A / f"{A}.json").read_text())
    assert set(ref["cells"]) == AUTOGRADED
    for cell, payloads in ref["cells"].items():
        for payload in payloads:
            assert payload["records"] and all("output" in r for r in payload["records"]), cell


def test_points_and_written_answer(graded):
    _, scores = graded
    assert {k: v[1] for k, v in scores["source"].items() if k in AUTOGRADED} == POINTS
    assert scores["source"]["written_answer"][1] == 4


@pytest.mark.parametrize("student", ["source", "solved"])
def test_solutions_score_full_marks(graded, student):
    _, scores = graded
    assert set(auto(scores, student)) == AUTOGRADED
    for grade_id, (score, max_score) in scores[student].items():
        if grade_id in AUTOGRADED:
            assert score == max_score, f"{grade_id}: {score}/{max_score}"


def test_blank_release_runs_to_the_end_and_scores_zero(graded):
    course, scores = graded
    assert auto(scores, "blank") == dict.fromkeys(AUTOGRADED, 0.0)
    nb = nbformat.read(course / "autograded" / "blank" / A / f"{A}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "some cells never ran"


@pytest.mark.parametrize("name", sorted(ch01_cases.WRONG_ANSWERS))
def test_wrong_answers_lose_their_points(graded, name):
    _, scores = graded
    got = auto(scores, f"wrong_{name}")
    wrong_cells = ch01_cases.WRONG_ANSWERS[name][-1]
    for grade_id in AUTOGRADED:
        expected = 0.0 if grade_id in wrong_cells else POINTS[grade_id]
        assert got[grade_id] == expected, f"{grade_id}: {got[grade_id]}"


@pytest.mark.parametrize("name", sorted(ch01_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert auto(scores, f"attack_{name}") == auto(scores, "blank")
