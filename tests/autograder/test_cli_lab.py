"""`cnn-course lab`: JupyterLab options pass through; the course's Lab asks no news question."""

from __future__ import annotations

import json
import os
import sys

import pytest

from autograder import cli


@pytest.fixture
def launched(monkeypatch, tmp_path):
    """Run `cnn-course lab ...` up to the exec, which is recorded instead of performed."""
    calls = []
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setattr(os, "execv", lambda path, cmd: calls.append(cmd))
    monkeypatch.chdir(tmp_path)

    def run(*args):
        assert cli.main(["--root", str(tmp_path), "lab", *args]) == 0
        return calls[-1]
    return run


def test_lab_passes_double_dash_options_to_jupyterlab(launched):
    cmd = launched("--ip=0.0.0.0", "--port=8888")
    assert cmd[-2:] == ["--ip=0.0.0.0", "--port=8888"]
    assert cmd[1:4] == ["-m", "jupyter", "lab"]


def test_other_commands_still_refuse_unknown_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["release", "--port=8888"])
    assert "unrecognized arguments: --port=8888" in capsys.readouterr().err


def test_lab_turns_the_news_question_off_and_keeps_other_settings(launched, tmp_path):
    path = tmp_path / "venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    launched()
    settings = json.loads(path.read_text())
    assert settings["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false",
                                                                       "checkForUpdates": False}
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
