"""The attack corpus (``tests/attacks/corpus.py``) graded end to end in one batch.

Every attack is a real chapter 2 submission; together with a blank and a
solved control they are graded by the real command line (``cnn-course
grade``, with ``--jobs 2`` where the command has it) in a scratch course
whose ``nbgrader_config.py`` is the course's own plus short time limits (so
that runaway submissions end within a minute), a 64 MiB file-size limit and
an 8 MiB folder limit (so that the disk-filling attack stays small on a
shared machine) and a
sandbox uid of its own (so that the fork bomb cannot starve grading kernels
of other test runs on the same machine, which run as ``nobody``).

Then, per attack: it is in ``grades.csv``; its automatic score is at most
the blank notebook's; the tamper report flags it where the corpus says so;
its feedback exists and shows no hidden test code and no hidden reference
output; what it printed as evidence shows that nothing it tried outside its
folder worked; and no other student's or grader's file changed.

The fork bomb is the one attack graded in a second, small batch (same
command, same configuration) beside an honest, solved bystander: it exhausts
the process limit of its sandbox uid, and the bystander, graded at the same
time by the other worker (which has a uid of its own), must not notice.

One more honest control sits in the main batch: a solved notebook with its
first answer cell duplicated (JupyterLab's copy and paste keeps the cell's
nbgrader metadata), which must still score full marks.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import hashlib
import html
import io
import json
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder import cli, grading
from tests.attacks import corpus
from tests.notebooks.submissions import ROOT, make_submission

pytestmark = pytest.mark.slow

A = corpus.A
AUTOGRADED = set(corpus.TEST_IDS)
CONTROLS = ["control_blank", "control_solved"]
DUPLICATED = "control_solved_duplicated_cell"
MAIN = [n for n, a in corpus.ATTACKS.items() if a.batch == "main"]
STUDENTS = [*CONTROLS, DUPLICATED, *(corpus.student(n) for n in MAIN)]
FORK_BATCH = [corpus.student("fork_bomb"), corpus.BYSTANDER]
MAX_BYTES = 10_000_000
"""Largest graded or feedback folder expected of any submission."""
SANDBOX_UID = 64123


def _cli_has_jobs() -> bool:
    """Whether ``cnn-course grade`` takes ``--jobs`` (it was added while this corpus was written)."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            cli.build_parser().parse_args(["grade", A, "--jobs", "2"])
    except SystemExit:
        return False
    return True


JOBS = ["--jobs", "2"] if _cli_has_jobs() else []

TEST_CONFIG = f"""

# ---- tests/attacks: short limits, so that runaway submissions end within a minute
c.Execute.timeout = 60
c.RobustExecute.cell_timeouts = {{"default": {{"cpu": 60, "gpu": 60}}}}
c.RobustExecute.test_timeout = 60
c.RobustExecute.profile = "cpu"
c.Sandbox.cpu_time_s = 240  # backstop if the per-cell limits are missing
c.Sandbox.max_file_size_mib = 64
c.Sandbox.max_workdir_mib = 8
c.Sandbox.sandbox_uid = {SANDBOX_UID}
c.Sandbox.sandbox_gid = {SANDBOX_UID}
"""

VICTIM_FILES = [f"submitted/{corpus.VICTIM}/{A}/{A}.ipynb", f"source/{A}/{A}.ipynb", "nbgrader_config.py"]
HIDDEN_MARKERS = ["BEGIN HIDDEN TESTS", "_random_architectures", "_probe_value(", "_probe(",
                  *(f"Random({seed})" for seed in range(202602, 202608))]


@dataclass
class Graded:
    """The scratch course after one ``cnn-course grade`` run over the whole corpus."""

    course: Path
    rc: int
    seconds: float
    rows: list[dict]
    scores: dict[str, dict[str, tuple[float, float]]]
    victims_before: dict[str, str]

    def row(self, student: str) -> dict:
        return next(r for r in self.rows if r["student_id"] == student)

    def auto(self, student: str) -> float:
        """Automatic score: the sum over the autograder test cells."""
        assert student in self.scores, f"{student} has no grades in the gradebook"
        return sum(s for gid, (s, _) in self.scores[student].items() if gid in AUTOGRADED)

    def flags(self, student: str) -> str:
        return self.row(student)["flags"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _grade(course: Path, students: list[str]) -> Graded:
    """Run ``cnn-course grade`` over every submission of ``course`` and read the results."""
    victims = {rel: _sha(course / rel) for rel in VICTIM_FILES if (course / rel).exists()}
    argv = ["--root", str(course), "grade", A, *JOBS]
    start = time.perf_counter()
    rc = cli.main(argv)
    seconds = time.perf_counter() - start
    print(f"\n`cnn-course {' '.join(argv[2:])}` on {len(students)} submissions: {seconds:.0f} s")
    with (course / "grades.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] == A]
    return Graded(course, rc, seconds, rows, grading.cell_scores(course, A), victims)


def _scratch_course(course_factory, name: str) -> Path:
    course = course_factory(name, [A])
    with (course / "nbgrader_config.py").open("a") as f:
        f.write(TEST_CONFIG)
    return course


@pytest.fixture(scope="module")
def graded(course_factory) -> Graded:
    """The main batch: both controls and every attack but the fork bomb."""
    course = _scratch_course(course_factory, "attacks")
    make_submission(course, A, "control_blank", solved=False)
    make_submission(course, A, "control_solved")
    path = make_submission(course, A, DUPLICATED)
    nb = nbformat.read(path, as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    twin = copy.deepcopy(nb.cells[first])
    twin.id = "pasted-copy"
    nb.cells.insert(first + 1, twin)
    nbformat.write(nb, path)
    for name in MAIN:
        corpus.build(course, name)
    return _grade(course, STUDENTS)


@pytest.fixture(scope="module")
def fork_batch(course_factory, graded) -> Graded:
    """The fork bomb graded beside a spacer and a solved bystander."""
    course = _scratch_course(course_factory, "fork_bomb")  # its reference comes from the test run's cache
    corpus.build(course, "fork_bomb")
    make_submission(course, A, corpus.BYSTANDER)
    return _grade(course, FORK_BATCH)


@pytest.fixture(scope="module")
def results(graded, fork_batch):
    """The batch each attack was graded in, by attack name."""
    return {n: fork_batch if a.batch == "fork_bomb" else graded for n, a in corpus.ATTACKS.items()}


def _xfail(name: str, check: str):
    reason = corpus.ATTACKS[name].xfail.get(check)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def _params(check: str, names=None):
    return [pytest.param(n, marks=_xfail(n, check), id=n) for n in (names or corpus.ATTACKS)]


# ---------------------------------------------------------------- the batch as a whole

def test_every_submission_is_in_grades_csv_once(graded, fork_batch):
    for batch, students in [(graded, STUDENTS), (fork_batch, FORK_BATCH)]:
        assert sorted(r["student_id"] for r in batch.rows) == sorted(students)
        assert batch.rc in (0, 1)  # 1: some submissions could not be graded (the corrupt ones)


def test_solved_control_scores_full_marks_and_blank_scores_zero(graded):
    solved = {gid: v for gid, v in graded.scores["control_solved"].items() if gid in AUTOGRADED}
    assert set(solved) == AUTOGRADED
    assert all(score == max_score for score, max_score in solved.values()), solved
    assert graded.auto("control_blank") == 0


def test_honest_controls_raise_no_flags(graded):
    assert graded.flags("control_blank") == "" and graded.flags("control_solved") == ""


def test_victims_are_untouched(graded):
    course = graded.course
    assert {rel: _sha(course / rel) for rel in VICTIM_FILES} == graded.victims_before
    for rel in [f"autograded/{corpus.VICTIM}/{A}/{A}.ipynb", f".grading/references/{A}/{A}.json"]:
        assert not (course / rel).read_bytes().endswith(b" "), f"{rel} was appended to"
    for rel in corpus.CREATED_BY_ATTACKS:
        assert not (course / rel).exists(), rel
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("SELECT count(*) FROM grade WHERE extra_credit IS NOT NULL").fetchone() == (0,)


def test_fork_bomb_costs_a_bystander_nothing(fork_batch):
    assert fork_batch.auto(corpus.BYSTANDER) == 15, fork_batch.flags(corpus.BYSTANDER)


def test_a_duplicated_answer_cell_still_scores_full_marks(graded):
    """NormalizeGradeCells grades one copy; the pasted twin runs as an ordinary cell."""
    assert graded.auto(DUPLICATED) == 15, graded.flags(DUPLICATED)
    assert "not graded" not in graded.flags(DUPLICATED)
    assert "cell ex1_conv_output_size appears 2 times" in graded.flags(DUPLICATED)


# ---------------------------------------------------------------- per attack

@pytest.mark.parametrize("name", _params("score"))
def test_attack_gains_no_points(graded, results, name):
    assert results[name].auto(corpus.student(name)) <= graded.auto("control_blank")


@pytest.mark.parametrize("name", _params("flags", [n for n, a in corpus.ATTACKS.items() if a.flags]))
def test_tamper_report_flags_the_attack(results, name):
    flags = results[name].flags(corpus.student(name))
    assert flags, "no tamper flag"
    for expected in corpus.ATTACKS[name].flags:
        assert expected in flags, f"{expected!r} not in {flags!r}"


def test_unreadable_submissions_are_flagged_as_not_graded(graded):
    for name in ["corrupt_json", "not_a_notebook"]:
        assert graded.flags(corpus.student(name)).startswith("not graded:"), name


def _evidence(course: Path, student: str) -> list[dict]:
    nb = nbformat.read(course / "autograded" / student / A / f"{A}.ipynb", as_version=4)
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(corpus.EVIDENCE_TAG):
                    found.append(json.loads(line[len(corpus.EVIDENCE_TAG):]))
    return found


@pytest.mark.parametrize("name", _params("evidence", [n for n, a in corpus.ATTACKS.items() if a.evidence]))
def test_nothing_outside_the_sandbox_worked(results, name):
    evidence = _evidence(results[name].course, corpus.student(name))
    assert evidence, "the attack did not report what it tried"
    assert all(e["succeeded"] == [] for e in evidence), evidence


@pytest.mark.parametrize("name", _params("size"))
def test_graded_and_feedback_folders_stay_small(results, name):
    course, student = results[name].course, corpus.student(name)
    sizes = {step: sum(p.stat().st_size for p in (course / step / student).rglob("*") if p.is_file())
             for step in ("autograded", "feedback")}
    assert all(size <= MAX_BYTES for size in sizes.values()), sizes


def test_graded_notebooks_hold_every_test_cell(graded):
    """Whatever a submission did to its cells, nbgrader graded the course's test cells."""
    for student in STUDENTS:
        path = graded.course / "autograded" / student / A / f"{A}.ipynb"
        if not path.exists():
            assert graded.flags(student).startswith("not graded:"), student
            continue
        nb = nbformat.read(path, as_version=4)
        ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
        assert AUTOGRADED <= ids, (student, AUTOGRADED - ids)


# ---------------------------------------------------------------- feedback

def _text(path: Path) -> str:
    """A feedback file as the student reads it: tags removed, entities decoded, commas dropped."""
    text = path.read_text(errors="replace")
    if path.suffix == ".html" and len(text) < 20_000_000:  # larger: too slow to strip
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text.replace(",", "")


def _hidden_outputs(course: Path) -> set[int]:
    """Large integers the reference solution returned on hidden cases (never shown to students)."""
    ref = json.loads((course / ".grading" / "references" / A / f"{A}.json").read_text())
    out: set[int] = set()

    def walk(value):
        if isinstance(value, bool):
            return
        if isinstance(value, int) and value >= 1_000_000:
            out.add(value)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for payloads in ref["cells"].values():
        for payload in payloads:
            for record in payload["records"]:
                walk(record.get("output"))
    return out


def _exercise7_answers(course: Path) -> dict:
    """Exercise 7's three answers by test cell, as the hidden reference record holds them."""
    ref = json.loads((course / ".grading" / "references" / A / f"{A}.json").read_text())
    return {cell: record["output"] for cell in ("test_total_params", "test_predict_ram", "test_train_ram")
            for payload in ref["cells"][cell] for record in payload["records"]}


def _feedback_params():
    return ([pytest.param(s, id=s) for s in CONTROLS]
            + [pytest.param(corpus.student(n), marks=_xfail(n, "feedback"), id=n) for n in corpus.ATTACKS])


@pytest.mark.parametrize("student", _feedback_params())
def test_feedback_exists_and_hides_hidden_tests_and_reference_values(graded, results, student):
    name = student.removeprefix("attack_")
    batch = results[name] if name in corpus.ATTACKS else graded
    course, scores = batch.course, batch.scores.get(student, {})
    folder = course / "feedback" / student / A
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
    assert any(p.suffix == ".html" or p.name == "GRADING_ERROR.txt" for p in files), \
        f"no feedback in {folder}"
    submitted = (course / "submitted" / student / A / f"{A}.ipynb").read_text(errors="replace")
    own = submitted.replace(",", "").replace("_", "")
    release = (ROOT / "release" / A / f"{A}.ipynb").read_text().replace(",", "")
    hidden = {v for v in _hidden_outputs(course) if str(v) not in release and str(v) not in own}
    assert hidden, "no hidden reference value to look for"
    for path in files:
        if path.suffix not in (".html", ".txt", ".ipynb", ".json", ".py", ".md", ".csv"):
            continue
        text = _text(path)
        for marker in HIDDEN_MARKERS:
            if marker not in submitted:
                assert marker not in text, f"{path.name} shows hidden test code: {marker!r}"
        numbers = {int(n) for n in re.findall(r"(?<![\d.])\d{7,}(?![\d.])", text)}
        assert not numbers & hidden, f"{path.name} shows hidden reference outputs {numbers & hidden}"
        for cell, value in _exercise7_answers(course).items():  # the headline answers, any size
            earned = scores.get(cell, (0, 1))
            if str(value) in text.replace(",", "") and earned[0] < earned[1]:  # not computed
                assert str(value) in release or str(value) in own, f"{path.name} shows {value}"


@pytest.mark.parametrize("name, note", [
    ("leak_hidden_tests_history", "[output removed by the grader: it contained hidden test code]"),
    ("leak_hidden_tests_hook", "[output removed by the grader: it contained hidden test code]"),
    ("output_flood", "characters removed by the grader: output too long"),
])
def test_leaks_and_floods_were_cut_by_the_grader(graded, name, note):
    """The attack did print (hidden code, 120 MB): SanitizeOutputs left a note in its place."""
    student = corpus.student(name)
    nb = (graded.course / "autograded" / student / A / f"{A}.ipynb").read_text()
    assert note in nb
    html_text = _text(next((graded.course / "feedback" / student / A).glob("*.html")))
    assert note.replace(",", "") in html_text and "Hidden checks:" in html_text


def test_disk_fill_was_stopped_at_the_folder_limit(results):
    """The watchdog stopped the sandbox; the student's notebook says why."""
    course, student = results["disk_fill"].course, corpus.student("disk_fill")
    nb = (course / "autograded" / student / A / f"{A}.ipynb").read_text()
    assert "past the sandbox's disk limit of 8 MiB" in nb
    html_text = _text(next((course / "feedback" / student / A).glob("*.html")))
    assert "disk limit" in html_text
