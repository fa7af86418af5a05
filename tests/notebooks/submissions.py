"""Build student submissions (real .ipynb files) from the release notebooks.

A *solved* submission is the blank release notebook with every solution cell
filled in from the instructor's ``source/`` notebook, exactly as a student
would type it (the solution markers removed).  ``overrides`` replaces the code
of chosen solution cells (by ``grade_id``) to make wrong answers or attacks.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
from pathlib import Path

import nbformat

from autograder import grading
from autograder.layout import DB_URL_ENV, CourseLayout
from autograder.references import build_reference_in_subprocess, reference_profile, sha256_file

ROOT = Path(__file__).resolve().parents[2]
_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def cell_metadata(grade_id: str, *, grade: bool, solution: bool, locked: bool, points=None, task=False):
    """nbgrader cell metadata (schema 3); ``points`` only when given."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": task}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def grade_meta(grade_id: str, *, grade: bool = False, solution: bool = False,
               locked: bool | None = None, points: float = 0) -> dict:
    """nbgrader cell metadata for hand-built notebooks (``locked`` defaults to ``not solution``)."""
    return cell_metadata(grade_id, grade=grade, solution=solution,
                         locked=not solution if locked is None else locked, points=points if grade else None)


def strip_solution_markers(code: str) -> str:
    """``code`` without its ``### BEGIN/END SOLUTION`` lines (what a student would type)."""
    return _MARKERS.sub("", code)


def solved_sources(assignment: str) -> dict[str, str]:
    """Solution-cell code of the source notebook, markers stripped, by grade_id."""
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {_grade_id(c): strip_solution_markers(c.source) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def make_submission(course_root: Path, assignment: str, student: str, *, solved: bool = True,
                    overrides: dict[str, str] | None = None, raw: Path | None = None,
                    files: dict[str, bytes] | None = None) -> Path:
    """Write ``submitted/STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb`` under ``course_root``.

    ``raw`` copies a given file as is (e.g. the source notebook itself, or a
    corrupt file); otherwise the release notebook is filled in.  ``files`` are
    put beside the notebook (name -> content).
    """
    dest = Path(course_root) / "submitted" / student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    for name, content in (files or {}).items():
        Path(dest, name).write_bytes(content)
    target = dest / f"{assignment}.ipynb"
    if raw is not None:
        shutil.copy(raw, target)
        return target
    nb = nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = solved_sources(assignment) if solved else {}
    answers.update(overrides or {})
    for cell in nb.cells:
        gid = _grade_id(cell)
        if gid in answers and cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[gid]
    nbformat.write(nb, target)
    return target


# Bare nbgrader's own Execute: a cell whose reply never comes (seen under load: a ch05 attack,
# and a ch10 one, waited out the whole limit, then nbgrader's retry graded them in 12-15 s)
# costs the full timeout, so the limit is 60 s: 4x the slowest smoke-profile lesson cell these
# notebooks run in the suite under load (about 15 s).
BARE_CONFIG = '''
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "cnn-course-bare"
c.Execute.timeout = 60
'''


def make_course(tmp: Path, assignments: list[str], bare: bool = False,
                cache: Path | None = None, references: bool = True) -> Path:
    """Copy config, source/ and release/ of ``assignments`` into ``tmp``; generate them.

    With a ``cache`` (a folder shared by the test run), a one-assignment course
    on the default SQLite gradebook gets its generated release and gradebook
    from a course generated once per run (see :func:`_generate_from_template`),
    and, unless ``bare`` or not ``references``, its trusted reference from
    :func:`seed_reference`.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    if bare:
        (tmp / "nbgrader_config.py").write_text(BARE_CONFIG)
    else:
        shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    for assignment in assignments:
        shutil.copytree(ROOT / "source" / assignment, tmp / "source" / assignment)
    if cache is not None and len(assignments) == 1 and not os.environ.get(DB_URL_ENV):
        _generate_from_template(tmp, assignments[0], bare, cache)
    else:
        for assignment in assignments:
            shutil.copytree(ROOT / "release" / assignment, tmp / "release" / assignment)
            grading.generate_assignment(tmp, assignment)
    if cache is not None and references and not bare:
        for assignment in assignments:
            seed_reference(tmp, assignment, cache)
    return tmp


def _generate_from_template(course: Path, assignment: str, bare: bool, cache: Path) -> None:
    """What ``nbgrader generate_assignment`` makes in ``course``, copied from a template course.

    The template is a course made by :func:`make_course` itself (so generated
    by nbgrader), once per test run and configuration; its
    ``release/ASSIGNMENT`` and SQLite ``gradebook.db`` are all that generation
    writes, and they differ between two generations only in random row ids.
    About 40 scratch courses took ~4 s of nbgrader start-up each.
    """
    config = (course / "nbgrader_config.py").read_bytes()
    source = course / "source" / assignment / f"{assignment}.ipynb"
    key = hashlib.sha256(config + source.read_bytes()).hexdigest()[:16]
    template = cache / "generated" / f"{assignment}-{key}"

    def build(work: Path) -> None:
        make_course(work, [assignment], bare=bare)

    _once(cache, assignment, template, build)
    shutil.copytree(template / "release" / assignment, course / "release" / assignment)
    shutil.copy(template / "gradebook.db", course / "gradebook.db")


def seed_reference(course: Path, assignment: str, cache: Path) -> Path:
    """Put the reference of ``assignment``'s source notebook into ``course``, from ``cache``.

    The grader builds a course's reference by executing the source notebook
    (``autograder.references``), and rebuilds it whenever the source's SHA-256
    differs from the one recorded.  Every test course copies the same source,
    so the test session builds each reference once, with the grader's own
    function, and copies it into each course: about a dozen chapter 2 courses
    no longer execute the same notebook again.  The profile is the notebook's
    ``reference_profile`` where it has one (chapters whose lessons train), else
    ``CNN_COURSE_PROFILE`` when the course is made (chapters 2-5, whose
    references are the same in every profile).
    """
    source = course / "source" / assignment / f"{assignment}.ipynb"
    profile = (reference_profile(nbformat.read(source, as_version=4))
               or os.environ.get("CNN_COURSE_PROFILE") or "auto")
    cached = cache / f"{assignment}-{sha256_file(source)[:16]}-{profile}.json"
    _once(cache, assignment, cached, lambda out: build_reference_in_subprocess(source, out))
    target = CourseLayout.at(course).reference(assignment, assignment)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(cached, target)
    return target


def _once(cache: Path, assignment: str, path: Path, build) -> None:
    """Make ``path`` with ``build(scratch path)`` unless it exists, once for all xdist workers.

    ``build`` writes a scratch name that is then renamed, so that ``path``
    never exists half made; a lock per assignment in ``cache`` makes the
    other workers wait for it.
    """
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f"{assignment}.lock").open("w") as lock, _locked(lock):
        if path.exists():
            return
        scratch = path.with_name(f".{path.name}.tmp")
        if scratch.is_dir():
            shutil.rmtree(scratch)
        scratch.unlink(missing_ok=True)
        scratch.parent.mkdir(parents=True, exist_ok=True)
        build(scratch)
        scratch.rename(path)


@contextlib.contextmanager
def _locked(handle):
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
