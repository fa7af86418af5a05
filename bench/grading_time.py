"""Time autograding: bare nbgrader vs the course's trusted pipeline.

    .venv/bin/python -m bench.grading_time [--students 4] [--assignment ch02_params_and_memory]

Grades the same solved submissions twice, in two scratch course folders: one
with a bare nbgrader configuration, one with the repository's
``nbgrader_config.py`` (probe scoring; sandboxing where configured).  The
trusted references are built before timing starts.  Prints a JSON summary and
writes it to ``bench/results/grading_time.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from autograder import grading
from autograder.references import build_reference, reference_path
from tests.notebooks.submissions import make_course, make_submission

RESULTS = Path(__file__).parent / "results"


def time_batch(course: Path, assignment: str, students: int) -> float:
    """Seconds to autograde ``students`` solved submissions in ``course``."""
    for i in range(students):
        make_submission(course, assignment, f"student{i:02d}")
    start = time.perf_counter()
    grading.autograde(course, assignment)
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print/write its result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--assignment", default="ch02_params_and_memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = make_course(Path(tmp) / "bare", [args.assignment], bare=True)
        full = make_course(Path(tmp) / "full", [args.assignment])
        source = full / "source" / args.assignment / f"{args.assignment}.ipynb"
        build_reference(source, reference_path(full / ".grading/references", args.assignment,
                                               args.assignment))
        t_bare = time_batch(bare, args.assignment, args.students)
        t_full = time_batch(full, args.assignment, args.students)
    result = {
        "assignment": args.assignment, "students": args.students,
        "bare_s_per_submission": round(t_bare / args.students, 2),
        "pipeline_s_per_submission": round(t_full / args.students, 2),
        "ratio": round(t_full / t_bare, 3),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "grading_time.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
