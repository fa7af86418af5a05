"""What a grading worker without the course's filesystem receives and sends back, as bytes.

A Dask worker (:mod:`autograder.batch.cluster`) may run on another machine:
it gets the assignment's files once per batch (:func:`assignment_bundle`:
configuration, ``source/``, ``release/``, trusted references) and each
submission's own files (:func:`submission_bundle`: the submitted folder
without symbolic links, a private SQLite gradebook), lays them out as a
course (:func:`unpack`), grades, and returns :func:`result_bundle` (the
autograded folder, the tamper report, the worker's gradebook), which the
single writer unpacks and commits exactly as a local worker's results.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

from autograder.gradebook import worker_gradebook
from autograder.layout import CourseLayout


def pack(base: Path, paths: list[Path]) -> bytes:
    """A gzip'd tar of ``paths`` (files or folders under ``base``; missing ones left out).

    Symbolic links are never packed (a submission's links are not graded).
    """
    base = Path(base)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in paths:
            if not path.exists() or path.is_symlink():
                continue
            tar.add(path, arcname=str(path.relative_to(base)),
                    filter=lambda info: None if info.issym() or info.islnk() else info)
    return buffer.getvalue()


def unpack(data: bytes, dest: Path) -> Path:
    """Extract a bundle made by :func:`pack` into ``dest`` (tarfile's safe ``data`` filter)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    return dest


def assignment_bundle(root: Path, assignment: str) -> bytes:
    """The files every submission of ``assignment`` is graded with (sent once per batch)."""
    course = CourseLayout.at(root)
    return pack(course.root, [course.config_file, course.source_dir(assignment),
                              course.release_dir(assignment), course.references_dir(assignment)])


def submission_bundle(root: Path, assignment: str, student: str) -> bytes:
    """One submission's files and a private gradebook holding that student's rows only."""
    course = CourseLayout.at(root)
    with tempfile.TemporaryDirectory(prefix="cnn-course-bundle-") as tmp:
        db = worker_gradebook(course.db_url, assignment, student, Path(tmp) / course.gradebook.name)
        own = pack(course.root, [course.submitted_dir(assignment, student)])
        gradebook = pack(Path(tmp), [db])
    return _join(own, gradebook)


def _join(*bundles: bytes) -> bytes:
    """One bundle holding the members of several."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as out:
        for data in bundles:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                for member in tar.getmembers():
                    out.addfile(member, tar.extractfile(member) if member.isfile() else None)
    return buffer.getvalue()


def result_bundle(scratch: Path, assignment: str, student: str) -> bytes:
    """What the single writer needs from a graded workspace (see :func:`commit_result`)."""
    copy = CourseLayout.at(scratch)
    return pack(copy.root, [copy.autograded_dir(assignment, student), copy.report(assignment, student),
                            copy.gradebook])
