"""Time autograding: bare nbgrader vs the course's trusted pipeline, 1 and 2 workers.

    .venv/bin/python -m bench.grading_time [--students 3] [--rounds 3] [--assignment ch02_params_and_memory]

Grades the same solved submissions in scratch course folders:

* ``bare``: ``nbgrader autograde`` with a bare configuration (no sandbox, no
  probe scoring), all students of a round in one nbgrader process;
* ``pipeline``: ``nbgrader autograde`` with the repository's
  ``nbgrader_config.py`` (bubblewrap sandbox, RobustExecute, probe scoring,
  tamper report), all students of a round in one process;
* ``batch_jobs1`` / ``batch_jobs2``: ``cnn-course grade``'s engine
  (:func:`autograder.batch.grade_batch`: one nbgrader process per submission
  in a scratch course copy, one gradebook writer) with 1 and 2 workers.

Each round grades a fresh set of ``--students`` submissions in every mode, the
modes in a rotated order (so that no mode always runs first or last); the
result is the median over rounds.  The trusted references are built before
timing starts.  Prints a JSON summary and writes it to
``bench/results/grading_time.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from autograder import batch, grading
from autograder.layout import CourseLayout
from autograder.references import build_reference
from tests.notebooks.submissions import make_course, make_submission

RESULTS = Path(__file__).parent / "results"
MODES = ("bare", "pipeline", "batch_jobs1", "batch_jobs2")


def time_mode(mode: str, course: Path, assignment: str, students: list[str], pattern: str) -> float:
    """Seconds to grade ``students`` (already submitted; ``pattern`` matches exactly them) in ``mode``."""
    start = time.perf_counter()
    if mode in ("bare", "pipeline"):
        grading.autograde(course, assignment, pattern)  # one nbgrader process (a student-id glob)
    else:
        outcomes = batch.grade_batch(course, assignment, students, jobs=int(mode[-1]), progress=False)
        failed = [s for s, o in outcomes.items() if o.status != "graded"]
        if failed:
            raise RuntimeError(f"not graded: {failed}")
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print/write its result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--assignment", default="ch02_params_and_memory")
    args = parser.parse_args()
    a, n = args.assignment, args.students
    seconds: dict[str, list[float]] = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        courses = {m: make_course(Path(tmp) / m, [a], bare=m == "bare") for m in MODES}
        for m in MODES[1:]:
            build_reference(courses[m] / "source" / a / f"{a}.ipynb",
                            CourseLayout.at(courses[m]).reference(a, a))
        for r in range(args.rounds):
            students = [f"r{r}_student{i:02d}" for i in range(n)]
            for m in MODES[r % len(MODES):] + MODES[:r % len(MODES)]:
                for s in students:
                    make_submission(courses[m], a, s)
                seconds[m].append(time_mode(m, courses[m], a, students, f"r{r}_*"))
    median = {m: statistics.median(v) for m, v in seconds.items()}
    result = {
        "assignment": a, "students_per_round": n, "rounds": args.rounds,
        "s_per_submission": {m: round(median[m] / n, 2) for m in MODES},
        "s_per_round": {m: [round(x, 1) for x in v] for m, v in seconds.items()},
        "ratio_pipeline_to_bare": round(median["pipeline"] / median["bare"], 3),
        "ratio_batch_jobs1_to_bare": round(median["batch_jobs1"] / median["bare"], 3),
        "throughput_per_min": {m: round(60 * n / median[m], 2) for m in ("batch_jobs1", "batch_jobs2")},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "grading_time.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
