"""The course gradebook on any database nbgrader supports (SQLite or PostgreSQL).

The course names its gradebook by ``c.CourseDirectory.db_url``
(:attr:`autograder.layout.CourseLayout.db_url`).  Batch grading reads it and
writes it from one process only (the single writer); a grading worker gets a
private SQLite file instead, :func:`worker_gradebook`: the assignment
definitions (cells, points, due dates) and that one student's rows (an
extension, earlier manual grades), so a worker never needs a connection to
the course database and never sees other students' grades.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from autograder.grading import GradingError

__all__ = ["DEFINITION_TABLES", "GradebookUnavailable", "check_gradebook", "describe",
           "has_assignment", "merge_grades", "record_zero", "worker_gradebook"]

DEFINITION_TABLES = ("course", "assignment", "notebook", "base_cell", "source_cell", "grade_cells",
                     "solution_cells", "task_cells")
"""nbgrader's tables that define assignments (no student data), copied whole to workers."""


class GradebookUnavailable(GradingError):
    """The course gradebook cannot be opened (server down, wrong URL, missing driver)."""


def describe(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def check_gradebook(url: str) -> bool:
    """Connect to the gradebook once; return whether nbgrader's schema is there.

    Batch grading calls this before any worker starts, so that a server that
    cannot be reached (or a wrong URL) stops the batch at once with
    :class:`GradebookUnavailable`; an empty database gets its schema from
    ``nbgrader generate_assignment`` before the fan-out.
    """
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            return "assignment" in inspect(conn).get_table_names()
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GradebookUnavailable(f"the gradebook {describe(url)} cannot be opened: {first}") from exc
    finally:
        engine.dispose()


def has_assignment(url: str, assignment: str) -> bool:
    """Whether the gradebook defines ``assignment`` (``nbgrader generate_assignment`` ran)."""
    from nbgrader.api import Gradebook, MissingEntry

    if not check_gradebook(url):
        return False
    with Gradebook(url) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            return False
        return True


def _rows(conn, table, where=None) -> list[dict]:
    query = table.select() if where is None else table.select().where(where)
    return [dict(row._mapping) for row in conn.execute(query)]


def worker_gradebook(url: str, assignment: str, student: str, dest: Path) -> Path:
    """Write a private SQLite gradebook for grading one submission; return its path.

    It holds every assignment definition of the course gradebook at ``url`` and,
    of the student data, only ``student``'s: the student, their submission of
    ``assignment`` if there is one (with its extension and manual grades).
    """
    from nbgrader.api import Base

    dest = Path(dest)
    dest.unlink(missing_ok=True)
    tables = Base.metadata.tables
    source, target = create_engine(url, future=True), create_engine(f"sqlite:///{dest}", future=True)
    try:
        Base.metadata.create_all(target)
        with source.connect() as src, target.begin() as dst:
            version = src.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            dst.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            for number in version:
                dst.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": number})
            for name in DEFINITION_TABLES:
                if rows := _rows(src, tables[name]):
                    dst.execute(tables[name].insert(), rows)
            sub, nb = tables["submitted_assignment"], tables["submitted_notebook"]
            assignment_ids = select(tables["assignment"].c.id).where(
                tables["assignment"].c.name == assignment)
            submissions = (sub.c.student_id == student) & sub.c.assignment_id.in_(assignment_ids)
            notebooks = nb.c.assignment_id.in_(select(sub.c.id).where(submissions))
            for name, where in (("student", tables["student"].c.id == student),
                                ("submitted_assignment", submissions),
                                ("submitted_notebook", notebooks),
                                ("grade", tables["grade"].c.notebook_id.in_(
                                    select(nb.c.id).where(notebooks))),
                                ("comment", tables["comment"].c.notebook_id.in_(
                                    select(nb.c.id).where(notebooks)))):
                if rows := _rows(src, tables[name], where):
                    dst.execute(tables[name].insert(), rows)
    finally:
        source.dispose()
        target.dispose()
    return dest


def merge_grades(worker_db: Path, course_url: str, assignment: str, student: str) -> None:
    """Copy one submission's automatic grades and comments from a worker's gradebook.

    Manual scores already in the course gradebook are kept (a cell with a
    manual score is marked for review, as nbgrader itself does).
    """
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{worker_db}") as src, Gradebook(course_url) as dst:
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


def record_zero(course_url: str, assignment: str, student: str) -> None:
    """Record a submission nbgrader could not grade: every automatic score 0."""
    from nbgrader.api import Gradebook

    with Gradebook(course_url) as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for nb in submission.notebooks:
            for grade in nb.grades:
                if grade.cell.cell_type == "code":
                    grade.auto_score = 0.0
        gb.db.commit()
