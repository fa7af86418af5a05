"""Run nbgrader's own steps on a course directory and read the results.

Thin, documented wrappers used by the ``cnn-course`` command line and by the
tests.  Each nbgrader step runs as a subprocess of ``nbgrader`` from the
course root, exactly as an instructor would type it, so
``nbgrader_config.py`` (the trusted preprocessors) always applies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from autograder import lifeline


class GradingError(RuntimeError):
    """An nbgrader step failed as a whole (not one student's notebook)."""


def run_nbgrader(course_root: Path, *args: str, timeout: float | None = None,
                 unset: tuple[str, ...] = (), env: dict[str, str] | None = None
                 ) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS...`` in ``course_root`` and return the finished process.

    ``unset``: environment variables the process does not inherit; ``env``: extra ones.
    The process dies with this one (:mod:`autograder.lifeline`).
    """
    extra = env or {}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
               **lifeline.parent_env(), **extra)
    for name in unset:
        env.pop(name, None)
    # nbgrader runs `alembic` and kernels from PATH: put this interpreter's bin first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    cmd = [sys.executable, "-m", "autograder.nbgrader_main", *args]  # nbgrader, started faster
    return subprocess.run(cmd, cwd=course_root, env=env, capture_output=True, text=True, check=False,
                          timeout=timeout)


def nbgrader(course_root: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS...`` in ``course_root``; raise :class:`GradingError` on failure."""
    proc = run_nbgrader(course_root, *args, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise GradingError(f"`nbgrader {' '.join(args)}` failed (exit {proc.returncode}):\n{tail}")
    return proc


def generate_assignment(course_root: Path, assignment: str) -> None:
    """``nbgrader generate_assignment ASSIGNMENT --force`` (source/ -> release/)."""
    nbgrader(course_root, "generate_assignment", assignment, "--force")


def autograde(course_root: Path, assignment: str, student: str | None = None,
              force: bool = True) -> subprocess.CompletedProcess:
    """``nbgrader autograde`` one assignment, for one student or all submitted."""
    args = ["autograde", assignment, "--create"]
    if student:
        args += ["--student", student]
    if force:
        args.append("--force")
    return nbgrader(course_root, *args)


def generate_feedback(course_root: Path, assignment: str, student: str | None = None) -> None:
    """``nbgrader generate_feedback`` (hidden tests are stripped by the course config)."""
    args = ["generate_feedback", assignment, "--force"]
    if student:
        args += ["--student", student]
    nbgrader(course_root, *args)


def submitted_students(course_root: Path, assignment: str) -> list[str]:
    """Students with a folder ``submitted/STUDENT/ASSIGNMENT``."""
    base = Path(course_root) / "submitted"
    return sorted(p.parent.name for p in base.glob(f"*/{assignment}") if p.is_dir())


def cell_scores(course_root: Path, assignment: str) -> dict[str, dict[str, tuple[float, float]]]:
    """``{student: {grade_id: (score, max_score)}}`` from the course gradebook."""
    from nbgrader.api import Gradebook

    from autograder.layout import CourseLayout

    url = CourseLayout.at(course_root).db_url
    out: dict[str, dict[str, tuple[float, float]]] = {}
    with Gradebook(url) as gb:
        for sub in gb.assignment_submissions(assignment):
            scores = out.setdefault(sub.student.id, {})
            for nb in sub.notebooks:
                for grade in nb.grades:
                    scores[grade.name] = (float(grade.score), float(grade.max_score))
    return out
