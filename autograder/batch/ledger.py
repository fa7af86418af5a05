"""The batch ledger: submissions, their fingerprints and completion markers, outcomes."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from autograder.layout import CourseLayout

GRADING_ERROR_FILE = "GRADING_ERROR.txt"
GRADING_NOTE_FILE = "GRADING_NOTE.txt"


@dataclass
class Outcome:
    """What happened to one submission in a batch."""

    student: str
    status: str  # "graded", "skipped" (already graded) or "failed"
    message: str = ""
    seconds: float = 0.0


def fingerprint(folder: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file in ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_graded(root: Path, assignment: str, student: str) -> bool:
    """True when the submission's files are exactly those recorded as graded."""
    layout = CourseLayout.at(root)
    marker = layout.done_marker(assignment, student)
    if not marker.exists():
        return False
    try:
        recorded = json.loads(marker.read_text())["fingerprint"]
        return recorded == fingerprint(layout.submitted_dir(assignment, student))
    except (OSError, ValueError, KeyError):
        return False


def released_notebooks(root: Path, assignment: str) -> list[str]:
    """Names (without ``.ipynb``) of the notebooks of an assignment's release."""
    return sorted(p.stem for p in CourseLayout.at(root).release_dir(assignment).glob("*.ipynb"))


def submitted_links(root: Path, assignment: str, student: str) -> list[str]:
    """Symbolic links inside a submission, as ``"name -> target"`` (they are never graded)."""
    folder = CourseLayout.at(root).submitted_dir(assignment, student)
    links = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            if path.is_symlink():
                links.append(f"{path.relative_to(folder)} -> {os.readlink(path)}")
    return sorted(links)
