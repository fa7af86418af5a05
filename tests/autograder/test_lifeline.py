"""autograder.lifeline: a grading subprocess does not outlive the worker that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import lifeline

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(2) is Linux's")

CHILD = ("import time; from autograder.lifeline import die_with_parent; "
         "print(die_with_parent(), flush=True); time.sleep(120)")
PARENT = f"""
import subprocess, sys, time
from autograder import lifeline
env = dict(__import__('os').environ, **lifeline.parent_env())
child = subprocess.Popen([sys.executable, '-c', {CHILD!r}], env=env, stdout=subprocess.PIPE, text=True)
print(child.pid, child.stdout.readline().strip(), flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_child_dies_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        pid, armed = parent.stdout.readline().split()
        assert armed == "True"
        assert _alive(int(pid))
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(int(pid)), "the child outlived its killed parent"
    finally:
        parent.kill()


def test_a_child_whose_parent_is_already_gone_exits_at_once():
    env = dict(os.environ, **{lifeline.PARENT_ENV: "1"})  # PID 1 did not start it
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 1 and proc.stdout == ""


def test_without_a_named_parent_nothing_is_armed():
    assert lifeline.die_with_parent({}) is False
    assert lifeline.parent_env() == {lifeline.PARENT_ENV: str(os.getpid())}
