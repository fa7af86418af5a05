"""The private library hooks the grader overrides exist in the installed versions."""

from __future__ import annotations

import pytest

from autograder import compat


def test_every_private_hook_exists_in_the_installed_libraries():
    assert compat.problems() == []


def test_installed_versions_are_those_the_hooks_were_written_for():
    assert compat.version_notes() == []


def test_a_missing_hook_stops_the_grader_with_its_purpose(monkeypatch):
    monkeypatch.setattr(compat, "HOOKS", (*compat.HOOKS, (
        "nbclient.client", "NotebookClient", "_no_such_hook", "execute.py: an imagined override")))
    with pytest.raises(RuntimeError, match=r"NotebookClient\._no_such_hook is gone .*imagined override"):
        compat.require()
