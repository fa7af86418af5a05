"""Chapter 4 through the real autograde path: full marks, zero, wrong answers, attacks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder import batch, grading
from tests.notebooks import ch04_cases
from tests.notebooks.submissions import ROOT, make_submission

pytestmark = pytest.mark.slow

A = ch04_cases.A
AUTOGRADED = {"test_max_pool2d", "test_avg_pool2d", "test_pool_vs_conv_cost"}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch04 submission of this module in one nbgrader batch."""
    course = course_factory("ch04", [A])
    make_submission(course, A, "source", raw=ROOT / "source" / A / f"{A}.ipynb")
    make_submission(course, A, "solved")
    make_submission(course, A, "blank", solved=False)
    for submission in ch04_cases.SUBMISSIONS:
        make_submission(course, A, submission, overrides=ch04_cases.submission_overrides(submission))
    for name in ch04_cases.ATTACKS:
        make_submission(course, A, f"attack_{name}", overrides=ch04_cases.attack_overrides(name))
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


def test_points_are_as_announced(graded):
    _, scores = graded
    assert {k: v[1] for k, v in scores["solved"].items() if k in AUTOGRADED} == {
        "test_max_pool2d": 4.0, "test_avg_pool2d": 4.0, "test_pool_vs_conv_cost": 3.0}
    assert scores["solved"]["written_answer"][1] == 4.0


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


@pytest.mark.parametrize("name", sorted(ch04_cases.WRONG_ANSWERS))
def test_wrong_answers_lose_their_points(graded, name):
    _, scores = graded
    submission = ch04_cases.submission_of(name)
    got = auto(scores, submission)
    _, _, wrong_cell, kind = ch04_cases.WRONG_ANSWERS[name]
    max_score = scores[submission][wrong_cell][1]
    if kind == "zero":
        assert got[wrong_cell] == 0.0, f"{wrong_cell}: {got[wrong_cell]}"
    else:
        assert 0.0 < got[wrong_cell] < max_score, f"{wrong_cell}: {got[wrong_cell]}/{max_score}"
    # Cells that no wrong answer of this submission answers keep full marks.
    answered = {ch04_cases.WRONG_ANSWERS[n][2] for n in ch04_cases.SUBMISSIONS[submission]}
    for grade_id in AUTOGRADED - answered:
        assert got[grade_id] == scores[submission][grade_id][1], f"{grade_id}: {got[grade_id]}"


@pytest.mark.parametrize("name", sorted(ch04_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert auto(scores, f"attack_{name}") == auto(scores, "blank")


def test_attacks_do_beat_bare_nbgrader(course_factory):
    """The corpus is real: without the trusted scorer these attacks earn points."""
    course = course_factory("ch04_bare", [A], bare=True)
    for name in ch04_cases.ATTACKS:
        make_submission(course, A, f"attack_{name}", overrides=ch04_cases.attack_overrides(name))
    grading.autograde(course, A)
    scores = grading.cell_scores(course, A)
    for name in ch04_cases.ATTACKS:
        assert sum(auto(scores, f"attack_{name}").values()) > 0, name


def test_feedback_hides_hidden_tests(graded):
    course, _ = graded
    submission = ch04_cases.submission_of("max_same_padding_not_clipped")  # passes the visible tests
    grading.generate_feedback(course, A, submission)
    html = next(Path(course, "feedback", submission, A).glob("*.html")).read_text()
    assert "BEGIN HIDDEN TESTS" not in html and "_probe" not in html and "_pool_cases" not in html
    assert "max_pool2d, hidden case" in html and "which is not correct" in html


@pytest.mark.parametrize("name, expected", [
    ("always_equal", "comparison override"),
    ("input_transformer", "IPython input transformer"),
    ("patched_testing_and_traceback", "module attribute patched"),
])
def test_attacks_are_reported_for_review(graded, name, expected):
    from autograder.tamper import read_flags

    course, _ = graded
    assert any(expected in flag for flag in read_flags(course, A, f"attack_{name}"))


def test_honest_submissions_raise_no_flags(graded):
    from autograder.tamper import read_flags

    course, _ = graded
    assert read_flags(course, A, "solved") == []
    assert read_flags(course, A, "blank") == []
    for submission in ch04_cases.SUBMISSIONS:  # wrong, but honest
        assert read_flags(course, A, submission) == [], submission
