"""Where everything of a course lives: one object for every path the grader uses.

nbgrader's own folders (``source/``, ``release/``, ``submitted/``,
``autograded/``, ``feedback/``) come from its
:class:`~nbgrader.coursedir.CourseDirectory`, so ``c.CourseDirectory.*``
settings are honoured; the grader's private records live under
``.grading/`` (never released, never visible to a kernel)::

    .grading/references/ASSIGNMENT/NOTEBOOK.json   trusted reference records
    .grading/reports/ASSIGNMENT/STUDENT.json       tamper reports
    .grading/done/ASSIGNMENT/STUDENT.json          completion markers (cnn-course grade)
    .grading/logs/ASSIGNMENT/STUDENT.log           worker logs (cnn-course grade)

Every module asks a :class:`CourseLayout` instead of spelling a path.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

__all__ = ["CONFIG_FILE", "DB_URL_ENV", "GRADING_DIR", "CourseLayout", "course_config"]

GRADING_DIR = ".grading"
"""The grader's private folder, relative to the course root."""

CONFIG_FILE = "nbgrader_config.py"
"""The course's nbgrader configuration, in the course root."""

DB_URL_ENV = "CNN_COURSE_DB_URL"
"""Environment variable the course's ``nbgrader_config.py`` takes the gradebook URL from."""


def course_config(path: Path) -> Config:
    """The configuration ``path`` (an ``nbgrader_config.py``) defines; empty if it is missing.

    Loaded once per file version and environment (the file may read :data:`DB_URL_ENV`).
    """
    path = Path(path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return Config()
    return copy.deepcopy(_load_config(str(path), mtime, os.environ.get(DB_URL_ENV, "")))


@lru_cache(maxsize=32)
def _load_config(path: str, mtime: int, db_url_env: str) -> Config:
    return PyFileConfigLoader(os.path.basename(path), path=os.path.dirname(path)).load_config()


@dataclass(frozen=True)
class CourseLayout:
    """The paths of one course directory (``root``) and of its nbgrader configuration."""

    root: Path
    coursedir: CourseDirectory

    @classmethod
    def at(cls, root: Path | str) -> CourseLayout:
        """The layout of the course at ``root``, as its ``nbgrader_config.py`` sets it up.

        The course's ``c.CourseDirectory.*`` settings (folder names, ``db_url``) apply,
        exactly as for the ``nbgrader`` commands run in ``root``; without a configuration
        file, nbgrader's defaults.
        """
        root = Path(root).resolve()
        config = course_config(root / CONFIG_FILE)
        config.merge(Config({"CourseDirectory": {"root": str(root)}}))
        return cls(root, CourseDirectory(config=config))

    @classmethod
    def from_config(cls, config: Config) -> CourseLayout:
        """The layout nbgrader itself uses under ``config`` (inside a preprocessor)."""
        coursedir = CourseDirectory(config=config)
        return cls(Path(coursedir.root), coursedir)

    # ---------------------------------------------------------------- nbgrader's folders

    def _step(self, directory: str, assignment: str, student: str = ".") -> Path:
        return Path(self.coursedir.format_path(directory, student, assignment))

    def source_dir(self, assignment: str) -> Path:
        """``source/ASSIGNMENT``."""
        return self._step(self.coursedir.source_directory, assignment)

    def release_dir(self, assignment: str) -> Path:
        """``release/ASSIGNMENT``."""
        return self._step(self.coursedir.release_directory, assignment)

    def submitted_dir(self, assignment: str, student: str) -> Path:
        """``submitted/STUDENT/ASSIGNMENT``."""
        return self._step(self.coursedir.submitted_directory, assignment, student)

    def autograded_dir(self, assignment: str, student: str) -> Path:
        """``autograded/STUDENT/ASSIGNMENT``."""
        return self._step(self.coursedir.autograded_directory, assignment, student)

    def feedback_dir(self, assignment: str, student: str) -> Path:
        """``feedback/STUDENT/ASSIGNMENT``."""
        return self._step(self.coursedir.feedback_directory, assignment, student)

    def source_notebook(self, assignment: str, notebook: str) -> Path:
        """The instructor's ``source/ASSIGNMENT/NOTEBOOK.ipynb``."""
        return self.source_dir(assignment) / f"{notebook}.ipynb"

    def release_notebook(self, assignment: str, notebook: str) -> Path:
        """The student version ``release/ASSIGNMENT/NOTEBOOK.ipynb``."""
        return self.release_dir(assignment) / f"{notebook}.ipynb"

    def submitted_notebook(self, assignment: str, student: str, notebook: str) -> Path:
        """What the student handed in, ``submitted/STUDENT/ASSIGNMENT/NOTEBOOK.ipynb``."""
        return self.submitted_dir(assignment, student) / f"{notebook}.ipynb"

    @property
    def gradebook(self) -> Path:
        """The SQLite gradebook file of nbgrader's default ``db_url`` (see :attr:`db_url`)."""
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        """The course gradebook's SQLAlchemy URL (``c.CourseDirectory.db_url``).

        nbgrader's default is ``sqlite:///ROOT/gradebook.db``; a course on PostgreSQL sets
        ``postgresql+psycopg://...`` (the course's configuration reads it from
        :data:`DB_URL_ENV` when that is set).
        """
        return self.coursedir.db_url

    @property
    def config_file(self) -> Path:
        """The course's ``nbgrader_config.py``."""
        return self.root / CONFIG_FILE

    # ---------------------------------------------------------------- the grader's records

    @property
    def grading_dir(self) -> Path:
        """``.grading/``."""
        return self.root / GRADING_DIR

    def references_dir(self, assignment: str | None = None) -> Path:
        """``.grading/references[/ASSIGNMENT]``."""
        base = self.grading_dir / "references"
        return base / assignment if assignment else base

    def reference(self, assignment: str, notebook: str) -> Path:
        """The trusted reference record of ``ASSIGNMENT/NOTEBOOK.ipynb``."""
        return self.references_dir(assignment) / f"{notebook}.json"

    def report(self, assignment: str, student: str) -> Path:
        """The tamper report of one submission."""
        return self.grading_dir / "reports" / assignment / f"{student}.json"

    def done_marker(self, assignment: str, student: str) -> Path:
        """The completion marker of one graded submission (``cnn-course grade``)."""
        return self.grading_dir / "done" / assignment / f"{student}.json"

    def log(self, assignment: str, student: str) -> Path:
        """The worker's nbgrader log of one submission (``cnn-course grade``)."""
        return self.grading_dir / "logs" / assignment / f"{student}.log"
