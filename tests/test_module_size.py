"""The house rule on module size: no module of ``autograder/`` or ``course/`` grows past ~400 lines.

A module that outgrows it holds more than one concern; split it along them
(e.g. ``course/data.py`` and ``course/data_files.py``: the loaders and the
file checks).  The limit leaves a little slack over 400 for a docstring.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 420
MODULES = sorted(p for pkg in ("autograder", "course") for p in (ROOT / pkg).rglob("*.py"))


def test_the_packages_have_modules():
    assert len(MODULES) > 20


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_at_most_about_400_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= LIMIT, f"{path.relative_to(ROOT)} has {lines} lines: split it along its concerns"
