"""Time autograding: bare nbgrader vs the course's trusted pipeline, 1 and 2 workers.

    .venv/bin/python -m bench.grading_time [--students 4] [--assignment ch02_params_and_memory]

Grades the same solved submissions in scratch course folders:

* ``bare``: ``nbgrader autograde`` with a bare configuration (no sandbox, no
  probe scoring), all students in one nbgrader process;
* ``pipeline``: ``nbgrader autograde`` with the repository's
  ``nbgrader_config.py`` (bubblewrap sandbox, RobustExecute, probe scoring,
  tamper report), all students in one process;
* ``batch_jobs1`` / ``batch_jobs2``: ``cnn-course grade``'s engine
  (:func:`autograder.batch.grade_batch`: one worker per submission in a
  scratch course copy, one gradebook writer) with 1 and 2 workers.

The trusted references are built before timing starts.  Prints a JSON summary
and writes it to ``bench/results/grading_time.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from autograder import batch, grading
from autograder.references import build_reference, reference_path
from tests.notebooks.submissions import make_course, make_submission

RESULTS = Path(__file__).parent / "results"


def time_autograde(course: Path, assignment: str, students: int) -> float:
    """Seconds for one ``nbgrader autograde`` of ``students`` solved submissions in ``course``."""
    for i in range(students):
        make_submission(course, assignment, f"student{i:02d}")
    start = time.perf_counter()
    grading.autograde(course, assignment)
    return time.perf_counter() - start


def time_grade_batch(course: Path, assignment: str, students: int, jobs: int) -> float:
    """Seconds for :func:`autograder.batch.grade_batch` with ``jobs`` workers."""
    for i in range(students):
        make_submission(course, assignment, f"student{i:02d}")
    start = time.perf_counter()
    outcomes = batch.grade_batch(course, assignment, jobs=jobs, progress=False)
    elapsed = time.perf_counter() - start
    failed = [s for s, o in outcomes.items() if o.status != "graded"]
    if failed:
        raise RuntimeError(f"not graded: {failed}")
    return elapsed


def main() -> None:
    """Run the benchmark and print/write its result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--assignment", default="ch02_params_and_memory")
    args = parser.parse_args()
    a, n = args.assignment, args.students
    with tempfile.TemporaryDirectory() as tmp:
        courses = {"bare": make_course(Path(tmp) / "bare", [a], bare=True)}
        for name in ("pipeline", "batch_jobs1", "batch_jobs2"):
            courses[name] = make_course(Path(tmp) / name, [a])
            build_reference(courses[name] / "source" / a / f"{a}.ipynb",
                            reference_path(courses[name] / ".grading/references", a, a))
        seconds = {
            "bare": time_autograde(courses["bare"], a, n),
            "pipeline": time_autograde(courses["pipeline"], a, n),
            "batch_jobs1": time_grade_batch(courses["batch_jobs1"], a, n, jobs=1),
            "batch_jobs2": time_grade_batch(courses["batch_jobs2"], a, n, jobs=2),
        }
    per = {k: round(v / n, 2) for k, v in seconds.items()}
    result = {
        "assignment": a, "students": n,
        "s_per_submission": per,
        "ratio_pipeline_to_bare": round(seconds["pipeline"] / seconds["bare"], 3),
        "ratio_batch_jobs1_to_bare": round(seconds["batch_jobs1"] / seconds["bare"], 3),
        "throughput_per_min": {k: round(60 * n / seconds[k], 2) for k in ("batch_jobs1", "batch_jobs2")},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "grading_time.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
