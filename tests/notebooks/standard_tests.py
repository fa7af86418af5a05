"""The grading tests every exercise chapter shares, made once from a :class:`Chapter` description.

A chapter's ``test_chNN_grading.py`` describes itself and lets
:func:`make_tests` write the standard tests into its namespace::

    globals().update(make_tests(Chapter(assignment="ch06_architectures", cases=ch06_cases,
                                        points={...}, written_points=4.0, ...)))

It gets a module-scoped ``graded`` fixture (one batch: source, solved, blank,
the right variants, the packed wrong answers and the attacks of its ``cases``
module) and the tests: every test cell has hidden probes and its points,
solutions and right variants score full marks, the blank release runs to the
end and scores 0, every wrong answer is packed and loses exactly its cells,
attacks score like blank (and do beat bare nbgrader), and the feedback hides
the hidden tests.  Chapter-specific tests stay in the chapter's file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType

import pytest

from tests.notebooks import grading_checks as checks


@dataclass(frozen=True)
class Chapter:
    """What the standard grading tests need to know about one chapter.

    ``cases`` is the chapter's cases module: ``WRONG_ANSWERS``,
    ``wrong_answer_batches()``, ``ATTACKS``, ``attack_overrides(name)`` and
    optionally ``RIGHT_VARIANTS``.  ``smoke`` grades everyone but the source
    notebook in the ``smoke`` profile (chapters whose lessons train but whose
    graded cells do not depend on it).  ``feedback_attack`` is the attack whose
    feedback must show ``feedback_lines`` and none of ``secrets``.
    ``model_cells`` are graded by a trained model's accuracy, which only the
    source notebook's profile reaches: students graded in ``smoke`` are not
    expected to earn them.  ``full_profile`` adds submissions (student ->
    overrides) graded with the source notebook, in the default profile;
    ``extra`` adds submissions graded with everyone else, for the chapter's own tests.
    """

    assignment: str
    cases: ModuleType
    points: dict[str, float]
    written_points: float
    feedback_attack: str
    feedback_lines: tuple[str, ...]
    secrets: tuple[str, ...] = ()
    smoke: bool = False
    model_cells: frozenset[str] = frozenset()
    full_profile: Mapping[str, dict[str, str]] = field(default_factory=dict)
    extra: Mapping[str, dict[str, str]] = field(default_factory=dict)

    @property
    def autograded(self) -> set[str]:
        return set(self.points)

    def expected(self, student: str) -> set[str]:
        """The cells whose points ``student``'s grading profile lets it earn."""
        if student == "source" or student in self.full_profile or not self.smoke:
            return self.autograded
        return self.autograded - self.model_cells


def make_tests(ch: Chapter) -> dict:
    """The ``graded`` fixture and the standard tests for ``ch``, to put in a test module's globals."""
    cases = ch.cases
    right = getattr(cases, "RIGHT_VARIANTS", {})
    batches = cases.wrong_answer_batches()

    @pytest.fixture(scope="module")
    def graded(course_factory):
        """Grade every submission of this chapter in one batch."""
        submissions = {f"right_{n}": o for n, o in right.items()}
        submissions |= {s: o for s, (_, o, _) in batches.items()}
        submissions |= {f"attack_{n}": cases.attack_overrides(n) for n in cases.ATTACKS}
        submissions |= dict(ch.extra)
        smoke = {"solved", "blank", *submissions} if ch.smoke else ()
        submissions |= dict(ch.full_profile)
        return checks.grade_chapter(course_factory, ch.assignment, submissions, smoke=smoke)

    def test_every_test_cell_has_hidden_probes(graded):
        course, scores = graded
        checks.check_probed_cells(course, ch.assignment, ch.autograded)
        assert checks.max_points(scores, "source", ch.autograded) == ch.points
        assert scores["source"]["written_answer"][1] == ch.written_points

    @pytest.mark.parametrize("student", ["source", "solved"] + [f"right_{n}" for n in sorted(right)])
    def test_solutions_score_full_marks(graded, student):
        cells = ch.expected(student)
        assert checks.auto(graded[1], student, cells) == {g: ch.points[g] for g in cells}

    def test_blank_release_runs_to_the_end_and_scores_zero(graded):
        checks.check_blank_runs_and_scores_zero(graded[0], ch.assignment, graded[1], ch.autograded)

    def test_every_wrong_answer_is_in_a_batch():
        names = [n for names, _, _ in batches.values() for n in names]
        assert sorted(names) == sorted(cases.WRONG_ANSWERS)

    @pytest.mark.parametrize("student", sorted(batches))
    def test_wrong_answers_lose_their_points(graded, student):
        names, _, wrong_cells = batches[student]
        cells = ch.expected(student)
        got = checks.auto(graded[1], student, cells)
        expected = {g: 0.0 if g in wrong_cells else ch.points[g] for g in cells}
        assert got == expected, f"mistakes {names}"

    @pytest.mark.parametrize("name", sorted(cases.ATTACKS))
    def test_attacks_gain_no_points(graded, name):
        _, scores = graded
        assert (checks.auto(scores, f"attack_{name}", ch.autograded)
                == checks.auto(scores, "blank", ch.autograded))

    def test_attacks_do_beat_bare_nbgrader(course_factory):
        checks.check_attacks_beat_bare_nbgrader(
            course_factory, ch.assignment, {n: cases.attack_overrides(n) for n in cases.ATTACKS},
            ch.autograded, smoke=ch.smoke)

    def test_feedback_hides_hidden_tests_and_reference_values(graded):
        html = checks.feedback_html(graded[0], ch.assignment, f"attack_{ch.feedback_attack}")
        for secret in ("BEGIN HIDDEN TESTS", "_probe", *ch.secrets):
            assert secret not in html, secret
        for line in ch.feedback_lines:
            assert line in html, line

    return {name: value for name, value in locals().items() if name == "graded" or name.startswith("test_")}
