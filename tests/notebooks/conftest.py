"""Fixtures: a scratch copy of the course directory, graded through nbgrader."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder import grading

ROOT = Path(__file__).resolve().parents[2]

BARE_CONFIG = '''
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "cnn-course-bare"
c.Execute.timeout = 600
'''


def make_course(tmp: Path, assignments: list[str], bare: bool = False) -> Path:
    """Copy config, source/ and release/ of ``assignments`` into ``tmp``; generate them."""
    tmp.mkdir(parents=True, exist_ok=True)
    if bare:
        (tmp / "nbgrader_config.py").write_text(BARE_CONFIG)
    else:
        shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    for assignment in assignments:
        for step in ("source", "release"):
            shutil.copytree(ROOT / step / assignment, tmp / step / assignment)
        grading.generate_assignment(tmp, assignment)
    return tmp


@pytest.fixture(scope="session")
def course_factory(tmp_path_factory):
    """Create scratch course directories (the repository is never written)."""
    def factory(name: str, assignments: list[str], bare: bool = False) -> Path:
        return make_course(tmp_path_factory.mktemp(name), assignments, bare=bare)
    return factory
