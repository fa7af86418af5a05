"""Batch grading: parallel workers, a single gradebook writer, resumable runs.

``cnn-course grade`` calls :func:`grade_batch`.  Each submission is graded
by a *worker*: ``nbgrader autograde`` with the course's own
``nbgrader_config.py`` (the sandboxed, probe-scoring pipeline), run in a
private scratch copy of the course that holds only what grading needs: the
configuration, ``source/`` and ``release/`` of the assignment, its trusted
reference records, a private SQLite gradebook with the assignment's
definitions and that student's rows (:func:`autograder.gradebook.worker_gradebook`)
and that one submission.  Workers never write the course's gradebook, so any
number can run at once: ``--jobs N`` local threads, or Dask tasks that carry
these files as bytes (``--cluster local:N`` / ``--scheduler ADDRESS``,
:mod:`autograder.batch.cluster`).

The calling process is the **single writer**.  As each worker finishes, it
copies the autograded notebook, the tamper report and the worker's log into
the course, merges the worker's grades and comments into the course
gradebook (``c.CourseDirectory.db_url``: SQLite or PostgreSQL) through
nbgrader's :class:`~nbgrader.api.Gradebook` API, and only then writes
a completion marker ``.grading/done/ASSIGNMENT/STUDENT.json`` holding the
SHA-256 of the submitted files.  A batch that is interrupted at any point
(a worker killed, the whole command killed) is resumed by running the same
command again: submissions with a marker that matches their files are
skipped (unless ``force``), the others are graded, so every submission ends
up recorded exactly once.  A student who resubmits is regraded because the
fingerprint changes.

Submissions nbgrader cannot process at all (a corrupt or unreadable
notebook, a worker that died) are recorded with zero scores and a precise
message; :func:`write_error_notes` puts it into that student's feedback
folder.  The batch always goes on.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from autograder import grading
from autograder.batch.cluster import TaskResult
from autograder.batch.ledger import (
    GRADING_ERROR_FILE,
    GRADING_NOTE_FILE,
    Outcome,
    fingerprint,
    is_graded,
)
from autograder.batch.preflight import ensure_references, preflight
from autograder.batch.worker import SANDBOX_UID_BASE, failure_message, run_worker, thread_env
from autograder.batch.writer import commit_result, write_error_notes, write_log
from autograder.gradebook import has_assignment, record_zero
from autograder.layout import CourseLayout

__all__ = ["GRADING_ERROR_FILE", "GRADING_NOTE_FILE", "Outcome", "grade_batch", "write_error_notes"]


def grade_batch(root: Path, assignment: str, students: list[str] | None = None, jobs: int = 1,
                force: bool = False, progress: bool = True,
                worker_timeout: float | None = None,
                allow_unsandboxed: bool = False, cluster: str | None = None,
                gpu: bool = False) -> dict[str, Outcome]:
    """Grade many submissions with ``jobs`` parallel workers and one gradebook writer.

    Returns ``{student: Outcome}`` for every requested student; never raises
    for a single submission's failure (a lost Dask scheduler stops the batch with
    :class:`~autograder.batch.cluster.ClusterUnavailable`).  ``allow_unsandboxed`` lets
    workers grade without bubblewrap *only* where it is unusable (each such notebook
    then starts with :data:`autograder.execute.UNSANDBOXED_WARNING`).  ``cluster``:
    ``"local:N"`` or a Dask scheduler address, instead of the local pool of ``jobs``
    (see :mod:`autograder.batch.cluster`); ``gpu``: Dask tasks ask for a ``GPU`` resource.
    """
    from tqdm import tqdm

    root = Path(root).resolve()
    layout = CourseLayout.at(root)
    # Opens the gradebook once (a server that does not answer stops the batch here), then
    # creates schema and assignment before any fan-out.
    if not has_assignment(layout.db_url, assignment):
        grading.generate_assignment(root, assignment)
    students = students or grading.submitted_students(root, assignment)
    outcomes: dict[str, Outcome] = {}
    notes: dict[str, list[str]] = {}
    todo = []
    for student in students:
        if not layout.submitted_dir(assignment, student).is_dir():
            outcomes[student] = Outcome(student, "failed", f"no submission folder "
                                        f"submitted/{student}/{assignment}")
            record_zero(layout.db_url, assignment, student)
        elif not force and is_graded(root, assignment, student):
            outcomes[student] = Outcome(student, "skipped", "already graded")
        else:
            fatal, notes[student] = preflight(root, assignment, student)
            if fatal:
                outcomes[student] = Outcome(student, "failed", fatal)
                record_zero(layout.db_url, assignment, student)
            else:
                todo.append(student)
    if todo:
        ensure_references(root, assignment)

    stamps = {s: fingerprint(layout.submitted_dir(assignment, s)) for s in todo}
    if cluster:
        from autograder.batch.cluster import grade_on_dask

        results = grade_on_dask(root, assignment, todo, cluster, timeout=worker_timeout,
                                allow_unsandboxed=allow_unsandboxed, gpu=gpu)
    else:
        results = _grade_locally(root, assignment, todo, jobs, worker_timeout, allow_unsandboxed)
    with tqdm(total=len(todo), desc=f"grading {assignment}", unit="submission",
              disable=not progress) as bar:
        for result in results:
            student, seconds = result.student, result.seconds
            try:
                write_log(root, assignment, student, result.log or result.reason or "")
                if result.code == 0 and result.scratch is not None:
                    commit_result(root, result.scratch, assignment, student, result.log, stamps[student],
                                  seconds=result.worker_seconds or seconds)
                    outcomes[student] = Outcome(student, "graded", "; ".join(notes[student]), seconds)
                else:
                    record_zero(layout.db_url, assignment, student)
                    outcomes[student] = Outcome(student, "failed", result.reason or failure_message(
                        result.code, result.log), seconds)
            except Exception as exc:  # noqa: BLE001 - record and go on
                outcomes[student] = Outcome(student, "failed",
                                            f"recording the results failed: {exc!r}", seconds)
            finally:
                if result.scratch is not None:
                    shutil.rmtree(result.scratch, ignore_errors=True)
            bar.update(1)
    return {s: outcomes[s] for s in students}


def _grade_locally(root: Path, assignment: str, todo: list[str], jobs: int,
                   worker_timeout: float | None, allow_unsandboxed: bool) -> Iterator[TaskResult]:
    """The embedded pool: ``jobs`` threads, each running one ``nbgrader autograde`` at a time.

    Kernels graded side by side share the cores (:func:`~.worker.thread_env`).
    """
    threads = thread_env(min(jobs, len(todo)))  # a lone submission keeps every core
    slots: queue.Queue[int] = queue.Queue()
    base = int(os.environ.get("CNN_COURSE_SANDBOX_UID_BASE", SANDBOX_UID_BASE))
    for k in range(max(1, jobs)):
        slots.put(base + k)

    def work(student: str) -> TaskResult:
        started = time.perf_counter()
        scratch = Path(tempfile.mkdtemp(prefix=f"cnn-course-{assignment}-"))
        uid = slots.get()
        try:
            code, log = run_worker(root, assignment, student, scratch, timeout=worker_timeout,
                                   allow_unsandboxed=allow_unsandboxed, uid=uid, env=threads)
        except Exception as exc:  # noqa: BLE001 - a worker must never stop the batch
            code, log = 1, f"ERROR | preparing the worker failed: {exc!r}"
        finally:
            slots.put(uid)
        seconds = time.perf_counter() - started
        return TaskResult(student, scratch, code, log, seconds, seconds)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for future in as_completed([pool.submit(work, s) for s in todo]):
            yield future.result()
