"""Chapter 2 through the real autograde path: full marks, zero, wrong answers, attacks."""

from __future__ import annotations

import pytest

from autograder.tamper import read_flags
from tests.notebooks import ch02_cases
from tests.notebooks import grading_checks as checks

pytestmark = pytest.mark.slow

A = "ch02_params_and_memory"
AUTOGRADED = {"test_conv_output_size", "test_conv_params", "test_cnn_output_shapes", "test_cnn_params",
              "test_inference_ram", "test_training_ram", "test_total_params", "test_predict_ram",
              "test_train_ram"}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch02 submission of this module in one batch."""
    submissions = {f"wrong_{n}": ch02_cases.wrong_answer_overrides(n) for n in ch02_cases.WRONG_ANSWERS}
    submissions |= {f"attack_{n}": ch02_cases.attack_overrides(n) for n in ch02_cases.ATTACKS}
    return checks.grade_chapter(course_factory, A, submissions)


def test_every_test_cell_has_hidden_probes(graded):
    checks.check_probed_cells(graded[0], A, AUTOGRADED)


@pytest.mark.parametrize("student", ["source", "solved"])
def test_solutions_score_full_marks(graded, student):
    checks.check_full_marks(graded[1], student, AUTOGRADED)


def test_blank_release_runs_to_the_end_and_scores_zero(graded):
    checks.check_blank_runs_and_scores_zero(graded[0], A, graded[1], AUTOGRADED)


@pytest.mark.parametrize("name", sorted(ch02_cases.WRONG_ANSWERS))
def test_wrong_answers_lose_their_points(graded, name):
    checks.check_wrong_cells_lose_points(graded[1], f"wrong_{name}", AUTOGRADED,
                                         ch02_cases.WRONG_ANSWERS[name][1])


@pytest.mark.parametrize("name", sorted(ch02_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert checks.auto(scores, f"attack_{name}", AUTOGRADED) == checks.auto(scores, "blank", AUTOGRADED)


def test_attacks_do_beat_bare_nbgrader(course_factory):
    checks.check_attacks_beat_bare_nbgrader(
        course_factory, A, {n: ch02_cases.attack_overrides(n) for n in ch02_cases.ATTACKS}, AUTOGRADED)


def test_feedback_hides_hidden_tests_and_reference_values(graded):
    html = checks.feedback_html(graded[0], A, "wrong_params_6100")
    assert "BEGIN HIDDEN TESTS" not in html and "_probe" not in html
    assert "903400" not in html.replace(",", "") or "903400" in checks.visible_text(A)
    assert "returned 6100, which is not correct" in html


@pytest.mark.parametrize("name, expected", checks.STANDARD_ATTACK_FLAGS)
def test_attacks_are_reported_for_review(graded, name, expected):
    assert any(expected in flag for flag in read_flags(graded[0], A, f"attack_{name}"))


def test_honest_submissions_raise_no_flags(graded):
    course, _ = graded
    assert read_flags(course, A, "solved") == []
    assert read_flags(course, A, "blank") == []
    assert any("was edited" in f for f in read_flags(course, A, "source"))  # hidden tests inside
