"""RobustExecute: no submission is lost at execution time (real ``nbgrader autograde``).

A tiny synthetic assignment (two answer cells, two test cells with hidden
probes, a few ordinary cells; no TensorFlow) is generated in a scratch course
that uses the repository's ``nbgrader_config.py`` with short time limits
appended.  Students: a correct one, one whose answer cell calls ``os._exit``,
one that calls ``sys.exit``, one that deleted a test cell, one whose answer
cell loops forever ignoring interrupts, and one whose function loops forever
when a test cell calls it.  Each is graded and gets feedback.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.preprocessors import OverwriteCells

from autograder import grading
from autograder.execute import RobustExecute
from autograder.preprocessors import RESTORED_ENAME, ScoreProbes
from autograder.sandbox import bwrap_usable
from tests.notebooks.submissions import grade_meta

ROOT = Path(__file__).resolve().parents[2]
A = "robust"
ORDINARY_LIMIT = 5  # seconds, cpu profile (the gpu entry differs, to see which one applies)
TEST_LIMIT = 6
TRAILING = 6  # ordinary cells after the test cells: each would wait a full timeout without the fix
LIMITS_CONFIG = f"""

# --- added by tests/autograder/test_execute.py: short limits for the synthetic assignment
c.RobustExecute.cell_timeouts = {{"default": {{"cpu": {ORDINARY_LIMIT}, "gpu": 99}}}}
c.RobustExecute.test_timeout = {TEST_LIMIT}
"""
LOOP = "while True:\n    try:\n        pass\n    except KeyboardInterrupt:\n        pass\n"
USABLE, WHY = bwrap_usable()
needs_sandbox = pytest.mark.skipif(not USABLE, reason=f"bubblewrap sandbox unusable here: {WHY}")


def source_notebook():
    """The instructor's notebook: answers with solution markers, tests with hidden probes."""
    cells = [
        new_markdown_cell("# Robust execution\n\nA synthetic assignment."),
        new_code_cell("from course.probe import probe\nprint('setup done')"),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=grade_meta("ex_double", grade=False, solution=True)),
        new_code_cell("assert double(2) == 4\n### BEGIN HIDDEN TESTS\nprobe('double', double, [1, 5, -3])"
                      "\n### END HIDDEN TESTS",
                      metadata=grade_meta("test_first", grade=True, solution=False, points=1)),
        new_code_cell("def triple(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION",
                      metadata=grade_meta("ex_work", grade=False, solution=True)),
        new_code_cell("assert triple(3) == 9\n### BEGIN HIDDEN TESTS\nprobe('triple', triple, [1, 4])"
                      "\n### END HIDDEN TESTS",
                      metadata=grade_meta("test_second", grade=True, solution=False, points=2)),
    ]
    cells += [new_code_cell(f"print('after {i}')") for i in range(1, TRAILING + 1)]
    return new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})


CODE_CELLS = sum(c.cell_type == "code" for c in source_notebook().cells)

DOUBLE = "def double(x):\n    return 2 * x\n"
TRIPLE = "def triple(x):\n    return 3 * x\n"
STUDENTS = {  # student -> (ex_double, ex_work); None: the correct answer
    "alice": (None, None),
    "exiter": (None, "import os\nos._exit(0)\n" + TRIPLE),
    "sysexit": (None, TRIPLE + "import sys\nsys.exit('bye')\n"),
    "deleter": (None, None),  # test_second deleted below
}
LOOPERS = {
    "looper": (None, TRIPLE + "print('looping')\n" + LOOP),
    "hanger": (None, "def triple(x):\n" + "\n".join("    " + line for line in LOOP.splitlines())),
}


def _submit(course: Path, student: str, answers: tuple[str | None, str | None]) -> None:
    nb = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    code = dict(zip(("ex_double", "ex_work"), (answers[0] or DOUBLE, answers[1] or TRIPLE)))
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in code:
            cell.source = code[gid]
    if student == "deleter":
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_second"]
    dest = course / "submitted" / student / A
    dest.mkdir(parents=True)
    nbformat.write(nb, dest / f"{A}.ipynb")


def _make_course(course: Path, extra_config: str = "") -> Path:
    """A scratch course: the repository's config with short limits, and the synthetic source."""
    (course / "nbgrader_config.py").write_text(
        (ROOT / "nbgrader_config.py").read_text() + LIMITS_CONFIG + extra_config)
    (course / "source" / A).mkdir(parents=True)
    nbformat.write(source_notebook(), course / "source" / A / f"{A}.ipynb")
    return course


def _timed_autograde(course: Path, student: str) -> float:
    started = time.monotonic()
    grading.autograde(course, A, student)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Generate, submit, autograde and give feedback for every student; keep the timings."""
    course = _make_course(tmp_path_factory.mktemp("robust"))
    timings = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNN_COURSE_PROFILE", "cpu")
        grading.generate_assignment(course, A)
        for student, answers in STUDENTS.items():
            _submit(course, student, answers)
        started = time.monotonic()
        grading.autograde(course, A)  # the four of them in one batch (builds the reference)
        timings["batch of 4"] = time.monotonic() - started
        timings["alice again"] = _timed_autograde(course, "alice")
        for student, answers in LOOPERS.items():
            _submit(course, student, answers)
            timings[student] = _timed_autograde(course, student)
        started = time.monotonic()
        grading.generate_feedback(course, A)
        timings["feedback"] = time.monotonic() - started
    print("timings (s):", {k: round(v, 1) for k, v in timings.items()})
    return course, grading.cell_scores(course, A), timings


def graded_nb(course: Path, student: str):
    return nbformat.read(course / "autograded" / student / A / f"{A}.ipynb", as_version=4)


def cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def errors(c) -> list[tuple[str, str]]:
    return [(o["ename"], o["evalue"]) for o in c.get("outputs", []) if o["output_type"] == "error"]


def stdout(c) -> str:
    return "".join(o.get("text", "") for o in c.get("outputs", []) if o["output_type"] == "stream")


def trailing(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("print('after")]


# ---------------------------------------------------------------------------------------------
# fast: the limit table and ScoreProbes' rules, no kernel


def _test_cell():
    return new_code_cell("assert True", metadata=grade_meta("t", grade=True, solution=False, points=1))


def test_cell_limits_come_from_the_trusted_table():
    from traitlets.config import Config

    config = Config()
    config.RobustExecute.cell_timeouts = {"default": {"cpu": 600, "gpu": 300},
                                          "ch09_mnist": {"cpu": 2400}}
    config.RobustExecute.test_timeout = 120
    config.Execute.timeout = 42
    ex = RobustExecute(config=config)
    plain = new_code_cell("x = 1", metadata={"timeout": 1})  # a notebook's own value is ignored
    cases = [("ch01", "cpu", 600), ("ch01", "gpu", 300), ("ch09_mnist", "cpu", 2400),
             ("ch09_mnist", "gpu", 300), ("ch01", "tpu", 42)]
    for assignment, profile, want in cases:
        ex._assignment, ex._profile = assignment, profile
        assert ex._get_timeout(plain) == want, (assignment, profile)
        assert ex._get_timeout(_test_cell()) == 120
    assert ex._get_timeout(None) == 42  # the start-up handshake
    ex.cell_timeouts = {"default": {"cpu": 0}}
    ex._profile = "cpu"
    assert ex._get_timeout(plain) is None  # 0: no limit


def test_config_uses_robust_execute_and_restores_missing_cells():
    text = (ROOT / "nbgrader_config.py").read_text()
    assert "RobustExecute," in text and "SandboxedExecute" not in text
    assert "c.OverwriteCells.add_missing_cells = True" in text


def _score_probes(cell):
    """``ScoreProbes.preprocess_cell`` with a one-case reference for grade id ``t``."""
    sp = ScoreProbes()
    sp._reference = {"t": [{"name": "p", "records": [{"input": [], "output": 1}]}]}
    sp._workdir = Path()
    sp._missing_note = OverwriteCells().missing_cell_notification
    return sp.preprocess_cell(cell, {}, 0)[0]


def test_score_probes_zeroes_restored_and_unfinished_test_cells():
    restored = OverwriteCells().missing_cell_transform(
        type("Src", (), {"name": "t", "cell_type": "code", "locked": True, "checksum": "x",
                         "source": "assert True"})(), 1)
    restored.outputs = [{"output_type": "stream", "name": "stdout", "text": "fine\n"}]
    out = _score_probes(restored).outputs
    assert [(o["output_type"], o.get("ename")) for o in out] == [("error", RESTORED_ENAME)]
    assert "deleted from your submission" in out[0]["evalue"] and "counts 0" in out[0]["evalue"]

    not_run = _test_cell()
    not_run.outputs = [{"output_type": "error", "ename": "NotRun", "evalue": "Not run: why",
                        "traceback": []}]
    assert _score_probes(not_run).outputs == not_run.outputs  # message kept as it is

    ordinary = _test_cell()  # the marker only counts at the start of the cell
    ordinary.source = "assert True\n# This cell (id:t) was missing from the submission."
    ordinary.outputs = []
    assert errors(_score_probes(ordinary))[0][0] == "HiddenChecksFailed"


# ---------------------------------------------------------------------------------------------
# slow: the real nbgrader autograde and generate_feedback


@pytest.mark.slow
@needs_sandbox
def test_correct_submission_full_marks(graded):
    _, scores, _ = graded
    assert scores["alice"]["test_first"] == (1.0, 1.0)
    assert scores["alice"]["test_second"] == (2.0, 2.0)


@pytest.mark.slow
@needs_sandbox
def test_os_exit_is_graded_with_not_run_cells(graded):
    course, scores, _ = graded
    assert scores["exiter"]["test_first"] == (1.0, 1.0)  # passed before the kernel died
    assert scores["exiter"]["test_second"] == (0.0, 2.0)
    nb = graded_nb(course, "exiter")
    [(ename, evalue)] = errors(cell(nb, "ex_work"))
    assert ename == "KernelDied"
    assert evalue.startswith("The kernel died while running cell 5 (grade id ex_work)")
    assert "os._exit" in evalue and "memory limit" in evalue
    assert evalue.endswith("the remaining cells were not run.")
    for c in [cell(nb, "test_second"), *trailing(nb)]:
        [(ename, evalue)] = errors(c)
        assert ename == "NotRun" and "the kernel died while running cell 5" in evalue, (ename, evalue)
    assert "setup done" in stdout(nb.cells[1])


@pytest.mark.slow
@needs_sandbox
def test_sys_exit_is_an_error_of_its_cell_only(graded):
    course, scores, _ = graded
    assert scores["sysexit"]["test_first"] == (1.0, 1.0)
    assert scores["sysexit"]["test_second"] == (2.0, 2.0)  # ran after the sys.exit cell
    nb = graded_nb(course, "sysexit")
    assert [e for e, _ in errors(cell(nb, "ex_work"))] == ["SystemExit"]
    assert [stdout(c) for c in trailing(nb)] == [f"after {i}\n" for i in range(1, TRAILING + 1)]


@pytest.mark.slow
@needs_sandbox
def test_deleted_test_cell_is_restored_and_scores_zero(graded):
    course, scores, _ = graded
    assert scores["deleter"]["test_first"] == (1.0, 1.0)
    assert scores["deleter"]["test_second"] == (0.0, 2.0)
    nb = graded_nb(course, "deleter")
    restored = cell(nb, "test_second")
    assert restored.source.startswith("# This cell (id:test_second) was missing from the submission.")
    [(ename, evalue)] = errors(restored)
    assert ename == RESTORED_ENAME
    assert evalue == ("this test cell was deleted from your submission; it was restored for feedback "
                      "and counts 0")
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    assert ids.index("test_second") == ids.index("ex_work") + 1  # back in its place
    assert [stdout(c) for c in trailing(nb)] == [f"after {i}\n" for i in range(1, TRAILING + 1)]


@pytest.mark.slow
@needs_sandbox
def test_interrupt_proof_loop_in_an_answer_cell_stops_the_sandbox(graded):
    course, scores, timings = graded
    assert scores["looper"]["test_first"] == (1.0, 1.0)
    assert scores["looper"]["test_second"] == (0.0, 2.0)
    nb = graded_nb(course, "looper")
    work = cell(nb, "ex_work")
    assert "looping" in stdout(work)  # output before the loop is kept
    [(ename, evalue)] = errors(work)
    assert ename == "CellTimeoutError"
    assert evalue == (f"Cell 5 (grade id ex_work) was still running after {ORDINARY_LIMIT} s, the time "
                      f"limit of ordinary cells of {A} (profile cpu): the sandbox was stopped; the "
                      f"remaining cells were not run.")
    for c in [cell(nb, "test_second"), *trailing(nb)]:
        [(ename, evalue)] = errors(c)
        assert ename == "NotRun" and "cell 5 (grade id ex_work) ran past its time limit" in evalue
    # One timeout, not one per remaining cell (interrupts are ignored by the loop).
    elapsed, baseline = timings["looper"], timings["alice again"]
    assert elapsed < CODE_CELLS * ORDINARY_LIMIT, timings
    assert elapsed < baseline + ORDINARY_LIMIT + 15, timings
    _assert_no_process_left(course)


@pytest.mark.slow
@needs_sandbox
def test_test_cell_calling_a_looping_function_uses_the_test_limit(graded):
    course, scores, timings = graded
    assert scores["hanger"]["test_first"] == (1.0, 1.0)
    assert scores["hanger"]["test_second"] == (0.0, 2.0)
    nb = graded_nb(course, "hanger")
    [(ename, evalue)] = errors(cell(nb, "test_second"))
    assert ename == "CellTimeoutError"
    assert evalue == (f"Cell 6 (grade id test_second) was still running after {TEST_LIMIT} s, the time "
                      f"limit of autograder test cells (profile cpu): the sandbox was stopped; the "
                      f"remaining cells were not run.")
    assert all(errors(c)[0][0] == "NotRun" for c in trailing(nb))
    assert timings["hanger"] < timings["alice again"] + TEST_LIMIT + 15, timings
    _assert_no_process_left(course)


@pytest.mark.slow
@needs_sandbox
def test_feedback_for_every_student(graded):
    course, _, _ = graded
    expected = {"alice": [], "exiter": ["KernelDied", "NotRun"], "sysexit": ["SystemExit"],
                "deleter": ["deleted from your submission"], "looper": ["CellTimeoutError", "NotRun"],
                "hanger": ["CellTimeoutError", "NotRun"]}
    for student, words in expected.items():
        html = (course / "feedback" / student / A / f"{A}.html").read_text()
        assert "probe(" not in html  # hidden tests stripped
        for word in words:
            assert word in html, (student, word)


def _assert_no_process_left(course: Path) -> None:
    """No process (a sandboxed kernel) still works in the course's folders."""
    left = []
    for proc in psutil.process_iter(["pid", "cwd"]):
        cwd = proc.info.get("cwd") or ""
        if cwd.startswith(str(course) + os.sep):
            left.append((proc.info["pid"], cwd))
    assert not left


@pytest.mark.slow
def test_unsandboxed_grading_warns_in_the_feedback(tmp_path, monkeypatch):
    """Grading outside the sandbox (here: switched off) puts a warning first in the feedback."""
    from autograder.execute import UNSANDBOXED_WARNING

    course = _make_course(tmp_path, "c.Sandbox.enabled = False\n")
    monkeypatch.setenv("CNN_COURSE_PROFILE", "cpu")
    grading.generate_assignment(course, A)
    _submit(course, "alice", (None, None))
    grading.autograde(course, A)
    grading.generate_feedback(course, A)
    scores = grading.cell_scores(course, A)["alice"]
    assert scores["test_first"][0] == 1 and scores["test_second"][0] == 2
    html = (course / "feedback" / "alice" / A / f"{A}.html").read_text()
    assert "graded WITHOUT the grading sandbox" in html
    assert UNSANDBOXED_WARNING.startswith("**Warning")
