"""Chapter 2 through the real autograde path: full marks, zero, wrong answers, attacks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder import batch, grading
from tests.notebooks import ch02_cases
from tests.notebooks.submissions import ROOT, make_submission

pytestmark = pytest.mark.slow

A = "ch02_params_and_memory"
AUTOGRADED = {"test_conv_output_size", "test_conv_params", "test_cnn_output_shapes", "test_cnn_params",
              "test_inference_ram", "test_training_ram", "test_total_params", "test_predict_ram",
              "test_train_ram"}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch02 submission of this module in one nbgrader batch."""
    course = course_factory("ch02", [A])
    make_submission(course, A, "source", raw=ROOT / "source" / A / f"{A}.ipynb")
    make_submission(course, A, "solved")
    make_submission(course, A, "blank", solved=False)
    for name in ch02_cases.WRONG_ANSWERS:
        make_submission(course, A, f"wrong_{name}", overrides=ch02_cases.wrong_answer_overrides(name))
    for name in ch02_cases.ATTACKS:
        make_submission(course, A, f"attack_{name}", overrides=ch02_cases.attack_overrides(name))
    outcomes = batch.grade_batch(course, A, jobs=2, progress=False)  # what `cnn-course grade -j 2` runs
    assert {o.status for o in outcomes.values()} == {"graded"}, outcomes
    return course, grading.cell_scores(course, A)


def auto(scores: dict, student: str) -> dict[str, float]:
    """Autograded cell scores of one student."""
    return {k: v[0] for k, v in scores[student].items() if k in AUTOGRADED}


def test_every_test_cell_has_hidden_probes(graded):
    import json
    course, _ = graded
    ref = json.loads((course / ".grading/references" / A / f"{A}.json").read_text())
    assert set(ref["cells"]) == AUTOGRADED


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


@pytest.mark.parametrize("name", sorted(ch02_cases.WRONG_ANSWERS))
def test_wrong_answers_lose_their_points(graded, name):
    _, scores = graded
    got = auto(scores, f"wrong_{name}")
    wrong_cells = ch02_cases.WRONG_ANSWERS[name][1]
    for grade_id in AUTOGRADED:
        max_score = scores[f"wrong_{name}"][grade_id][1]
        expected = 0.0 if grade_id in wrong_cells else max_score
        assert got[grade_id] == expected, f"{grade_id}: {got[grade_id]}"


@pytest.mark.parametrize("name", sorted(ch02_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert auto(scores, f"attack_{name}") == auto(scores, "blank")


def test_attacks_do_beat_bare_nbgrader(course_factory):
    """The corpus is real: without the trusted scorer these attacks earn points."""
    course = course_factory("ch02_bare", [A], bare=True)
    for name in ch02_cases.ATTACKS:
        make_submission(course, A, f"attack_{name}", overrides=ch02_cases.attack_overrides(name))
    grading.autograde(course, A)
    scores = grading.cell_scores(course, A)
    for name in ch02_cases.ATTACKS:
        assert sum(auto(scores, f"attack_{name}").values()) > 0, name


def test_feedback_hides_hidden_tests_and_reference_values(graded):
    course, _ = graded
    grading.generate_feedback(course, A, "wrong_params_6100")
    html = next(Path(course, "feedback", "wrong_params_6100", A).glob("*.html")).read_text()
    assert "BEGIN HIDDEN TESTS" not in html and "_probe" not in html
    assert "903400" not in html.replace(",", "") or "903400" in _visible_text(A)
    assert "returned 6100, which is not correct" in html


def _visible_text(assignment: str) -> str:
    """Everything a student can already read in the release notebook, commas removed."""
    return (ROOT / "release" / assignment / f"{assignment}.ipynb").read_text().replace(",", "")


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
    assert any("was edited" in f for f in read_flags(course, A, "source"))  # hidden tests inside
