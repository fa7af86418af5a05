"""Grading at scale: the local pool vs a Dask LocalCluster, and whether the single writer keeps up.

    .venv/bin/python -m bench.scale [--students 8] [--workers 1 2 4] [--tiny 100] [--out scale]
    .venv/bin/python -m bench.scale --workers --tiny 500 --out scale_flood500   # the flood only

1. **Throughput, same batch.** ``--students`` solved chapter 2 submissions are
   graded with ``cnn-course grade``'s engine (:func:`autograder.batch.grade_batch`,
   ``force=True``) on the embedded pool (``jobs=N``) and on a Dask
   ``LocalCluster`` (``cluster="local:N"``) for each ``N`` in ``--workers``, the
   two modes alternating.  Reported: wall seconds, submissions per minute, the
   ratio Dask / pool for each ``N``, the median time one submission's grading
   took on its worker, and the overhead per task: worker time not spent grading,
   ``(wall x N - sum of grading times) / submissions`` (cluster start-up,
   bundling and transfers, the writer, idle workers at the end of the batch).
2. **The writer under a flood.** ``--tiny`` submissions of a one-cell
   assignment (no TensorFlow; seconds to grade) go through Dask with 2 workers;
   the time the client spends recording each result (committing files, merging
   grades into the gradebook, the completion marker) is measured, so the
   writer's capacity in submissions per minute can be set against the rate at
   which results arrive.

Prints a JSON summary and writes ``bench/results/NAME.json`` (``--out``).
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

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from autograder import batch, grading
from autograder.batch import writer
from autograder.batch.preflight import ensure_references
from autograder.layout import CourseLayout
from tests.notebooks.submissions import grade_meta, make_course, make_submission

RESULTS = Path(__file__).parent / "results"
A = "ch02_params_and_memory"
TINY = "tiny"


def grade(course: Path, assignment: str, students: list[str], mode: str, n: int) -> dict:
    """Grade ``students`` in ``mode`` (``pool`` or ``dask``) with ``n`` workers; time it."""
    start = time.perf_counter()
    kwargs = {"jobs": n} if mode == "pool" else {"cluster": f"local:{n}"}
    outcomes = batch.grade_batch(course, assignment, students, force=True, progress=False, **kwargs)
    wall = time.perf_counter() - start
    failed = [s for s, o in outcomes.items() if o.status != "graded"]
    if failed:
        raise RuntimeError(f"not graded in {mode}:{n}: {failed}: {outcomes[failed[0]].message}")
    layout = CourseLayout.at(course)
    grading_s = [json.loads(layout.done_marker(assignment, s).read_text())["seconds"] for s in outcomes]
    return {"mode": mode, "workers": n, "seconds": round(wall, 1),
            "per_minute": round(60 * len(students) / wall, 2),
            "grading_median_s": round(statistics.median(grading_s), 2),
            # worker time not spent grading (queueing aside): start-up, transfers, writing
            "overhead_per_task_s": round((wall * min(n, len(students)) - sum(grading_s)) / len(students), 2)}


def tiny_course(root: Path, students: int) -> list[str]:
    """A one-answer assignment (no TensorFlow) and ``students`` solved submissions of it."""
    source = new_notebook(cells=[
        new_code_cell("from course.probe import probe"),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=grade_meta("ex_double", solution=True)),
        new_code_cell("assert double(2) == 4\n### BEGIN HIDDEN TESTS\nprobe('double', double, [1, 5])\n"
                      "### END HIDDEN TESTS", metadata=grade_meta("test_double", grade=True, points=1)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (root / "source" / TINY).mkdir(parents=True)
    nbformat.write(source, root / "source" / TINY / f"{TINY}.ipynb")
    grading.generate_assignment(root, TINY)
    names = [f"s{i:04d}" for i in range(students)]
    release = nbformat.read(root / "release" / TINY / f"{TINY}.ipynb", as_version=4)
    release.cells[1].source = "def double(x):\n    return 2 * x\n"
    for name in names:
        folder = root / "submitted" / name / TINY
        folder.mkdir(parents=True)
        nbformat.write(release, folder / f"{TINY}.ipynb")
    return names


def writer_flood(students: int) -> dict:
    """Part 2: ``students`` tiny submissions through Dask (2 workers), the writer's time measured."""
    spent: list[float] = []
    original = writer.commit_result

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    root = Path(tempfile.mkdtemp(prefix="bench-scale-tiny-"))
    (root / "nbgrader_config.py").write_text((Path(__file__).parents[1] / "nbgrader_config.py").read_text())
    names = tiny_course(root, students)
    ensure_references(root, TINY)
    batch.commit_result = timed  # what grade_batch calls
    try:
        start = time.perf_counter()
        outcomes = batch.grade_batch(root, TINY, names, cluster="local:2", progress=False)
        wall = time.perf_counter() - start
    finally:
        batch.commit_result = original
    graded = sum(o.status == "graded" for o in outcomes.values())
    return {"submissions": students, "graded": graded, "seconds": round(wall, 1),
            "arrival_per_minute": round(60 * graded / wall, 1),
            "writer_median_s": round(statistics.median(spent), 3),
            "writer_capacity_per_minute": round(60 / statistics.median(spent), 0),
            "writer_busy_share": round(sum(spent) / wall, 3)}


def throughput(n_students: int, workers: list[int]) -> list[dict]:
    """Part 1: the same ch02 batch on the pool and on Dask at each worker count."""
    course = make_course(Path(tempfile.mkdtemp(prefix="bench-scale-")) / "course", [A])
    students = [f"s{i}" for i in range(n_students)]
    for student in students:
        make_submission(course, A, student)
    ensure_references(course, A)
    runs = []
    for i, n in enumerate(workers):
        for mode in (("pool", "dask") if i % 2 == 0 else ("dask", "pool")):
            runs.append(grade(course, A, students, mode, n))
            print(json.dumps(runs[-1]), flush=True)
    return runs


def main() -> None:
    """Run the benchmark and print/write its result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4],
                        help="worker counts of part 1 (none: skip it)")
    parser.add_argument("--tiny", type=int, default=100, help="submissions of the writer flood (0: skip)")
    parser.add_argument("--out", default="scale", help="result name: bench/results/NAME.json")
    args = parser.parse_args()

    before = os.getloadavg()
    runs = throughput(args.students, args.workers) if args.workers else []
    by = {(r["mode"], r["workers"]): r["seconds"] for r in runs}
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores", "load_average": before,
        "students": args.students, "runs": runs,
        "dask_over_pool": {n: round(by[("dask", n)] / by[("pool", n)], 3) for n in args.workers},
    }
    if args.tiny:
        result["writer_flood"] = writer_flood(args.tiny)
    result["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
