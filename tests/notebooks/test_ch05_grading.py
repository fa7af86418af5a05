"""Chapter 5 through the real autograde path: full marks, zero, wrong answers, attacks."""

from __future__ import annotations

import pytest

from tests.notebooks import ch05_cases
from tests.notebooks.standard_tests import Chapter, make_tests

pytestmark = pytest.mark.slow

CHAPTER = Chapter(
    assignment="ch05_lrn", cases=ch05_cases,
    points={"test_lrn": 4.0, "test_lrn_layer": 3.0, "test_torch_args": 2.0}, written_points=3.0,
    feedback_attack="always_equal_array", secrets=("205001",),
    feedback_lines=("Hidden checks: 0 of 32 case(s) passed",
                    "raised Unserializable: values of type Sure cannot be graded"))
globals().update(make_tests(CHAPTER))
