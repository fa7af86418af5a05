"""Chapter 4 through the real autograde path: full marks, zero, wrong answers, attacks."""

from __future__ import annotations

import pytest

from autograder.tamper import read_flags
from tests.notebooks import ch04_cases
from tests.notebooks import grading_checks as checks

pytestmark = pytest.mark.slow

A = ch04_cases.A
AUTOGRADED = {"test_max_pool2d", "test_avg_pool2d", "test_pool_vs_conv_cost"}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch04 submission of this module in one batch."""
    submissions = {s: ch04_cases.submission_overrides(s) for s in ch04_cases.SUBMISSIONS}
    submissions |= {f"attack_{n}": ch04_cases.attack_overrides(n) for n in ch04_cases.ATTACKS}
    return checks.grade_chapter(course_factory, A, submissions)


def test_every_test_cell_has_hidden_probes(graded):
    checks.check_probed_cells(graded[0], A, AUTOGRADED)


def test_points_are_as_announced(graded):
    _, scores = graded
    assert checks.max_points(scores, "solved", AUTOGRADED) == {
        "test_max_pool2d": 4.0, "test_avg_pool2d": 4.0, "test_pool_vs_conv_cost": 3.0}
    assert scores["solved"]["written_answer"][1] == 4.0


@pytest.mark.parametrize("student", ["source", "solved"])
def test_solutions_score_full_marks(graded, student):
    checks.check_full_marks(graded[1], student, AUTOGRADED)


def test_blank_release_runs_to_the_end_and_scores_zero(graded):
    checks.check_blank_runs_and_scores_zero(graded[0], A, graded[1], AUTOGRADED)


@pytest.mark.parametrize("name", sorted(ch04_cases.WRONG_ANSWERS))
def test_wrong_answers_lose_their_points(graded, name):
    _, scores = graded
    submission = ch04_cases.submission_of(name)
    got = checks.auto(scores, submission, AUTOGRADED)
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
    assert checks.auto(scores, f"attack_{name}", AUTOGRADED) == checks.auto(scores, "blank", AUTOGRADED)


def test_attacks_do_beat_bare_nbgrader(course_factory):
    checks.check_attacks_beat_bare_nbgrader(
        course_factory, A, {n: ch04_cases.attack_overrides(n) for n in ch04_cases.ATTACKS}, AUTOGRADED)


def test_feedback_hides_hidden_tests(graded):
    submission = ch04_cases.submission_of("max_same_padding_not_clipped")  # passes the visible tests
    html = checks.feedback_html(graded[0], A, submission)
    assert "BEGIN HIDDEN TESTS" not in html and "_probe" not in html and "_pool_cases" not in html
    assert "max_pool2d, hidden case" in html and "which is not correct" in html


@pytest.mark.parametrize("name, expected", checks.STANDARD_ATTACK_FLAGS)
def test_attacks_are_reported_for_review(graded, name, expected):
    assert any(expected in flag for flag in read_flags(graded[0], A, f"attack_{name}"))


def test_honest_submissions_raise_no_flags(graded):
    course, _ = graded
    assert read_flags(course, A, "solved") == []
    assert read_flags(course, A, "blank") == []
    for submission in ch04_cases.SUBMISSIONS:  # wrong, but honest
        assert read_flags(course, A, submission) == [], submission
