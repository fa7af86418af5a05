"""One grading worker: a private scratch course, ``nbgrader autograde``, its failure message."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from autograder import grading
from autograder.gradebook import worker_gradebook
from autograder.layout import DB_URL_ENV, CourseLayout

DEADLINE_PREFIX = "the grading worker ran longer than"
"""How the log of a grading run stopped at its deadline begins."""


def prepare_workspace(root: Path, assignment: str, student: str, scratch: Path) -> Path:
    """Lay out a private course copy for grading one submission; return its root."""
    course = CourseLayout.at(root)
    shutil.copy(course.config_file, Path(scratch) / course.config_file.name)
    copy = CourseLayout.at(scratch)  # the same configuration, so the same folder names
    shutil.copytree(course.source_dir(assignment), copy.source_dir(assignment))
    shutil.copytree(course.release_dir(assignment), copy.release_dir(assignment))
    if course.references_dir(assignment).exists():
        shutil.copytree(course.references_dir(assignment), copy.references_dir(assignment))
    shutil.copytree(course.submitted_dir(assignment, student), copy.submitted_dir(assignment, student),
                    ignore=_skip_links)
    worker_gradebook(course.db_url, assignment, student, copy.gradebook)
    return Path(scratch)


def _skip_links(folder: str, names: list[str]) -> list[str]:
    """``copytree`` ignore-callback: leave out symbolic links (nbgrader would follow them)."""
    return [n for n in names if os.path.islink(os.path.join(folder, n))]


UNSANDBOXED_OPTIONS = ("--Sandbox.allow_unsandboxed=True",
                       "--ScoreProbes.sandbox_models=False")
"""nbgrader options for ``allow_unsandboxed`` grading (only where bubblewrap is unusable)."""


SANDBOX_UID_BASE = int(os.environ.get("CNN_COURSE_SANDBOX_UID_BASE", "64200"))
"""Worker slot ``k`` runs its sandboxes as host uid/gid ``SANDBOX_UID_BASE + k`` (as root).

Per-uid limits such as the process limit are then per worker: a fork bomb in
one submission cannot starve the submission graded beside it."""


THREAD_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
"""What caps the threads of TensorFlow (and of PyTorch and numpy's BLAS, via OpenMP) in a kernel."""


def thread_env(jobs: int, cores: int | None = None) -> dict[str, str]:
    """Thread caps for each of ``jobs`` kernels graded side by side on ``cores`` CPU cores.

    Each kernel gets ``cores // jobs`` threads (at least 1), so ``--jobs N``
    on N cores runs N single-threaded kernels instead of N kernels that each
    spread over every core and preempt each other.  One job, or a cap the
    instructor already set in the environment, is left alone.  The sandbox
    passes these variables through (``Sandbox.env_passthrough``).
    """
    if jobs <= 1 or any(name in os.environ for name in THREAD_VARIABLES):
        return {}
    threads = str(max(1, (cores or os.cpu_count() or 1) // jobs))
    return dict.fromkeys(THREAD_VARIABLES, threads)


def run_worker(root: Path, assignment: str, student: str, scratch: Path,
               timeout: float | None = None, allow_unsandboxed: bool = False,
               uid: int | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Autograde one submission in ``scratch``; return ``(exit status, log)``.

    ``env``: extra environment variables for nbgrader and its kernels (e.g. :func:`thread_env`).
    """
    prepare_workspace(root, assignment, student, scratch)
    return grade_workspace(scratch, assignment, student, timeout, allow_unsandboxed, uid, env)


def grade_workspace(scratch: Path, assignment: str, student: str, timeout: float | None = None,
                    allow_unsandboxed: bool = False, uid: int | None = None,
                    env: dict[str, str] | None = None) -> tuple[int, str]:
    """``nbgrader autograde`` one submission in a prepared workspace; ``(exit status, log)``.

    ``env``: extra environment variables for nbgrader (e.g. the client's profile).
    """
    # The worker's own SQLite gradebook, whatever the course's configuration names.
    args = ["autograde", assignment, "--student", student, "--create", "--force",
            f"--CourseDirectory.db_url=sqlite:///{CourseLayout.at(scratch).gradebook}"]
    if uid is not None:
        args += [f"--Sandbox.sandbox_uid={uid}", f"--Sandbox.sandbox_gid={uid}"]
    if allow_unsandboxed:
        from autograder.sandbox import bwrap_usable

        if not bwrap_usable()[0]:
            args += UNSANDBOXED_OPTIONS
    try:
        proc = grading.run_nbgrader(scratch, *args, timeout=timeout, unset=(DB_URL_ENV,), env=env)
    except subprocess.TimeoutExpired as exc:
        return -signal.SIGKILL, f"{DEADLINE_PREFIX} {timeout:.0f} s and was stopped\n" + \
            _text(exc.stdout) + _text(exc.stderr)
    return proc.returncode, proc.stdout + proc.stderr


def _text(data) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def failure_message(returncode: int, log: str) -> str:
    """One precise sentence on why a worker did not grade its submission."""
    deadline = [line for line in log.splitlines()[:2] if line.startswith(DEADLINE_PREFIX)]
    if deadline:  # stopped at its deadline (see grade_workspace; a Dask log has a line before)
        return deadline[0] + "; run the grade command again to retry it"
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
