"""The single writer: the only code that writes the course's gradebook and records."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from autograder.batch.ledger import (
    GRADING_ERROR_FILE,
    GRADING_NOTE_FILE,
    Outcome,
    released_notebooks,
    submitted_links,
)
from autograder.gradebook import merge_grades
from autograder.layout import CourseLayout
from autograder.sandbox import prune_folder


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
                  print_fingerprint: str, seconds: float | None = None) -> None:
    """Record a finished worker's results in the course (the single writer's job).

    ``seconds``: how long the grading took, kept in the completion marker (the
    instructor's report shows it).
    """
    root = Path(root)
    course, copy = CourseLayout.at(root), CourseLayout.at(scratch)
    graded = copy.autograded_dir(assignment, student)
    changes = tidy_graded_folder(graded, released_notebooks(root, assignment))
    autograded = course.autograded_dir(assignment, student)
    autograded.parent.mkdir(parents=True, exist_ok=True)
    _replace_tree(graded, autograded)
    report = copy.report(assignment, student)
    if report.exists():
        kept = course.report(assignment, student)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(report, kept)
    add_flags(root, assignment, student,
              [f"symbolic link in the submission, not graded: {link}"
               for link in submitted_links(root, assignment, student)] + changes)
    merge_grades(copy.gradebook, course.db_url, assignment, student)
    marker = course.done_marker(assignment, student)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"student": student, "assignment": assignment,
                                  "fingerprint": print_fingerprint, "graded_at": time.time(),
                                  "seconds": seconds}))


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
    layout = CourseLayout.at(root)
    for student, outcome in outcomes.items():
        folder = layout.feedback_dir(assignment, student)
        if outcome.status == "failed":
            folder.mkdir(parents=True, exist_ok=True)
            (folder / GRADING_ERROR_FILE).write_text(
                f"Your submission of {assignment} could not be graded automatically, so its "
                f"automatic scores are 0; your instructor has been told.\n\nReason: {outcome.message}\n")
        elif outcome.status == "graded" and outcome.message:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / GRADING_NOTE_FILE).write_text(
                f"Your submission of {assignment} was graded, with this problem: {outcome.message}\n")
