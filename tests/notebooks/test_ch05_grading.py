"""Chapter 5 through the real autograde path: full marks, zero, wrong answers, attacks."""

from __future__ import annotations

import pytest

from tests.notebooks import ch05_cases
from tests.notebooks import grading_checks as checks

pytestmark = pytest.mark.slow

A = "ch05_lrn"
AUTOGRADED = {"test_lrn", "test_lrn_layer", "test_torch_args"}
POINTS = {"test_lrn": 4.0, "test_lrn_layer": 3.0, "test_torch_args": 2.0}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch05 submission of this module in one batch."""
    submissions = {f"right_{n}": o for n, o in ch05_cases.RIGHT_VARIANTS.items()}
    submissions |= {s: o for s, (_, o, _) in ch05_cases.wrong_answer_batches().items()}
    submissions |= {f"attack_{n}": ch05_cases.attack_overrides(n) for n in ch05_cases.ATTACKS}
    return checks.grade_chapter(course_factory, A, submissions)


def test_every_test_cell_has_hidden_probes(graded):
    course, scores = graded
    checks.check_probed_cells(course, A, AUTOGRADED)
    assert checks.max_points(scores, "source", AUTOGRADED) == POINTS
    assert scores["source"]["written_answer"][1] == 3.0


@pytest.mark.parametrize("student", ["source", "solved"]
                         + [f"right_{n}" for n in sorted(ch05_cases.RIGHT_VARIANTS)])
def test_solutions_score_full_marks(graded, student):
    assert checks.auto(graded[1], student, AUTOGRADED) == POINTS


def test_blank_release_runs_to_the_end_and_scores_zero(graded):
    checks.check_blank_runs_and_scores_zero(graded[0], A, graded[1], AUTOGRADED)


def test_every_wrong_answer_is_in_a_batch():
    names = [n for names, _, _ in ch05_cases.wrong_answer_batches().values() for n in names]
    assert sorted(names) == sorted(ch05_cases.WRONG_ANSWERS)


@pytest.mark.parametrize("student", sorted(ch05_cases.wrong_answer_batches()))
def test_wrong_answers_lose_their_points(graded, student):
    names, _, wrong_cells = ch05_cases.wrong_answer_batches()[student]
    got = checks.auto(graded[1], student, AUTOGRADED)
    expected = {g: 0.0 if g in wrong_cells else POINTS[g] for g in AUTOGRADED}
    assert got == expected, f"mistakes {names}"


@pytest.mark.parametrize("name", sorted(ch05_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert checks.auto(scores, f"attack_{name}", AUTOGRADED) == checks.auto(scores, "blank", AUTOGRADED)


def test_attacks_do_beat_bare_nbgrader(course_factory):
    checks.check_attacks_beat_bare_nbgrader(
        course_factory, A, {n: ch05_cases.attack_overrides(n) for n in ch05_cases.ATTACKS}, AUTOGRADED)


def test_feedback_hides_hidden_tests_and_reference_values(graded):
    html = checks.feedback_html(graded[0], A, "attack_always_equal_array")
    assert "BEGIN HIDDEN TESTS" not in html and "_probe" not in html and "205001" not in html
    assert "Hidden checks: 0 of 32 case(s) passed" in html
    assert "raised Unserializable: values of type Sure cannot be graded" in html
