"""NormalizeGradeCells: edited grade metadata never stops nbgrader from grading a submission.

Fast tests run the course's configured ``Autograde.sanitize_preprocessors``
(nbgrader's own steps and ours, in process) on in-memory submissions of a
small synthetic assignment whose gradebook is made by nbgrader's own
``generate_assignment`` steps.  The slow test grades real submissions with a
duplicated answer cell and a duplicated test cell through ``nbgrader
autograde`` (sandboxed kernels, hidden probes), and one without its written
answer cell.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell
from nbgrader.api import Gradebook
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    DeduplicateIds,
    LockCells,
    OverwriteCells,
    OverwriteKernelspec,
    SaveCells,
)
from traitlets.config.loader import PyFileConfigLoader

from autograder import grading, tamper
from autograder.gradecells import (
    GradeCellSpec,
    NormalizeGradeCells,
    OverwriteGradeCells,
    normalize_grade_cells,
)
from autograder.sandbox import bwrap_usable
from tests.notebooks.submissions import grade_meta

ROOT = Path(__file__).resolve().parents[2]
A = "dupes"
DOUBLE = "def double(x):\n    return 2 * x\n"
TRIPLE = "def triple(x):\n    return 3 * x\n"
TEST_DOUBLE = ("assert double(2) == 4\nprint('visible ok')\n### BEGIN HIDDEN TESTS\n"
               "from course.probe import probe\nprobe('double', double, [1, 5, -3])\n### END HIDDEN TESTS")
TEST_TRIPLE = ("assert triple(3) == 9\n### BEGIN HIDDEN TESTS\n"
               "from course.probe import probe\nprobe('triple', triple, [1, 4])\n### END HIDDEN TESTS")
MISSING = "# This cell (id:{}) was missing from the submission."
USABLE, WHY = bwrap_usable()


def source_notebook():
    """The instructor's notebook: two answers with their tests, and a written answer."""
    cells = [
        new_markdown_cell("# Duplicated cells\n\nA synthetic assignment."),
        new_code_cell("print('setup done')"),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=grade_meta("ex_double", solution=True)),
        new_code_cell(TEST_DOUBLE, metadata=grade_meta("test_double", grade=True, locked=True, points=2)),
        new_code_cell("def triple(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION",
                      metadata=grade_meta("ex_triple", solution=True)),
        new_code_cell(TEST_TRIPLE, metadata=grade_meta("test_triple", grade=True, locked=True, points=1)),
        new_markdown_cell("Explain in a sentence.", metadata=grade_meta("written_prompt", locked=True)),
        new_markdown_cell("Because.", metadata=grade_meta("written_answer", grade=True, solution=True,
                                                     points=3)),
        new_code_cell("print('the end')"),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})


# ---------------------------------------------------------------------------------------------
# fast: the configured sanitizing steps in process, on a gradebook made by nbgrader's steps


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """``(config, resources, release notebook)``: nbgrader's generate_assignment steps in process."""
    root = tmp_path_factory.mktemp("gradecells")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    url = f"sqlite:///{root / 'gradebook.db'}"
    with pytest.MonkeyPatch.context() as mp:  # a new gradebook runs `alembic` from PATH
        mp.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
        with Gradebook(url) as gb:
            gb.add_assignment(A)
    resources = {"nbgrader": {"db_url": url, "assignment": A, "notebook": A, "student": "s"}}
    nb = source_notebook()
    for step in (LockCells, ClearSolutions, ClearOutput, ComputeChecksums, SaveCells,
                 ClearHiddenTests, ComputeChecksums, CheckCellMetadata):
        nb, _ = step(config=config).preprocess(nb, copy.deepcopy(resources))
    return config, resources, nb


def _submission(course, answers: dict[str, str] | None = None):
    """The release notebook with answers typed in (``DOUBLE``/``TRIPLE`` unless given)."""
    _, _, release = course
    nb = copy.deepcopy(release)
    answers = {"ex_double": DOUBLE, "ex_triple": TRIPLE, **(answers or {})}
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            c.source = answers[gid]
    return nb


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _paste_after(nb, grade_id: str, source: str | None = None) -> None:
    """JupyterLab's copy and paste: a twin (same nbgrader metadata) right after the cell."""
    i = _index(nb, grade_id)
    twin = copy.deepcopy(nb.cells[i])
    twin.id = f"pasted-{grade_id}"
    if source is not None:
        twin.source = source
    nb.cells.insert(i + 1, twin)


def _sanitize(course, nb, preprocessors=None):
    """Run ``Autograde.sanitize_preprocessors`` of the course config (or the given ones)."""
    config, resources, _ = course
    resources = copy.deepcopy(resources)
    for step in preprocessors or config.Autograde.sanitize_preprocessors:
        nb, resources = step(config=config).preprocess(nb, resources)
    return nb


def _graded(nb) -> dict[str, list[int]]:
    """Indices of the cells that keep nbgrader metadata, by grade_id."""
    out: dict[str, list[int]] = {}
    for i, c in enumerate(nb.cells):
        if "nbgrader" in c.metadata:
            out.setdefault(c.metadata["nbgrader"]["grade_id"], []).append(i)
    return out


GRADE_IDS = {"ex_double", "test_double", "ex_triple", "test_triple", "written_prompt", "written_answer"}


def _assert_well_formed(nb) -> dict[str, int]:
    """Each gradebook cell exactly once, with the gradebook's metadata; ``{grade_id: index}``."""
    ids = _graded(nb)
    assert set(ids) == GRADE_IDS and all(len(v) == 1 for v in ids.values()), ids
    where = {gid: v[0] for gid, v in ids.items()}
    for gid in ("test_double", "test_triple"):
        meta = nb.cells[where[gid]].metadata["nbgrader"]
        assert (meta["grade"], meta["solution"], meta["locked"]) == (True, False, True), meta
    for gid in ("ex_double", "ex_triple"):
        meta = nb.cells[where[gid]].metadata["nbgrader"]
        assert (meta["grade"], meta["solution"], meta.get("points")) == (False, True, None), meta
    return where


def test_config_runs_normalize_grade_cells_before_nbgraders_own_checks(course):
    config = course[0]
    steps = list(config.Autograde.sanitize_preprocessors)
    assert OverwriteCells not in steps and OverwriteGradeCells(config=config).add_missing_cells
    for later in (DeduplicateIds, OverwriteGradeCells, CheckCellMetadata):
        assert steps.index(NormalizeGradeCells) < steps.index(later)


def test_without_it_nbgrader_fails_on_a_pasted_answer_cell(course):
    """The bug: DeduplicateIds empties the earlier copy's metadata, OverwriteCells reads its grade_id."""
    nb = _submission(course)
    _paste_after(nb, "ex_double")
    with pytest.raises(KeyError, match="grade_id"):
        _sanitize(course, nb, [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
                               CheckCellMetadata])


def test_an_unchanged_submission_is_left_alone(course):
    nb = _submission(course)
    assert normalize_grade_cells(copy.deepcopy(nb), _specs(course)) == []
    hidden = {_release_source(course, "test_double"): TEST_DOUBLE,
              _release_source(course, "test_triple"): TEST_TRIPLE}  # put back by OverwriteCells
    want = [(c.cell_type, hidden.get(c.source, c.source)) for c in nb.cells]
    nb = _sanitize(course, nb)
    _assert_well_formed(nb)
    assert [(c.cell_type, c.source) for c in nb.cells] == want


def _specs(course) -> dict[str, GradeCellSpec]:
    from autograder.gradecells import gradebook_specs

    info = course[1]["nbgrader"]
    return gradebook_specs(info["db_url"], info["notebook"], info["assignment"])


def _release_source(course, grade_id: str) -> str:
    release = course[2]
    return release.cells[_index(release, grade_id)].source


def test_a_pasted_answer_cell_is_kept_once_and_both_copies_run(course):
    nb = _submission(course)
    _paste_after(nb, "ex_double")
    nb = _sanitize(course, nb)
    where = _assert_well_formed(nb)
    i = where["ex_double"]
    twin = nb.cells[i + 1]
    assert twin.cell_type == "code" and "nbgrader" not in twin.metadata
    assert nb.cells[i].source == twin.source == DOUBLE


def test_the_answered_copy_of_an_answer_cell_is_the_graded_one(course):
    """A pasted blank copy answered instead of the first: the answer is what nbgrader sees."""
    blank_double = _release_source(course, "ex_double")
    nb = _submission(course, {"ex_double": blank_double})
    _paste_after(nb, "ex_double", source=DOUBLE)
    _paste_after(nb, "written_answer", source="Because the batch has 50 images.")
    nb = _sanitize(course, nb)
    where = _assert_well_formed(nb)
    assert nb.cells[where["ex_double"]].source == DOUBLE
    assert nb.cells[where["ex_double"] - 1].source == blank_double  # runs first, ungraded
    written = nb.cells[where["written_answer"]]
    assert written.cell_type == "markdown" and written.source.startswith("Because the batch")


def test_a_duplicated_test_cell_grades_the_unedited_copy_with_its_hidden_tests(course):
    nb = _submission(course)
    i = _index(nb, "test_double")
    pristine = copy.deepcopy(nb.cells[i])
    pristine.id = "pristine"
    nb.cells[i].source = "pass"  # the copy in place emptied, an unedited one at the end
    nb.cells.append(pristine)
    _paste_after(nb, "test_triple", source="pass")  # both copies edited: the first is graded
    nb.cells[_index(nb, "test_triple")].source = "assert True"
    nb = _sanitize(course, nb)
    where = _assert_well_formed(nb)
    assert where["test_double"] == len(nb.cells) - 1
    assert nb.cells[where["test_double"]].source == TEST_DOUBLE  # restored from the gradebook
    assert nb.cells[i].source == "pass" and "nbgrader" not in nb.cells[i].metadata
    assert nb.cells[where["test_triple"]].source == TEST_TRIPLE
    assert nb.cells[where["test_triple"] + 1].source == "pass"


@pytest.mark.parametrize("meta", [{"grade_id": "test_double_mine"}, {}, "not a dict",
                                  {"grade": True, "points": 9, "locked": True, "solution": False}],
                         ids=["renamed", "emptied", "not-a-dict", "no-grade-id"])
def test_a_test_cell_without_a_known_grade_id_is_ordinary_and_restored(course, meta):
    nb = _submission(course)
    i = _index(nb, "test_double")
    if isinstance(meta, dict) and meta.get("grade_id"):
        nb.cells[i].metadata.nbgrader.grade_id = meta["grade_id"]
    else:
        nb.cells[i].metadata["nbgrader"] = meta
    nb.cells[i].source = "pass"
    nb = _sanitize(course, nb)
    where = _assert_well_formed(nb)
    restored = nb.cells[where["test_double"]]
    assert restored.source.startswith(MISSING.format("test_double"))  # ScoreProbes: counts 0
    assert [c.source for c in nb.cells if "nbgrader" not in c.metadata].count("pass") == 1


def test_grade_flags_changed_by_a_student_are_reset_from_the_gradebook(course):
    nb = _submission(course)
    for gid in ("ex_double", "ex_triple"):  # answer cells marked as graded, 50 points each
        nb.cells[_index(nb, gid)].metadata.nbgrader.update(grade=True, points=50)
    test = nb.cells[_index(nb, "test_double")]  # a test cell marked as an unlocked answer
    test.metadata.nbgrader.update(solution=True, locked=False)
    test.source = "pass"
    nb.cells[_index(nb, "test_triple")].metadata.nbgrader.update(grade=False)
    # nbgrader's CheckCellMetadata: "Markdown grade cell 'written_answer' is not marked as a solution cell"
    nb.cells[_index(nb, "written_answer")].metadata.nbgrader.update(solution=False)
    notes = normalize_grade_cells(copy.deepcopy(nb), _specs(course))
    assert "ex_double: nbgrader metadata grade, points reset from the gradebook" in notes
    nb = _sanitize(course, nb)
    where = _assert_well_formed(nb)
    assert nb.cells[where["test_double"]].source == TEST_DOUBLE
    assert nb.cells[where["ex_double"]].source == DOUBLE
    written = nb.cells[where["written_answer"]].metadata["nbgrader"]
    assert (written["grade"], written["solution"], written["points"]) == (True, True, 3)


def test_without_it_nbgrader_fails_on_a_deleted_written_answer(course):
    """nbgrader looks the locked prompt above it up among grade and answer cells only."""
    nb = _submission(course)
    del nb.cells[_index(nb, "written_answer")]
    steps = [OverwriteCells if s is OverwriteGradeCells else s
             for s in course[0].Autograde.sanitize_preprocessors]
    with pytest.raises(KeyError, match="written_prompt"):
        _sanitize(course, nb, steps)


@pytest.mark.parametrize("deleted", [["written_answer"], ["written_prompt", "written_answer"],
                                     ["test_double", "ex_triple", "test_triple"],
                                     ["ex_double", "test_double"]],
                         ids=["written-answer", "prompt-and-answer", "tests-and-answer", "first-cells"])
def test_deleted_grade_cells_are_restored_where_they_were(course, deleted):
    nb = _submission(course)
    for gid in deleted:
        del nb.cells[_index(nb, gid)]
    nb = _sanitize(course, nb)
    order = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    want = ["ex_double", "test_double", "ex_triple", "test_triple", "written_prompt", "written_answer"]
    # grade cells come back (answers and the locked prompt are not restored, as in nbgrader)
    assert order == [g for g in want if g not in deleted or g.startswith(("test_", "written_answer"))]
    for gid in deleted:
        if gid.startswith(("test_", "written_answer")):
            restored = nb.cells[_index(nb, gid)]
            note = MISSING.format(gid).lstrip("# ")
            assert note in restored.source, restored.source  # ScoreProbes: a test cell counts 0
    if deleted == ["written_answer"]:
        assert _index(nb, "written_answer") == _index(nb, "written_prompt") + 1


def test_the_graded_copy_of_an_answer_is_of_its_own_cell_type_first():
    """Pure use, without a gradebook: a pasted copy turned into markdown notes is not graded."""
    spec = GradeCellSpec(grade_id="ex", cell_type="code", grade=False, solution=True, locked=False,
                         task=False, points=None, checksum=None, unedited=frozenset({"# YOUR CODE"}))
    notes_copy = new_markdown_cell("my notes", metadata=grade_meta("ex", solution=True))
    answer = new_code_cell(DOUBLE, metadata=grade_meta("ex", solution=True))
    nb = new_notebook(cells=[new_code_cell("# YOUR CODE", metadata=grade_meta("ex", solution=True)),
                             notes_copy, answer])
    notes = normalize_grade_cells(nb, {"ex": spec})
    assert ["nbgrader" in c.metadata for c in nb.cells] == [False, False, True]
    assert notes == [("ex appears 3 times (cells 1, 2, 3): cell 3 is graded, the other copies run "
                      "as ordinary cells")]


@pytest.mark.parametrize("make", [new_markdown_cell, new_raw_cell], ids=["markdown", "raw"])
def test_a_test_cell_of_another_type_is_a_code_cell_again(course, make):
    nb = _submission(course)
    i = _index(nb, "test_double")
    nb.cells[i] = make("All tests passed.", metadata=nb.cells[i].metadata)
    nb = _sanitize(course, nb)
    where = _assert_well_formed(nb)
    test = nb.cells[where["test_double"]]
    assert test.cell_type == "code" and test.outputs == [] and test.source == TEST_DOUBLE
    nbformat.validate(nb)


# ---------------------------------------------------------------------------------------------
# slow: real nbgrader autograde of submissions with duplicated cells


def _submit(course: Path, student: str, edit) -> None:
    nb = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in ("ex_double", "ex_triple"):
            cell.source = DOUBLE if gid == "ex_double" else TRIPLE
    edit(nb)
    dest = course / "submitted" / student / A
    dest.mkdir(parents=True)
    nbformat.write(nb, dest / f"{A}.ipynb")


def _twin_tests(nb) -> None:
    """The duplicate_tests attack: every test cell emptied, and an emptied twin at the end."""
    for cell in [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]:
        cell.source = "pass"
        twin = copy.deepcopy(cell)
        twin.id = f"twin-{cell.metadata.nbgrader.grade_id}"
        nb.cells.append(twin)


@pytest.mark.slow
@pytest.mark.skipif(not USABLE, reason=f"bubblewrap sandbox unusable here: {WHY}")
def test_duplicated_cells_are_graded_for_real(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_COURSE_PROFILE", "cpu")
    course = tmp_path / "course"
    (course / "source" / A).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    nbformat.write(source_notebook(), course / "source" / A / f"{A}.ipynb")
    grading.generate_assignment(course, A)

    def pasted(nb):  # the honest copy and paste of an answer cell
        i = _index(nb, "ex_double")
        twin = copy.deepcopy(nb.cells[i])
        twin.id = "pasted"
        nb.cells.insert(i + 1, twin)

    _submit(course, "solved", lambda nb: None)
    _submit(course, "pasted", pasted)
    _submit(course, "twin_tests", _twin_tests)
    _submit(course, "no_written", lambda nb: nb.cells.pop(_index(nb, "written_answer")))
    grading.autograde(course, A)
    scores = grading.cell_scores(course, A)
    auto = {s: {g: v[0] for g, v in cells.items() if g.startswith("test_")} for s, cells in scores.items()}
    assert auto["solved"] == {"test_double": 2, "test_triple": 1}
    assert auto["pasted"] == auto["solved"]
    assert auto["twin_tests"] == auto["solved"]  # the hidden tests ran on the (right) answers
    assert auto["no_written"] == auto["solved"] and scores["no_written"]["written_answer"] == (0, 3)
    assert tamper.read_flags(course, A, "pasted") == [  # reported for review, scored as usual
        "cell ex_double appears 2 times: one copy is graded, the others run as ordinary cells"]
    assert "locked cell test_double was edited" in tamper.read_flags(course, A, "twin_tests")
    nb = nbformat.read(course / "autograded" / "pasted" / A / f"{A}.ipynb", as_version=4)
    copies = [c for c in nb.cells if c.source == DOUBLE]
    assert len(copies) == 2 and ["nbgrader" in c.metadata for c in copies] == [True, False]
    assert all(c.outputs == [] and c.execution_count for c in copies)  # both ran
    grading.generate_feedback(course, A)
    for student in ("solved", "pasted", "twin_tests", "no_written"):
        assert (course / "feedback" / student / A / f"{A}.html").is_file()
