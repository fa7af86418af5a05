"""Shared fixtures: scratch copies of the course directory (the repository is never written)."""

from __future__ import annotations

import os

import pytest

from tests.notebooks.submissions import make_course


@pytest.fixture(scope="session")
def course_factory(tmp_path_factory):
    """Create scratch course directories with the given assignments generated."""
    def factory(name: str, assignments: list[str], bare: bool = False):
        return make_course(tmp_path_factory.mktemp(name), assignments, bare=bare)
    return factory


def pytest_configure(config):
    """Give each pytest-xdist worker its own sandbox uids.

    Per-uid limits (the process limit) are shared by all sandboxes of a uid: a
    fork bomb graded by one test process must not starve kernels of another.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        k = int(worker[2:])
        os.environ.setdefault("CNN_COURSE_SANDBOX_UID", str(64000 + k))
        os.environ.setdefault("CNN_COURSE_SANDBOX_UID_BASE", str(64300 + 100 * k))
