"""Tests for course.env: the notebook setup cell."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

from course import env

SETUP_KEYS = {
    "chapter",
    "seed",
    "python",
    "numpy",
    "keras",
    "backend",
    "backend_version",
    "gpu",
    "gpu_name",
    "device",
    "cpu_cores",
    "profile",
    "profile_source",
}


@pytest.fixture
def no_override(monkeypatch):
    """Make sure CNN_COURSE_PROFILE is unset for the test."""
    monkeypatch.delenv(env.PROFILE_ENV, raising=False)


@pytest.mark.parametrize(("value", "expected"), [("cpu", "cpu"), ("gpu", "gpu"), (" GPU ", "gpu")])
def test_profile_override(monkeypatch, value, expected):
    monkeypatch.setenv(env.PROFILE_ENV, value)
    assert env.get_profile(gpu=False) == expected
    assert env.get_profile(gpu=True) == expected


@pytest.mark.parametrize("value", ["tpu", "fast", "cpu,gpu"])
def test_invalid_profile_override(monkeypatch, value):
    monkeypatch.setenv(env.PROFILE_ENV, value)
    with pytest.raises(ValueError, match=f"{env.PROFILE_ENV} must be 'cpu', 'gpu' or 'smoke'"):
        env.get_profile(gpu=False)
    with pytest.raises(ValueError, match=env.PROFILE_ENV):
        env.setup("ch00")


def test_profile_follows_the_device(no_override):
    assert env.get_profile(gpu=True) == "gpu"
    assert env.get_profile(gpu=False) == "cpu"
    assert env.get_profile() in env.PROFILES


def test_setup_reports_and_returns_facts(no_override, monkeypatch, capsys):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    info = env.setup("ch02", seed=7)
    assert set(info) == SETUP_KEYS
    assert info["chapter"] == "ch02" and info["seed"] == 7
    assert info["numpy"] == np.__version__
    assert info["device"] == ("GPU" if info["gpu"] else "CPU")
    assert info["profile"] == ("gpu" if info["gpu"] else "cpu")
    assert info["profile_source"] == "auto"
    assert info["cpu_cores"] >= 1
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    report = capsys.readouterr().out.strip()
    assert "\n" not in report
    assert report.startswith("CNN Course ch02 | Python ")
    assert f"keras {info['keras']} ({info['backend']}" in report
    assert report.endswith(f"profile: {info['profile']}")


def test_setup_honours_profile_override(monkeypatch, capsys):
    monkeypatch.setenv(env.PROFILE_ENV, "gpu")
    info = env.setup()
    assert info["profile"] == "gpu" and info["profile_source"] == "env"
    assert capsys.readouterr().out.startswith("CNN Course | ")


def test_seeds_make_random_numbers_reproducible(no_override):
    import keras

    def draw():
        return (
            np.random.rand(5).tolist(),
            random.random(),
            keras.ops.convert_to_numpy(keras.random.uniform((3,))).tolist(),
        )

    env.setup(seed=123)
    first = draw()
    env.setup(seed=123)
    assert draw() == first
    env.setup(seed=124)
    assert draw() != first


def test_report_format_for_a_gpu():
    info = {
        "chapter": "ch05",
        "python": "3.11.7",
        "numpy": "2.4.6",
        "keras": "3.15.1",
        "backend": "torch",
        "backend_version": "2.13.0",
        "gpu": True,
        "gpu_name": "NVIDIA H100",
        "cpu_cores": 16,
        "profile": "gpu",
        "profile_source": "auto",
    }
    assert env.format_report(info) == (
        "CNN Course ch05 | Python 3.11.7 | numpy 2.4.6 | keras 3.15.1 (torch 2.13.0)"
        " | device: GPU (NVIDIA H100) | profile: gpu"
    )


def test_backends_without_a_gpu_detector_report_cpu():
    assert env._detect_gpu("numpy") is None
    assert env._framework_version("numpy") is None


def test_smoke_profile_runs_tensorflow_functions_eagerly(monkeypatch, capsys):
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("only the TensorFlow backend traces graphs")
    monkeypatch.setenv(env.PROFILE_ENV, "cpu")
    env.setup("ch00")
    assert not tf.config.functions_run_eagerly()
    monkeypatch.setenv(env.PROFILE_ENV, "smoke")
    try:
        env.setup("ch00")
        assert tf.config.functions_run_eagerly()
    finally:
        tf.config.run_functions_eagerly(False)
