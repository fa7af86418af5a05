"""Batch grading: parallel workers, a single gradebook writer, resumable runs.

``cnn-course grade`` calls :func:`grade_batch`.  Each submission is graded
by a *worker*: ``nbgrader autograde`` with the course's own
``nbgrader_config.py`` (the sandboxed, probe-scoring pipeline), run in a
private scratch copy of the course that holds only what grading needs: the
configuration, ``source/`` and ``release/`` of the assignment, its trusted
reference records, a consistent snapshot of the gradebook and that one
submission.  Workers never write the course's gradebook, so any number can
run at once (``--jobs N``).

The calling process is the **single writer**.  As each worker finishes, it
copies the autograded notebook, the tamper report and the worker's log into
the course, merges the worker's grades and comments into ``gradebook.db``
through nbgrader's :class:`~nbgrader.api.Gradebook` API, and only then writes
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
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from autograder import grading
from autograder.batch.ledger import (
    GRADING_ERROR_FILE,
    GRADING_NOTE_FILE,
    Outcome,
    fingerprint,
    is_graded,
)
from autograder.batch.preflight import ensure_references, preflight
from autograder.batch.worker import SANDBOX_UID_BASE, failure_message, run_worker
from autograder.batch.writer import commit_result, record_zero, write_error_notes, write_log
from autograder.layout import CourseLayout

__all__ = ["GRADING_ERROR_FILE", "GRADING_NOTE_FILE", "Outcome", "grade_batch", "write_error_notes"]


def grade_batch(root: Path, assignment: str, students: list[str] | None = None, jobs: int = 1,
                force: bool = False, progress: bool = True,
                worker_timeout: float | None = None,
                allow_unsandboxed: bool = False) -> dict[str, Outcome]:
    """Grade many submissions with ``jobs`` parallel workers and one gradebook writer.

    Returns ``{student: Outcome}`` for every requested student; never raises
    for a single submission's failure.  ``allow_unsandboxed`` lets workers grade
    without bubblewrap *only* where it is unusable (each such notebook then
    starts with :data:`autograder.execute.UNSANDBOXED_WARNING`).
    """
    from tqdm import tqdm

    root = Path(root).resolve()
    layout = CourseLayout.at(root)
    if not layout.gradebook.exists():
        grading.generate_assignment(root, assignment)
    students = students or grading.submitted_students(root, assignment)
    outcomes: dict[str, Outcome] = {}
    notes: dict[str, list[str]] = {}
    todo = []
    for student in students:
        if not layout.submitted_dir(assignment, student).is_dir():
            outcomes[student] = Outcome(student, "failed", f"no submission folder "
                                        f"submitted/{student}/{assignment}")
            record_zero(layout.gradebook, assignment, student)
        elif not force and is_graded(root, assignment, student):
            outcomes[student] = Outcome(student, "skipped", "already graded")
        else:
            fatal, notes[student] = preflight(root, assignment, student)
            if fatal:
                outcomes[student] = Outcome(student, "failed", fatal)
                record_zero(layout.gradebook, assignment, student)
            else:
                todo.append(student)
    if todo:
        ensure_references(root, assignment)

    slots: queue.Queue[int] = queue.Queue()
    base = int(os.environ.get("CNN_COURSE_SANDBOX_UID_BASE", SANDBOX_UID_BASE))
    for k in range(max(1, jobs)):
        slots.put(base + k)

    def work(student: str):
        started = time.perf_counter()
        stamp = fingerprint(layout.submitted_dir(assignment, student))
        scratch = Path(tempfile.mkdtemp(prefix=f"cnn-course-{assignment}-"))
        uid = slots.get()
        try:
            code, log = run_worker(root, assignment, student, scratch, timeout=worker_timeout,
                                   allow_unsandboxed=allow_unsandboxed, uid=uid)
        except Exception as exc:  # noqa: BLE001 - a worker must never stop the batch
            code, log = 1, f"ERROR | preparing the worker failed: {exc!r}"
        finally:
            slots.put(uid)
        return student, scratch, code, log, stamp, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool, \
            tqdm(total=len(todo), desc=f"grading {assignment}", unit="submission",
                 disable=not progress) as bar:
        futures = [pool.submit(work, s) for s in todo]
        for future in as_completed(futures):
            student, scratch, code, log, stamp, seconds = future.result()
            try:
                write_log(root, assignment, student, log)
                if code == 0:
                    commit_result(root, scratch, assignment, student, log, stamp)
                    outcomes[student] = Outcome(student, "graded", "; ".join(notes[student]), seconds)
                else:
                    record_zero(layout.gradebook, assignment, student)
                    outcomes[student] = Outcome(student, "failed", failure_message(code, log), seconds)
            except Exception as exc:  # noqa: BLE001 - record and go on
                outcomes[student] = Outcome(student, "failed",
                                            f"recording the results failed: {exc!r}", seconds)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            bar.update(1)
    return {s: outcomes[s] for s in students}
