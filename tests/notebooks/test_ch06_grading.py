"""Chapter 6 through the real autograde path: full marks, zero, wrong answers, attacks.

The source notebook is graded in the ``cpu`` profile (its lesson trains six
small networks, about a minute on 2 cores); everyone else in the seconds-long
``smoke`` profile, since no graded cell depends on the lesson's budget.
"""

from __future__ import annotations

import pytest

from tests.notebooks import ch06_cases
from tests.notebooks import grading_checks as checks

pytestmark = pytest.mark.slow

A = "ch06_architectures"
POINTS = {"test_layer_params": 3.0, "test_inception_cost": 3.0, "test_residual_unit": 3.0,
          "test_se_forward": 3.0, "test_separable_conv2d": 4.0, "test_separable_savings": 2.0}
AUTOGRADED = set(POINTS)


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch06 submission of this module in one batch."""
    submissions = {f"right_{n}": o for n, o in ch06_cases.RIGHT_VARIANTS.items()}
    submissions |= {s: o for s, (_, o, _) in ch06_cases.wrong_answer_batches().items()}
    submissions |= {f"attack_{n}": ch06_cases.attack_overrides(n) for n in ch06_cases.ATTACKS}
    return checks.grade_chapter(course_factory, A, submissions, smoke={"solved", "blank", *submissions})


def test_every_test_cell_has_hidden_probes(graded):
    course, scores = graded
    checks.check_probed_cells(course, A, AUTOGRADED)
    assert checks.max_points(scores, "source", AUTOGRADED) == POINTS
    assert scores["source"]["written_answer"][1] == 4.0


@pytest.mark.parametrize("student", ["source", "solved"]
                         + [f"right_{n}" for n in sorted(ch06_cases.RIGHT_VARIANTS)])
def test_solutions_score_full_marks(graded, student):
    assert checks.auto(graded[1], student, AUTOGRADED) == POINTS


def test_blank_release_runs_to_the_end_and_scores_zero(graded):
    checks.check_blank_runs_and_scores_zero(graded[0], A, graded[1], AUTOGRADED)


def test_every_wrong_answer_is_in_a_batch():
    names = [n for names, _, _ in ch06_cases.wrong_answer_batches().values() for n in names]
    assert sorted(names) == sorted(ch06_cases.WRONG_ANSWERS)


@pytest.mark.parametrize("student", sorted(ch06_cases.wrong_answer_batches()))
def test_wrong_answers_lose_their_points(graded, student):
    names, _, wrong_cells = ch06_cases.wrong_answer_batches()[student]
    got = checks.auto(graded[1], student, AUTOGRADED)
    expected = {g: 0.0 if g in wrong_cells else POINTS[g] for g in AUTOGRADED}
    assert got == expected, f"mistakes {names}"


@pytest.mark.parametrize("name", sorted(ch06_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert checks.auto(scores, f"attack_{name}", AUTOGRADED) == checks.auto(scores, "blank", AUTOGRADED)


def test_attacks_do_beat_bare_nbgrader(course_factory):
    checks.check_attacks_beat_bare_nbgrader(
        course_factory, A, {n: ch06_cases.attack_overrides(n) for n in ch06_cases.ATTACKS}, AUTOGRADED,
        smoke=True)


def test_feedback_hides_hidden_tests_and_reference_values(graded):
    html = checks.feedback_html(graded[0], A, "attack_always_equal")
    assert "BEGIN HIDDEN TESTS" not in html and "_probe" not in html and "206001" not in html
    assert "Hidden checks: 0 of 40 case(s) passed" in html
    assert "raised Unserializable: Anything is not a plain int or float" in html
