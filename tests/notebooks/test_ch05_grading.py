"""Chapter 5 through the real autograde path: full marks, zero, wrong answers, attacks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder import batch, grading
from tests.notebooks import ch05_cases
from tests.notebooks.submissions import ROOT, make_submission

pytestmark = pytest.mark.slow

A = "ch05_lrn"
AUTOGRADED = {"test_lrn", "test_lrn_layer", "test_torch_args"}
POINTS = {"test_lrn": 4.0, "test_lrn_layer": 3.0, "test_torch_args": 2.0}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch05 submission of this module in one nbgrader batch."""
    course = course_factory("ch05", [A])
    make_submission(course, A, "source", raw=ROOT / "source" / A / f"{A}.ipynb")
    make_submission(course, A, "solved")
    make_submission(course, A, "blank", solved=False)
    for name, overrides in ch05_cases.RIGHT_VARIANTS.items():
        make_submission(course, A, f"right_{name}", overrides=overrides)
    for student, (_, overrides, _) in ch05_cases.wrong_answer_batches().items():
        make_submission(course, A, student, overrides=overrides)
    for name in ch05_cases.ATTACKS:
        make_submission(course, A, f"attack_{name}", overrides=ch05_cases.attack_overrides(name))
    outcomes = batch.grade_batch(course, A, jobs=2, progress=False)  # what `cnn-course grade -j 2` runs
    assert {o.status for o in outcomes.values()} == {"graded"}, outcomes
    return course, grading.cell_scores(course, A)


def auto(scores: dict, student: str) -> dict[str, float]:
    """Autograded cell scores of one student."""
    return {k: v[0] for k, v in scores[student].items() if k in AUTOGRADED}


def test_every_test_cell_has_hidden_probes(graded):
    course, scores = graded
    ref = json.loads((course / ".grading/references" / A / f"{A}.json").read_text())
    assert set(ref["cells"]) == AUTOGRADED
    assert {k: v[1] for k, v in scores["source"].items() if k in AUTOGRADED} == POINTS
    assert scores["source"]["written_answer"][1] == 3.0


@pytest.mark.parametrize("student", ["source", "solved"]
                         + [f"right_{n}" for n in sorted(ch05_cases.RIGHT_VARIANTS)])
def test_solutions_score_full_marks(graded, student):
    _, scores = graded
    assert auto(scores, student) == POINTS


def test_blank_release_runs_to_the_end_and_scores_zero(graded):
    course, scores = graded
    assert auto(scores, "blank") == dict.fromkeys(AUTOGRADED, 0.0)
    nb = nbformat.read(course / "autograded" / "blank" / A / f"{A}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "some cells never ran"


def test_every_wrong_answer_is_in_a_batch():
    names = [n for names, _, _ in ch05_cases.wrong_answer_batches().values() for n in names]
    assert sorted(names) == sorted(ch05_cases.WRONG_ANSWERS)


@pytest.mark.parametrize("student", sorted(ch05_cases.wrong_answer_batches()))
def test_wrong_answers_lose_their_points(graded, student):
    _, scores = graded
    names, _, wrong_cells = ch05_cases.wrong_answer_batches()[student]
    got = auto(scores, student)
    expected = {g: 0.0 if g in wrong_cells else POINTS[g] for g in AUTOGRADED}
    assert got == expected, f"mistakes {names}"


@pytest.mark.parametrize("name", sorted(ch05_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert auto(scores, f"attack_{name}") == auto(scores, "blank")


def test_attacks_do_beat_bare_nbgrader(course_factory):
    """The corpus is real: without the trusted scorer these attacks earn points."""
    course = course_factory("ch05_bare", [A], bare=True)
    for name in ch05_cases.ATTACKS:
        make_submission(course, A, f"attack_{name}", overrides=ch05_cases.attack_overrides(name))
    grading.autograde(course, A)
    scores = grading.cell_scores(course, A)
    for name in ch05_cases.ATTACKS:
        assert sum(auto(scores, f"attack_{name}").values()) > 0, name


def test_feedback_hides_hidden_tests_and_reference_values(graded):
    course, _ = graded
    student = "attack_always_equal_array"
    grading.generate_feedback(course, A, student)
    html = next(Path(course, "feedback", student, A).glob("*.html")).read_text()
    assert "BEGIN HIDDEN TESTS" not in html and "_probe" not in html and "205001" not in html
    assert "Hidden checks: 0 of 32 case(s) passed" in html
    assert "raised Unserializable: values of type Sure cannot be graded" in html
