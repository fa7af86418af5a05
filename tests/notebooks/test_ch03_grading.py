"""Chapter 3 through the real autograde path: full marks, zero, wrong answers, attacks."""

from __future__ import annotations

import pytest

from tests.notebooks import ch03_cases
from tests.notebooks import grading_checks as checks

pytestmark = pytest.mark.slow

A = ch03_cases.A
AUTOGRADED = ch03_cases.TM | ch03_cases.EX3 | {"test_largest_batch"}
POINTS = {"test_training_memory": 2, "test_memory_dense_head": 1, "test_memory_mixed_precision": 2,
          "test_memory_dtypes_optimizers": 1, "test_memory_checkpointing": 2, "test_largest_batch": 2,
          "test_remedy_totals": 2, "test_remedy_batches": 1}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch03 submission of this module in one batch."""
    submissions = {f"wrong_{n}": ch03_cases.wrong_answer_overrides(n) for n in ch03_cases.WRONG_ANSWERS}
    submissions |= {f"attack_{n}": ch03_cases.attack_overrides(n) for n in ch03_cases.ATTACKS}
    return checks.grade_chapter(course_factory, A, submissions)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def test_every_test_cell_has_hidden_probes(graded):
    checks.check_probed_cells(graded[0], A, AUTOGRADED)


def test_points(graded):
    _, scores = graded
    assert checks.max_points(scores, "source", AUTOGRADED) == POINTS
    assert scores["source"]["written_answer"][1] == 3


@pytest.mark.parametrize("student", ["source", "solved"])
def test_solutions_score_full_marks(graded, student):
    checks.check_full_marks(graded[1], student, AUTOGRADED)


def test_blank_release_runs_to_the_end_and_scores_zero(graded):
    code = checks.check_blank_runs_and_scores_zero(graded[0], A, graded[1], AUTOGRADED)
    # Lesson cells (the explorer and the remedies table after the exercises included) must
    # run cleanly even when nothing is implemented.
    for cell in code:
        if not _meta(cell).get("solution") and not _meta(cell).get("grade"):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"lesson cell failed in the blank notebook:\n{cell.source[:200]}\n{errors}"
    remedies = next(c for c in code if "show_remedies(" in c.source)
    assert "Answer exercise 3 first" in "".join(o.get("text", "") for o in remedies.outputs)


def test_gpu_cell_skips_or_measures(graded):
    nb = checks.autograded_notebook(graded[0], A, "solved")
    cell = next(c for c in nb.cells if c.cell_type == "code" and "measure_peak_training_memory(" in c.source)
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert not [o for o in cell.outputs if o.output_type == "error"]
    assert "skipped" in text or "ratio" in text, text


@pytest.mark.parametrize("name", sorted(ch03_cases.WRONG_ANSWERS))
def test_wrong_answers_lose_their_points(graded, name):
    checks.check_wrong_cells_lose_points(graded[1], f"wrong_{name}", AUTOGRADED,
                                         ch03_cases.WRONG_ANSWERS[name][2])


@pytest.mark.parametrize("name", sorted(ch03_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert checks.auto(scores, f"attack_{name}", AUTOGRADED) == checks.auto(scores, "blank", AUTOGRADED)


def test_attacks_do_beat_bare_nbgrader(course_factory):
    checks.check_attacks_beat_bare_nbgrader(
        course_factory, A, {n: ch03_cases.attack_overrides(n) for n in ch03_cases.ATTACKS}, AUTOGRADED)


def test_feedback_hides_hidden_tests(graded):
    html = checks.feedback_html(graded[0], A, "wrong_largest_batch_off_by_one")
    for hidden in ("BEGIN HIDDEN TESTS", "_probe", "_random_specs", "303006"):  # 303006: a hidden seed
        assert hidden not in html, hidden
    assert "Visible test failed" in html            # exercise 2: its visible tests catch it
    assert "which is not correct" in html           # exercise 3: only the hidden probe does
