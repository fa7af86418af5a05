"""Batch grading faults: a killed worker, a rerun, parallel workers, one gradebook writer."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import batch, cli, grading
from autograder.layout import CourseLayout
from tests.notebooks.submissions import ROOT, make_submission, solved_sources

pytestmark = pytest.mark.slow
A = "ch02_params_and_memory"
FULL = 15.0  # autograded points of ch02


def _worker_pids(student: str) -> list[int]:
    """PIDs of nbgrader autograde workers grading ``student``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"autograde" in argv and b"--student" in argv and student.encode() in argv:
            pids.append(int(proc.name))
    return pids


def _totals(course: Path) -> dict[str, float]:
    return {s: sum(v[0] for v in cells.values()) for s, cells in grading.cell_scores(course, A).items()}


def test_killed_worker_then_rerun_grades_every_submission_exactly_once(course_factory):
    course = course_factory("batch", [A])
    make_submission(course, A, "alice")
    make_submission(course, A, "bob", solved=False)
    # "slow" is a correct submission whose first answer cell takes a while: its worker is killed.
    slow = solved_sources(A)["ex1_conv_output_size"] + "\nimport time\ntime.sleep(30)\n"
    make_submission(course, A, "slow", overrides={"ex1_conv_output_size": slow})

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    coordinator = subprocess.Popen(
        [sys.executable, "-m", "autograder.cli", "--root", str(course), "grade", A, "--jobs", "2",
         "--quiet"], cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 600
    while not _worker_pids("slow"):
        assert coordinator.poll() is None, coordinator.stdout.read()
        assert time.monotonic() < deadline, "the worker of 'slow' never started"
        time.sleep(0.5)
    time.sleep(5)  # mid-grading: its kernel is running the notebook
    for pid in _worker_pids("slow"):
        os.kill(pid, signal.SIGKILL)
    out, _ = coordinator.communicate(timeout=900)

    assert coordinator.returncode == 1, out  # one submission was not graded
    assert "slow" in out and "NOT GRADED: the grading worker was stopped by SIGKILL" in out
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert set(rows) == {"alice", "bob", "slow"}
    assert rows["slow"]["flags"].startswith("not graded: the grading worker was stopped by SIGKILL")
    assert float(rows["slow"]["raw_score"]) == 0.0
    error = (course / "feedback" / "slow" / A / batch.GRADING_ERROR_FILE).read_text()
    assert "SIGKILL" in error and "scores are 0" in error
    assert _totals(course)["alice"] == FULL and _totals(course)["bob"] == 0.0

    # Rerun: only "slow" is graded; alice and bob are not touched again.  "slow" is resubmitted
    # without its sleep (the sleep only had to outlast the kill), so the rerun does not wait it out.
    make_submission(course, A, "slow")
    markers = {s: CourseLayout.at(course).done_marker(A, s).stat().st_mtime_ns for s in ("alice", "bob")}
    outcomes = batch.grade_batch(course, A, jobs=2, progress=False)
    assert {s: o.status for s, o in outcomes.items()} == {
        "alice": "skipped", "bob": "skipped", "slow": "graded"}
    assert {s: CourseLayout.at(course).done_marker(A, s).stat().st_mtime_ns for s in markers} == markers
    assert _totals(course) == {"alice": FULL, "bob": 0.0, "slow": FULL}

    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submissions = [s.student.id for s in gb.assignment_submissions(A)]
    assert sorted(submissions) == ["alice", "bob", "slow"]  # exactly one record each

    # A resubmission (changed files) is regraded; an unchanged batch does nothing.
    make_submission(course, A, "bob")
    outcomes = batch.grade_batch(course, A, progress=False)
    assert {s: o.status for s, o in outcomes.items()} == {
        "alice": "skipped", "bob": "graded", "slow": "skipped"}
    assert _totals(course)["bob"] == FULL


@pytest.fixture(params=["sqlite", "postgres"])
def gradebook_url(request, monkeypatch):
    """Run the test on the default SQLite gradebook, then on a PostgreSQL database of its own."""
    if request.param == "sqlite":
        return None
    from autograder.layout import DB_URL_ENV

    url = request.getfixturevalue("postgres").create_database("batch_bad")
    monkeypatch.setenv(DB_URL_ENV, url)
    return url


def test_bad_submissions_get_precise_messages_and_the_batch_goes_on(course_factory, capsys, gradebook_url):
    course = course_factory("batch-bad", [A])
    assert (course / "gradebook.db").exists() == (gradebook_url is None)
    make_submission(course, A, "alice")
    truncated = course / "submitted" / "trunc" / A
    truncated.mkdir(parents=True)
    text = (ROOT / "release" / A / f"{A}.ipynb").read_text()
    (truncated / f"{A}.ipynb").write_text(text[: len(text) // 2])
    (course / "submitted" / "empty" / A).mkdir(parents=True)  # the notebook is missing
    notjson = course / "submitted" / "nonb" / A
    notjson.mkdir(parents=True)
    (notjson / f"{A}.ipynb").write_text('{"cells": "nope"}')

    assert cli.main(["--root", str(course), "grade", A, "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "trunc" in out and "is not valid JSON (line" in out
    assert "nonb" in out and "is not a valid Jupyter notebook" in out
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert set(rows) == {"alice", "trunc", "empty", "nonb"}
    assert float(rows["alice"]["raw_score"]) == FULL
    for student in ("trunc", "empty", "nonb"):
        assert float(rows[student]["raw_score"]) == 0.0
    assert "not valid JSON" in (course / "feedback" / "trunc" / A / batch.GRADING_ERROR_FILE).read_text()
    error = (course / "feedback" / "empty" / A / batch.GRADING_ERROR_FILE).read_text()
    assert f"contains none of the assignment's notebooks ({A}.ipynb)" in error


def test_links_and_notebooks_written_by_the_code_are_left_out_and_flagged(course_factory):
    """Files, not the gradebook: the flags live in the tamper reports (SQLite is enough)."""
    course = course_factory("batch-files", [A])
    # A link to the instructor's solutions, and a kernel that writes an extra notebook.
    make_submission(course, A, "linker")
    (course / "submitted" / "linker" / A / "notes.txt").symlink_to(
        f"../../../source/{A}/{A}.ipynb")
    extra = solved_sources(A)["ex1_conv_output_size"] + (
        "\nimport nbformat\nnbformat.write(nbformat.v4.new_notebook(), 'mine.ipynb')\n")
    make_submission(course, A, "extra", overrides={"ex1_conv_output_size": extra})

    assert cli.main(["--root", str(course), "grade", A, "--quiet"]) == 0
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert set(rows) == {"linker", "extra"}
    assert float(rows["linker"]["raw_score"]) == FULL  # graded, without the link
    assert "symbolic link in the submission, not graded: notes.txt -> ../../../source" in rows["linker"]["flags"]
    assert not (course / "autograded" / "linker" / A / "notes.txt").exists()
    assert not (course / "feedback" / "linker" / A / "notes.txt").exists()
    assert "left out" in (course / "feedback" / "linker" / A / batch.GRADING_NOTE_FILE).read_text()
    assert float(rows["extra"]["raw_score"]) == FULL
    assert "mine.ipynb written by the code was renamed mine.ipynb.extra" in rows["extra"]["flags"]
    assert list((course / "feedback" / "extra" / A).glob("*.html"))
