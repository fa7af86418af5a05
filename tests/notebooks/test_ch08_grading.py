"""Chapter 8 through the real autograde path: the segmentation model is graded by its mean IoU.

The instructor's source notebook is graded in the ``cpu`` profile: its U-Net
must reach the profile's full marks on the grader's canvases of MNIST test
digits, and the no-skip model its narrative trains on the same data and
epochs (saved as ``noskip_model.keras``) must score measurably less through
the same trusted evaluation.  Everyone else (solved, blank, right variants,
wrong answers, attacks) in the seconds-long ``smoke`` profile, where the
model cell is not expected to earn points: the other exercises do not depend
on the profile.
"""

from __future__ import annotations

import re

import pytest

from autograder.models import model_credit
from autograder.tamper import read_flags
from tests.notebooks import ch08_cases
from tests.notebooks.grading_checks import cell_text
from tests.notebooks.standard_tests import Chapter, make_tests

pytestmark = pytest.mark.slow

A = ch08_cases.A
CHAPTER = Chapter(
    assignment=A, cases=ch08_cases, smoke=True, model_cells=frozenset({"test_model_file"}),
    points={"test_metrics": 3.0, "test_receptive_field": 2.0, "test_conv_transpose": 3.0,
            "test_bilinear_kernel": 2.0, "test_boundary_band": 2.0, "test_build_segmenter": 2.0,
            "test_model_file": 10.0},
    written_points=3.0, feedback_attack="always_equal",
    feedback_lines=("Hidden checks: 0 of 6 case(s) passed", "receptive_field, hidden case 1:",
                    "which is not correct"))
globals().update(make_tests(CHAPTER))


def miou(message: str) -> float:
    return float(re.search(r"mean IoU ([\d.]+)", message).group(1))


def test_the_unet_earns_full_marks_and_the_noskip_model_far_less(graded):
    course, scores = graded
    reference = cell_text(course, A, "source", "test_model_file")
    folder = course / "autograded" / "source" / A
    noskip = model_credit("noskip_model.keras", A, "cpu", folder)
    print(f"\nU-Net: {reference}\nno skips: {noskip.message}")
    assert "canvases of official MNIST test digits" in reference
    assert scores["source"]["test_model_file"] == (10.0, 10.0)
    assert noskip.share < 0.5, noskip.message
    # Measured on the validation canvases: 0.86 vs 0.44 mean IoU (2,000 test canvases hold
    # about 4,000 digits; seed-to-seed spread of either figure is a few hundredths).
    assert miou(reference) - noskip.score >= 0.2, (reference, noskip.message)


def test_honest_runs_raise_no_data_or_model_flag(graded):
    course, _ = graded
    new = ("test set", "submitted beside", "oversized", "model file", "loads a saved", "decodes", "data set file")
    assert not [f for f in read_flags(course, A, "source") if any(n in f for n in new)]
