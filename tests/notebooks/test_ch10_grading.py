"""Chapter 10 through the real autograde path: the fine-tuned model is what is graded.

In the ``cpu`` profile: the instructor's source notebook. Its fine-tuned
EfficientNet-Lite0 must reach the profile's full marks on the grader's
Fashion-MNIST test set, and the same network trained from scratch on the same
data and epochs, which its narrative trains and saves as
``scratch_model.keras``, must score measurably less through the same trusted
evaluation (so the comparison costs no second notebook run). Everyone else (solved, blank, right variants, wrong answers, attacks) in
the seconds-long ``smoke`` profile, where the model cell is not expected to
earn points: the other exercises do not depend on the profile.
"""

from __future__ import annotations

import re

import pytest

from autograder.models import model_credit
from autograder.tamper import read_flags
from tests.notebooks import ch10_cases
from tests.notebooks.grading_checks import autograded_notebook, cell_text
from tests.notebooks.standard_tests import Chapter, make_tests

pytestmark = pytest.mark.slow

A = ch10_cases.A
CHAPTER = Chapter(
    assignment=A, cases=ch10_cases, smoke=True, model_cells=frozenset({"test_model_file"}),
    extra={"reads_test_files": {"ex6_train": ch10_cases.READS_TEST_FILES}},
    points={"test_select_images": 2.0, "test_split_dataset": 2.0, "test_make_dataset": 3.0,
            "test_build_transfer_model": 3.0, "test_unfreeze_top": 2.0, "test_model_file": 10.0},
    written_points=3.0, feedback_attack="always_equal",
    feedback_lines=("Hidden checks: 0 of 5 case(s) passed", "select_images, hidden case 1:",
                    "which is not correct"))
globals().update(make_tests(CHAPTER))


def model_message(course, student) -> str:
    """The verdict text of the model cell in ``student``'s autograded notebook."""
    return cell_text(course, A, student, "test_model_file")


def accuracy(message: str) -> float:
    return float(re.search(r"test accuracy ([\d.]+)%", message).group(1)) / 100


def test_transfer_beats_the_same_network_trained_from_scratch(graded):
    course, scores = graded
    reference = model_message(course, "source")
    scratch = model_credit("scratch_model.keras", A, "cpu", course / "autograded" / "source" / A)
    print(f"\nfine-tuned: {reference}\nfrom scratch: {scratch.message}")
    assert "Fashion-MNIST test set" in reference
    assert scores["source"]["test_model_file"] == (10.0, 10.0)
    assert scratch.share < 1.0, scratch.message
    # Measured: 79.6 % vs 72.3 % (10,000 images: the standard error of each is under 0.5 %).
    assert accuracy(reference) - scratch.score >= 0.04, (reference, scratch.message)


def test_the_graded_kernel_cannot_read_the_grader_test_set(graded):
    """The official Fashion-MNIST test files are out of the kernel's reach, and the attempt is flagged."""
    course, scores = graded
    nb = autograded_notebook(course, A, "reads_test_files")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex6_train")
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert "official test files:" in text and re.search(r"\d{4,}", text) is None, text
    flags = read_flags(course, A, "reads_test_files")
    assert any("reads a data set file directly" in f for f in flags), flags
    assert scores["reads_test_files"]["test_model_file"][0] == 0.0


def test_honest_runs_raise_no_data_or_model_flag(graded):
    course, _ = graded
    new = ("test set", "submitted beside", "oversized", "model file", "loads a saved", "decodes", "data set file")
    assert not [f for f in read_flags(course, A, "source") if any(n in f for n in new)]
