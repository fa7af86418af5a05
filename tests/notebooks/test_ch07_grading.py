"""Chapter 7 through the real autograde path: full marks, zero, wrong answers, attacks.

The source notebook is graded in the ``cpu`` profile (its lesson trains a
small classifier, seconds on 2 cores); everyone else in the seconds-long
``smoke`` profile, since no graded cell depends on the lesson's budget.
"""

from __future__ import annotations

import pytest

from tests.notebooks import ch07_cases
from tests.notebooks.standard_tests import Chapter, make_tests

pytestmark = pytest.mark.slow

CHAPTER = Chapter(
    assignment="ch07_fcn", cases=ch07_cases, smoke=True,
    points={"test_dense_to_conv": 4.0, "test_score_map_geometry": 3.0}, written_points=3.0,
    feedback_attack="always_equal", secrets=("207002",),
    feedback_lines=("Hidden checks: 0 of 30 case(s) passed", "score_map_geometry, hidden case 1:",
                    "which is not correct"))
globals().update(make_tests(CHAPTER))
