"""Chapter 1 through the real autograde path: full marks, zero, wrong answers, attacks.

Every graded notebook runs the chapter's training experiment (about a minute
or two on 2 CPU cores in the ``cpu`` profile).  The source notebook is graded
in the ``cpu`` profile; the solved and blank releases, the wrong answers and
the attacks, whose graded cells do not depend on the profile, in the
seconds-long ``smoke`` profile (the references too: the notebook's metadata
asks for it).
"""

from __future__ import annotations

import pytest

from tests.notebooks import ch01_cases
from tests.notebooks import grading_checks as checks

pytestmark = pytest.mark.slow

A = ch01_cases.A
AUTOGRADED = ch01_cases.ALL_CELLS
POINTS = {"test_dense_params": 2, "test_conv_params": 2, "test_conv2d_valid": 3,
          "test_conv2d_strides": 2, "test_conv2d_same": 3}


@pytest.fixture(scope="module")
def graded(course_factory):
    """Grade every ch01 submission of this module in one batch."""
    submissions = {f"wrong_{n}": ch01_cases.wrong_answer_overrides(n) for n in ch01_cases.WRONG_ANSWERS}
    submissions |= {f"attack_{n}": ch01_cases.attack_overrides(n) for n in ch01_cases.ATTACKS}
    return checks.grade_chapter(course_factory, A, submissions, smoke={"solved", "blank", *submissions})


def test_every_test_cell_has_hidden_probes(graded):
    ref = checks.check_probed_cells(graded[0], A, AUTOGRADED)
    for cell, payloads in ref["cells"].items():
        for payload in payloads:
            assert payload["records"] and all("output" in r for r in payload["records"]), cell


def test_points_and_written_answer(graded):
    _, scores = graded
    assert checks.max_points(scores, "source", AUTOGRADED) == POINTS
    assert scores["source"]["written_answer"][1] == 4


@pytest.mark.parametrize("student", ["source", "solved"])
def test_solutions_score_full_marks(graded, student):
    checks.check_full_marks(graded[1], student, AUTOGRADED)


def test_blank_release_runs_to_the_end_and_scores_zero(graded):
    checks.check_blank_runs_and_scores_zero(graded[0], A, graded[1], AUTOGRADED)


@pytest.mark.parametrize("name", sorted(ch01_cases.WRONG_ANSWERS))
def test_wrong_answers_lose_their_points(graded, name):
    checks.check_wrong_cells_lose_points(graded[1], f"wrong_{name}", AUTOGRADED,
                                         ch01_cases.WRONG_ANSWERS[name][-1])


@pytest.mark.parametrize("name", sorted(ch01_cases.ATTACKS))
def test_attacks_gain_no_points(graded, name):
    _, scores = graded
    assert checks.auto(scores, f"attack_{name}", AUTOGRADED) == checks.auto(scores, "blank", AUTOGRADED)
