"""Shared fixtures: scratch copies of the course directory (the repository is never written)."""

from __future__ import annotations

import pytest

from tests.notebooks.submissions import make_course


@pytest.fixture(scope="session")
def course_factory(tmp_path_factory):
    """Create scratch course directories with the given assignments generated."""
    def factory(name: str, assignments: list[str], bare: bool = False):
        return make_course(tmp_path_factory.mktemp(name), assignments, bare=bare)
    return factory
