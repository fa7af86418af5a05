"""Chapter 6 through the real autograde path: full marks, zero, wrong answers, attacks.

The source notebook is graded in the ``cpu`` profile (its lesson trains six
small networks, about a minute on 2 cores); everyone else in the seconds-long
``smoke`` profile, since no graded cell depends on the lesson's budget.
"""

from __future__ import annotations

import pytest

from tests.notebooks import ch06_cases
from tests.notebooks.standard_tests import Chapter, make_tests

pytestmark = pytest.mark.slow

CHAPTER = Chapter(
    assignment="ch06_architectures", cases=ch06_cases, smoke=True,
    points={"test_layer_params": 3.0, "test_inception_cost": 3.0, "test_residual_unit": 3.0,
            "test_se_forward": 3.0, "test_separable_conv2d": 4.0, "test_separable_savings": 2.0},
    written_points=4.0, feedback_attack="always_equal", secrets=("206001",),
    feedback_lines=("Hidden checks: 0 of 40 case(s) passed",
                    "raised Unserializable: Anything is not a plain int or float"))
globals().update(make_tests(CHAPTER))
