"""Kernels graded side by side share the cores: ``--jobs N`` caps each kernel's threads."""

from __future__ import annotations

import shutil

import pytest

from autograder.batch import worker
from autograder.batch.worker import THREAD_VARIABLES, thread_env


@pytest.fixture
def no_caps(monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_each_of_n_jobs_gets_its_share_of_the_cores(no_caps):
    assert thread_env(2, cores=2) == dict.fromkeys(THREAD_VARIABLES, "1")
    assert thread_env(4, cores=16) == dict.fromkeys(THREAD_VARIABLES, "4")
    assert thread_env(3, cores=2) == dict.fromkeys(THREAD_VARIABLES, "1")  # never 0


def test_one_job_or_an_instructor_cap_is_left_alone(no_caps, monkeypatch):
    assert thread_env(1, cores=2) == {}
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert thread_env(2, cores=2) == {}


def pool_envs(monkeypatch, tmp_path, students: list[str]) -> list[dict[str, str]]:
    """The ``env`` the local pool (``--jobs 2`` on 2 cores) hands each worker of ``students``."""
    from autograder.batch import _grade_locally

    seen = []

    def fake_run_worker(root, assignment, student, scratch, **kwargs):
        seen.append(kwargs["env"])
        shutil.rmtree(scratch, ignore_errors=True)
        return 0, ""

    monkeypatch.setattr("autograder.batch.run_worker", fake_run_worker)
    monkeypatch.setattr(worker.os, "cpu_count", lambda: 2)
    results = list(_grade_locally(tmp_path, "a", students, jobs=2, worker_timeout=None,
                                  allow_unsandboxed=False))
    assert len(results) == len(students)
    return seen


def test_the_pool_passes_the_caps_to_every_worker(no_caps, monkeypatch, tmp_path):
    assert pool_envs(monkeypatch, tmp_path, ["s1", "s2"]) == [dict.fromkeys(THREAD_VARIABLES, "1")] * 2


def test_a_batch_smaller_than_the_pool_is_capped_by_its_size(no_caps, monkeypatch, tmp_path):
    """One submission graded with --jobs 2 (e.g. a reference run) keeps every core."""
    assert pool_envs(monkeypatch, tmp_path, ["only"]) == [{}]


def test_the_sandbox_lets_the_caps_through():
    from autograder.sandbox.command import passed_env
    from autograder.sandbox.settings import DEFAULT_ENV_PASSTHROUGH

    env = passed_env({**dict.fromkeys(THREAD_VARIABLES, "1"), "SECRET": "x"}, DEFAULT_ENV_PASSTHROUGH)
    assert {k: env.get(k) for k in THREAD_VARIABLES} == dict.fromkeys(THREAD_VARIABLES, "1")
    assert "SECRET" not in env
