"""Chapter 3 through the real autograde path: full marks, zero, wrong answers, attacks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder import batch, grading
from tests.notebooks import ch03_cases
from tests.notebooks.submissions import ROOT, make_submission

pytestmark = pytest.mark.slow

A = ch03_cases.A
AUTOGRADED = ch03_cases.TM | ch03_cases.EX3 | {"test_largest_batch"}
POINTS = {"test_training_memory": 2, "test_memory_dense_head": 1, "test_memory_mixed_precision": 2,
          "test_memory_dtypes_optimizers": 1, "test_memory_checkpointing": 2, "test_largest_batch": 2,
          "test_remedy_totals": 2, "test_remedy_batches": 1}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch03 submission of this module in one nbgrader batch."""
    course = course_factory("ch03", [A])
    make_submission(course, A, "source", raw=ROOT / "source" / A / f"{A}.ipynb")
    make_submission(course, A, "solved")
    make_submission(course, A, "blank", solved=False)
    for name in ch03_cases.WRONG_ANSWERS:
        make_submission(course, A, f"wrong_{name}", overrides=ch03_cases.wrong_answer_overrides(name))
    for name in ch03_cases.ATTACKS:
        make_submission(course, A, f"attack_{name}", overrides=ch03_cases.attack_overrides(name))
    outcomes = batch.grade_batch(course, A, jobs=2, progress=False)  # what `cnn-course grade -j 2` runs
    assert {o.status for o in outcomes.values()} == {"graded"}, outcomes
    return course, grading.cell_scores(course, A)


def auto(scores: dict, student: str) -> dict[str, float]:
    """Autograded cell scores of one student."""
    return {k: v[0] for k, v in scores[student].items() if k in AUTOGRADED}


def autograded_nb(course: Path, student: str):
    return nbformat.read(course / "autograded" / student / A / f"{A}.ipynb", as_version=4)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def test_every_test_cell_has_hidden_probes(graded):
    course, _ = graded
    ref = json.loads((course / ".grading/references" / A / f"{A}.json").read_text())
    assert set(ref["cells"]) == AUTOGRADED


def test_points(graded):
    _, scores = graded
    assert {k: v[1] for k, v in scores["source"].items() if k in AUTOGRADED} == POINTS
    assert scores["source"]["written_answer"][1] == 3


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
    nb = autograded_nb(course, "blank")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "some cells never ran"
    # Lesson cells (the explorer and the remedies table after the exercises included) must
    # run cleanly even when nothing is implemented.
    for cell in code:
        if not _meta(cell).get("solution") and not _meta(cell).get("grade"):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"lesson cell failed in the blank notebook:\n{cell.source[:200]}\n{errors}"
    remedies = next(c for c in code if "show_remedies(" in c.source)
    assert "Answer exercise 3 first" in "".join(o.get("text", "") for o in remedies.outputs)


def test_gpu_cell_skips_or_measures(graded):
    course, _ = graded
    nb = autograded_nb(course, "solved")
    cell = next(c for c in nb.cells if c.cell_type == "code" and "measure_peak_training_memory(" in c.source)
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert not [o for o in cell.outputs if o.output_type == "error"]
    assert "skipped" in text or "ratio" in text, text


@pytest.mark.parametrize("name", sorted(ch03_cases.WRONG_ANSWERS))
def test_wrong_answers_lose_their_points(graded, name):
    _, scores = graded
    got = auto(scores, f"wrong_{name}")
    wrong_cells = ch03_cases.WRONG_ANSWERS[name][2]
    for grade_id in AUTOGRADED:
        max_score = scores[f"wrong_{name}"][grade_id][1]
        expected = 0.0 if grade_id in wrong_cells else max_score
        assert got[grade_id] == expected, f"{grade_id}: {got[grade_id]}"


@pytest.mark.parametrize("name", sorted(ch03_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert auto(scores, f"attack_{name}") == auto(scores, "blank")


def test_attacks_do_beat_bare_nbgrader(course_factory):
    """The corpus is real: without the trusted scorer these attacks earn points."""
    course = course_factory("ch03_bare", [A], bare=True)
    for name in ch03_cases.ATTACKS:
        make_submission(course, A, f"attack_{name}", overrides=ch03_cases.attack_overrides(name))
    grading.autograde(course, A)
    scores = grading.cell_scores(course, A)
    for name in ch03_cases.ATTACKS:
        assert sum(auto(scores, f"attack_{name}").values()) > 0, name


def test_feedback_hides_hidden_tests(graded):
    course, _ = graded
    student = "wrong_largest_batch_off_by_one"
    grading.generate_feedback(course, A, student)
    html = next(Path(course, "feedback", student, A).glob("*.html")).read_text()
    for hidden in ("BEGIN HIDDEN TESTS", "_probe", "_random_specs", "303006"):  # 303006: a hidden seed
        assert hidden not in html, hidden
    assert "Visible test failed" in html            # exercise 2: its visible tests catch it
    assert "which is not correct" in html           # exercise 3: only the hidden probe does
