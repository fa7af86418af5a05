"""`cnn-course grade`: one command grades a folder of submissions and never stops early."""

from __future__ import annotations

import csv

import pytest

from autograder import cli
from tests.notebooks.submissions import make_submission

pytestmark = pytest.mark.slow
A = "ch02_params_and_memory"


def test_grade_command_survives_a_corrupt_notebook(course_factory, capsys):
    course = course_factory("cli", [A])
    make_submission(course, A, "alice")
    make_submission(course, A, "bob", solved=False)
    corrupt = course / "submitted" / "carol" / A
    corrupt.mkdir(parents=True)
    (corrupt / f"{A}.ipynb").write_text("{ this is not a notebook")

    assert cli.main(["--root", str(course), "grade", A]) == 1  # carol could not be graded
    out = capsys.readouterr().out
    assert "carol" in out and "NOT GRADED" in out
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert float(rows["alice"]["raw_score"]) == 15.0
    assert float(rows["bob"]["raw_score"]) == 0.0
    assert rows["alice"]["flags"] == "" and rows["bob"]["flags"] == ""
    assert (course / "feedback" / "carol" / A / "GRADING_ERROR.txt").exists()
    assert list((course / "feedback" / "alice" / A).glob("*.html"))

    # Resumable: a second run skips what is graded (alice's autograded file is untouched).
    stamp = (course / "autograded" / "alice" / A / f"{A}.ipynb").stat().st_mtime_ns
    cli.main(["--root", str(course), "grade", A])
    assert (course / "autograded" / "alice" / A / f"{A}.ipynb").stat().st_mtime_ns == stamp
