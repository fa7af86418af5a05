"""The checks every chapter's grading test makes, written once.

Each ``tests/notebooks/test_chNN_grading.py`` grades one batch of real
submissions (the source notebook, a solved and a blank release, the
chapter's wrong answers and attacks from ``chNN_cases``) with
:func:`grade_chapter`, then asserts with the helpers below.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

import nbformat
import pytest

from autograder import batch, grading
from tests.notebooks.submissions import ROOT, make_submission

STANDARD_ATTACK_FLAGS = [
    ("always_equal", "comparison override"),
    ("input_transformer", "IPython input transformer"),
    ("patched_testing_and_traceback", "module attribute patched"),
]
"""Attacks that several chapters' cases share, with the tamper flag each must raise."""


def grade_chapter(course_factory, assignment: str, submissions: dict[str, dict[str, str]],
                  smoke: Collection[str] = ()) -> tuple[Path, dict]:
    """Grade ``source``, ``solved``, ``blank`` and ``submissions`` (student -> overrides).

    Runs what ``cnn-course grade ASSIGNMENT --jobs 2`` runs, checks that every
    submission was graded and returns ``(course root, cell scores)``.  The
    students in ``smoke`` are graded in a second batch in the ``smoke`` profile
    (seconds-long lessons), for chapters whose lessons train but whose graded
    cells do not depend on the profile.
    """
    course = course_factory(assignment.split("_")[0], [assignment])
    make_submission(course, assignment, "source", raw=ROOT / "source" / assignment / f"{assignment}.ipynb")
    make_submission(course, assignment, "solved")
    make_submission(course, assignment, "blank", solved=False)
    for student, overrides in submissions.items():
        make_submission(course, assignment, student, overrides=overrides)
    everyone = ["source", "solved", "blank", *submissions]
    outcomes = batch.grade_batch(course, assignment, [s for s in everyone if s not in smoke],
                                 jobs=2, progress=False)
    if smoke:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CNN_COURSE_PROFILE", "smoke")
            outcomes |= batch.grade_batch(course, assignment, [s for s in everyone if s in smoke],
                                          jobs=2, progress=False)
    assert {o.status for o in outcomes.values()} == {"graded"}, outcomes
    return course, grading.cell_scores(course, assignment)


def variant(template: str, right: dict[str, str]):
    """``fill(**changes)``: ``template`` with its slots filled from ``right``, the ``changes`` replacing some.

    The cases modules write each answer once as a template with the right code
    in its slots, and each known mistake as the slots it changes.
    """
    def fill(**changes) -> str:
        return template.format(**{**right, **changes})

    return fill


def wrong_answer_batches(wrong_answers: dict[str, tuple[dict[str, str], set[str]]]
                         ) -> dict[str, tuple[list[str], dict[str, str], set[str]]]:
    """Pack wrong answers (name -> (one-cell overrides, cells they lose)) into few submissions.

    Exercises are graded independently, so a submission carrying one mistake in
    each exercise checks all of them at the cost of one notebook run; at most one
    mistake per solution cell goes in each.  Returns
    ``{submission: (wrong-answer names, overrides, cells that must score 0)}``.
    """
    by_cell: dict[str, list[str]] = {}
    for name, (overrides, _) in wrong_answers.items():
        (cell,) = overrides
        by_cell.setdefault(cell, []).append(name)
    batches = {}
    for i in range(max(len(v) for v in by_cell.values())):
        names = [v[i] for v in by_cell.values() if i < len(v)]
        overrides, cells = {}, set()
        for name in names:
            overrides.update(wrong_answers[name][0])
            cells |= wrong_answers[name][1]
        batches[f"wrong_{i + 1}"] = (names, overrides, cells)
    return batches


def auto(scores: dict, student: str, cells: set[str]) -> dict[str, float]:
    """Scores of ``student`` in the autograded ``cells``."""
    return {k: v[0] for k, v in scores[student].items() if k in cells}


def max_points(scores: dict, student: str, cells: set[str]) -> dict[str, float]:
    """Maximum points of the autograded ``cells`` as the gradebook records them."""
    return {k: v[1] for k, v in scores[student].items() if k in cells}


def autograded_notebook(course: Path, assignment: str, student: str):
    """The notebook nbgrader wrote to ``autograded/STUDENT/ASSIGNMENT/``."""
    return nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


def cell_text(course: Path, assignment: str, student: str, grade_id: str) -> str:
    """The text of every output of cell ``grade_id`` in ``student``'s autograded notebook, one per line."""
    nb = autograded_notebook(course, assignment, student)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "\n".join(o.get("text", "") or o.get("evalue", "") or str(o.get("data", {}).get("text/plain", ""))
                     for o in cell.outputs)


def check_probed_cells(course: Path, assignment: str, cells: set[str]) -> dict:
    """Every autograded cell, and only those, has hidden probes in the reference record."""
    ref = json.loads((course / ".grading/references" / assignment / f"{assignment}.json").read_text())
    assert set(ref["cells"]) == cells
    return ref


def check_full_marks(scores: dict, student: str, cells: set[str]) -> None:
    """``student`` has every autograded cell, each at its maximum."""
    assert set(auto(scores, student, cells)) == cells
    for grade_id, (score, max_score) in scores[student].items():
        if grade_id in cells:
            assert score == max_score, f"{grade_id}: {score}/{max_score}"


def check_blank_runs_and_scores_zero(course: Path, assignment: str, scores: dict, cells: set[str]):
    """The blank release scores 0 everywhere and every code cell ran; returns its code cells."""
    assert auto(scores, "blank", cells) == dict.fromkeys(cells, 0.0)
    nb = autograded_notebook(course, assignment, "blank")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "some cells never ran"
    return code


def check_wrong_cells_lose_points(scores: dict, student: str, cells: set[str], wrong: set[str]) -> None:
    """``wrong`` cells score 0 and every other autograded cell its maximum."""
    got = auto(scores, student, cells)
    for grade_id in cells:
        expected = 0.0 if grade_id in wrong else scores[student][grade_id][1]
        assert got[grade_id] == expected, f"{grade_id}: {got[grade_id]}"


def check_attacks_beat_bare_nbgrader(course_factory, assignment: str, attacks: dict[str, dict[str, str]],
                                     cells: set[str], smoke: bool = False) -> None:
    """The corpus is real: under bare nbgrader (no trusted scorer) each attack earns points.

    ``smoke`` grades in the seconds-long ``smoke`` profile (for chapters whose
    lessons train but whose graded cells do not depend on the profile).
    """
    course = course_factory(f"{assignment.split('_')[0]}_bare", [assignment], bare=True)
    for name, overrides in attacks.items():
        make_submission(course, assignment, f"attack_{name}", overrides=overrides)
    with pytest.MonkeyPatch.context() as mp:
        if smoke:
            mp.setenv("CNN_COURSE_PROFILE", "smoke")
        grading.autograde(course, assignment)
    scores = grading.cell_scores(course, assignment)
    for name in attacks:
        assert sum(auto(scores, f"attack_{name}", cells).values()) > 0, name


def feedback_html(course: Path, assignment: str, student: str) -> str:
    """Generate ``student``'s feedback and return its HTML."""
    grading.generate_feedback(course, assignment, student)
    return next(Path(course, "feedback", student, assignment).glob("*.html")).read_text()


def visible_text(assignment: str) -> str:
    """Everything a student can already read in the release notebook, commas removed."""
    return (ROOT / "release" / assignment / f"{assignment}.ipynb").read_text().replace(",", "")
