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

import hashlib
import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import grading
from autograder.layout import CourseLayout
from autograder.references import load_reference
from autograder.sandbox import prune_folder

GRADING_ERROR_FILE = "GRADING_ERROR.txt"
GRADING_NOTE_FILE = "GRADING_NOTE.txt"


@dataclass
class Outcome:
    """What happened to one submission in a batch."""

    student: str
    status: str  # "graded", "skipped" (already graded) or "failed"
    message: str = ""
    seconds: float = 0.0


# ---------------------------------------------------------------- layout helpers

def submission_dir(root: Path, assignment: str, student: str) -> Path:
    """``submitted/STUDENT/ASSIGNMENT`` under the course root."""
    return CourseLayout.at(root).submitted_dir(assignment, student)


def fingerprint(folder: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file in ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_graded(root: Path, assignment: str, student: str) -> bool:
    """True when the submission's files are exactly those recorded as graded."""
    marker = CourseLayout.at(root).done_marker(assignment, student)
    if not marker.exists():
        return False
    try:
        recorded = json.loads(marker.read_text())["fingerprint"]
        return recorded == fingerprint(submission_dir(root, assignment, student))
    except (OSError, ValueError, KeyError):
        return False


def released_notebooks(root: Path, assignment: str) -> list[str]:
    """Names (without ``.ipynb``) of the notebooks of an assignment's release."""
    return sorted(p.stem for p in CourseLayout.at(root).release_dir(assignment).glob("*.ipynb"))


# ---------------------------------------------------------------- checks before grading

def preflight(root: Path, assignment: str, student: str) -> tuple[str | None, list[str]]:
    """Check one submission before a worker is spent on it.

    Returns ``(fatal, notes)``: ``fatal`` is a precise reason why nbgrader
    cannot grade the submission at all (a notebook that is not valid JSON,
    not a notebook, or unreadable), else None; ``notes`` are problems that
    still allow grading (a missing notebook scores 0 for its cells).
    """
    folder = submission_dir(root, assignment, student)
    notes = [f"the symbolic link {link} was left out: submissions may not contain links"
             for link in submitted_links(root, assignment, student)]
    for name in released_notebooks(root, assignment):
        path = folder / f"{name}.ipynb"
        if path.is_symlink():
            continue  # reported above; never read
        if not path.exists():
            notes.append(f"{name}.ipynb is missing from the submission: its cells score 0")
            continue
        try:
            text = path.read_bytes().decode("utf-8")
            json.loads(text)
        except OSError as exc:
            return f"{name}.ipynb could not be read: {exc.strerror}", notes
        except UnicodeDecodeError as exc:
            return f"{name}.ipynb is not UTF-8 text (byte {exc.start}); it is not a notebook", notes
        except json.JSONDecodeError as exc:
            return (f"{name}.ipynb is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg}); was it saved completely?"), notes
        try:
            nbformat.validate(nbformat.reads(text, as_version=4))
        except nbformat.ValidationError as exc:
            return f"{name}.ipynb is not a valid Jupyter notebook: {exc.message}", notes
        except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for foreign JSON
            return f"{name}.ipynb is not a valid Jupyter notebook: {exc}", notes
    names = released_notebooks(root, assignment)
    if names and all((folder / f"{n}.ipynb").is_symlink() or not (folder / f"{n}.ipynb").exists()
                     for n in names):
        return (f"the submission contains none of the assignment's notebooks "
                f"({', '.join(n + '.ipynb' for n in names)})"), notes
    return None, notes


def ensure_references(root: Path, assignment: str) -> None:
    """Build stale or missing reference records once, before any worker starts."""
    layout = CourseLayout.at(root)
    for source in sorted(layout.source_dir(assignment).glob("*.ipynb")):
        load_reference(source, layout.reference(assignment, source.stem))


# ---------------------------------------------------------------- worker

def snapshot_gradebook(src: Path, dst: Path) -> None:
    """Copy an SQLite gradebook consistently (even while it is being written)."""
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)


def prepare_workspace(root: Path, assignment: str, student: str, scratch: Path) -> Path:
    """Lay out a private course copy for grading one submission; return its root."""
    course, copy = CourseLayout.at(root), CourseLayout.at(scratch)
    shutil.copy(course.config_file, copy.config_file)
    shutil.copytree(course.source_dir(assignment), copy.source_dir(assignment))
    shutil.copytree(course.release_dir(assignment), copy.release_dir(assignment))
    if course.references_dir(assignment).exists():
        shutil.copytree(course.references_dir(assignment), copy.references_dir(assignment))
    shutil.copytree(course.submitted_dir(assignment, student), copy.submitted_dir(assignment, student),
                    ignore=_skip_links)
    snapshot_gradebook(course.gradebook, copy.gradebook)
    return Path(scratch)


def _skip_links(folder: str, names: list[str]) -> list[str]:
    """``copytree`` ignore-callback: leave out symbolic links (nbgrader would follow them)."""
    return [n for n in names if os.path.islink(os.path.join(folder, n))]


def submitted_links(root: Path, assignment: str, student: str) -> list[str]:
    """Symbolic links inside a submission, as ``"name -> target"`` (they are never graded)."""
    folder = submission_dir(root, assignment, student)
    links = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            if path.is_symlink():
                links.append(f"{path.relative_to(folder)} -> {os.readlink(path)}")
    return sorted(links)


UNSANDBOXED_OPTIONS = ("--Sandbox.allow_unsandboxed=True",
                       "--ScoreProbes.sandbox_models=False")
"""nbgrader options for ``allow_unsandboxed`` grading (only where bubblewrap is unusable)."""


SANDBOX_UID_BASE = int(os.environ.get("CNN_COURSE_SANDBOX_UID_BASE", "64200"))
"""Worker slot ``k`` runs its sandboxes as host uid/gid ``SANDBOX_UID_BASE + k`` (as root).

Per-uid limits such as the process limit are then per worker: a fork bomb in
one submission cannot starve the submission graded beside it."""


def run_worker(root: Path, assignment: str, student: str, scratch: Path,
               timeout: float | None = None, allow_unsandboxed: bool = False,
               uid: int | None = None) -> tuple[int, str]:
    """Autograde one submission in ``scratch``; return ``(exit status, log)``."""
    prepare_workspace(root, assignment, student, scratch)
    args = ["autograde", assignment, "--student", student, "--create", "--force"]
    if uid is not None:
        args += [f"--Sandbox.sandbox_uid={uid}", f"--Sandbox.sandbox_gid={uid}"]
    if allow_unsandboxed:
        from autograder.sandbox import bwrap_usable

        if not bwrap_usable()[0]:
            args += UNSANDBOXED_OPTIONS
    try:
        proc = grading.run_nbgrader(scratch, *args, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return -signal.SIGKILL, f"the grading worker ran longer than {timeout:.0f} s and was stopped\n" + \
            _text(exc.stdout) + _text(exc.stderr)
    return proc.returncode, proc.stdout + proc.stderr


def _text(data) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def failure_message(returncode: int, log: str) -> str:
    """One precise sentence on why a worker did not grade its submission."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return (f"the grading worker was stopped by {name} before it finished; "
                f"run the grade command again to grade this submission")
    lines = log.splitlines()
    exceptions = [line.strip() for line in lines if _EXCEPTION_LINE.match(line.strip())
                  and "Notebook failed to validate" not in line]  # the generic one; the cause precedes
    errors = [line.split("ERROR |", 1)[-1].strip() for line in lines
              if "ERROR |" in line and "see the above traceback" not in line]
    detail = (exceptions or errors or [line for line in lines if line.strip()] or ["no output"])[-1]
    return f"nbgrader could not grade this submission (exit {returncode}): {detail[:300]}"


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)?(Error|Exception|Entry|Interrupt)(: .*)?$")


# ---------------------------------------------------------------- the single writer

def merge_grades(worker_db: Path, course_db: Path, assignment: str, student: str) -> None:
    """Copy one submission's automatic grades and comments from a worker's gradebook.

    Manual scores already in the course gradebook are kept (a cell with a
    manual score is marked for review, as nbgrader itself does).
    """
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{worker_db}") as src, Gradebook(f"sqlite:///{course_db}") as dst:
        done = src.find_submission(assignment, student)
        dst.update_or_create_student(student)
        dst.update_or_create_submission(assignment, student, timestamp=done.timestamp)
        for nb in done.notebooks:
            target = dst.find_submission_notebook(nb.name, assignment, student)
            target.late_submission_penalty = nb.late_submission_penalty
            for grade in nb.grades:
                into = dst.find_grade(grade.name, nb.name, assignment, student)
                into.auto_score = grade.auto_score
                into.needs_manual_grade = bool(grade.needs_manual_grade or into.manual_score is not None)
            for comment in nb.comments:
                dst.find_comment(comment.name, nb.name, assignment, student).auto_comment = \
                    comment.auto_comment
        dst.db.commit()


def record_zero(course_db: Path, assignment: str, student: str) -> None:
    """Record a submission nbgrader could not grade: every automatic score 0."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_db}") as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for nb in submission.notebooks:
            for grade in nb.grades:
                if grade.cell.cell_type == "code":
                    grade.auto_score = 0.0
        gb.db.commit()


def _replace_tree(src: Path, dst: Path) -> None:
    """Put a copy of ``src`` at ``dst``, replacing what was there."""
    tmp = dst.with_name(dst.name + ".incoming")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp, symlinks=True)
    shutil.rmtree(dst, ignore_errors=True)
    tmp.rename(dst)


MAX_GRADED_FOLDER_MB = 200
"""Files a kernel wrote beyond this total are removed from the graded copy (largest first)."""


def tidy_graded_folder(folder: Path, notebooks: list[str],
                       max_mb: float = MAX_GRADED_FOLDER_MB) -> list[str]:
    """Make a graded folder safe to publish as feedback; return what was changed.

    Notebooks the kernel wrote that are not part of the assignment would make
    ``nbgrader generate_feedback`` fail (they are not in the gradebook): they
    are renamed ``NAME.ipynb.extra``.  If the folder holds more than
    ``max_mb``, the largest files that are not the assignment's notebooks are
    deleted until it fits.
    """
    changes = []
    for path in sorted(folder.glob("*.ipynb")):
        if path.stem not in notebooks:
            path.rename(path.with_name(path.name + ".extra"))
            changes.append(f"notebook {path.name} written by the code was renamed {path.name}.extra")
    keep = {f"{n}.ipynb" for n in notebooks}
    for rel, size in prune_folder(folder, max_mb * 1e6, keep=keep):
        changes.append(f"{rel} ({size / 1e6:.0f} MB) was deleted: the graded folder may hold at "
                       f"most {max_mb:.0f} MB")
    return changes


def add_flags(root: Path, assignment: str, student: str, flags: list[str]) -> None:
    """Append flags to a submission's tamper report (creating it if needed)."""
    if not flags:
        return
    path = CourseLayout.at(root).report(assignment, student)
    data = json.loads(path.read_text()) if path.exists() else {"student": student, "flags": []}
    data["flags"] = [*data.get("flags", []), *flags]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def commit_result(root: Path, scratch: Path, assignment: str, student: str, log: str,
                  print_fingerprint: str) -> None:
    """Record a finished worker's results in the course (the single writer's job)."""
    root = Path(root)
    graded = CourseLayout.at(scratch).autograded_dir(assignment, student)
    changes = tidy_graded_folder(graded, released_notebooks(root, assignment))
    autograded = CourseLayout.at(root).autograded_dir(assignment, student)
    autograded.parent.mkdir(parents=True, exist_ok=True)
    _replace_tree(graded, autograded)
    report = CourseLayout.at(scratch).report(assignment, student)
    if report.exists():
        kept = CourseLayout.at(root).report(assignment, student)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(report, kept)
    add_flags(root, assignment, student,
              [f"symbolic link in the submission, not graded: {link}"
               for link in submitted_links(root, assignment, student)] + changes)
    merge_grades(CourseLayout.at(scratch).gradebook, CourseLayout.at(root).gradebook, assignment, student)
    marker = CourseLayout.at(root).done_marker(assignment, student)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"student": student, "assignment": assignment,
                                  "fingerprint": print_fingerprint, "graded_at": time.time()}))


def write_log(root: Path, assignment: str, student: str, log: str) -> None:
    """Keep the worker's nbgrader log for the instructor."""
    path = CourseLayout.at(root).log(assignment, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(log)


def write_error_notes(root: Path, assignment: str, outcomes: dict[str, Outcome]) -> None:
    """Tell students in their feedback folder what went wrong with their submission.

    A failed submission gets ``GRADING_ERROR.txt``; a graded one with
    problems (e.g. a missing notebook) gets ``GRADING_NOTE.txt``.
    """
    for student, outcome in outcomes.items():
        folder = Path(root) / "feedback" / student / assignment
        if outcome.status == "failed":
            folder.mkdir(parents=True, exist_ok=True)
            (folder / GRADING_ERROR_FILE).write_text(
                f"Your submission of {assignment} could not be graded automatically, so its "
                f"automatic scores are 0; your instructor has been told.\n\nReason: {outcome.message}\n")
        elif outcome.status == "graded" and outcome.message:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / GRADING_NOTE_FILE).write_text(
                f"Your submission of {assignment} was graded, with this problem: {outcome.message}\n")


# ---------------------------------------------------------------- the batch

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
    if not (CourseLayout.at(root).gradebook).exists():
        grading.generate_assignment(root, assignment)
    students = students or grading.submitted_students(root, assignment)
    outcomes: dict[str, Outcome] = {}
    notes: dict[str, list[str]] = {}
    todo = []
    for student in students:
        if not submission_dir(root, assignment, student).is_dir():
            outcomes[student] = Outcome(student, "failed", f"no submission folder "
                                        f"submitted/{student}/{assignment}")
            record_zero(CourseLayout.at(root).gradebook, assignment, student)
        elif not force and is_graded(root, assignment, student):
            outcomes[student] = Outcome(student, "skipped", "already graded")
        else:
            fatal, notes[student] = preflight(root, assignment, student)
            if fatal:
                outcomes[student] = Outcome(student, "failed", fatal)
                record_zero(CourseLayout.at(root).gradebook, assignment, student)
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
        stamp = fingerprint(submission_dir(root, assignment, student))
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
                    record_zero(CourseLayout.at(root).gradebook, assignment, student)
                    outcomes[student] = Outcome(student, "failed", failure_message(code, log), seconds)
            except Exception as exc:  # noqa: BLE001 - record and go on
                outcomes[student] = Outcome(student, "failed",
                                            f"recording the results failed: {exc!r}", seconds)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            bar.update(1)
    return {s: outcomes[s] for s in students}
