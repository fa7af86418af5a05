"""Malicious model files against trusted model grading (``autograder.models.model_credit``).

Chapter 2 saves no model, so the model attacks of the corpus live here.
``tests/autograder/test_models.py`` already covers a plain Lambda layer, a
symlink seen by ``check_model_file``, a fake and an oversized file; this adds
what it does not: links and paths that leave the submission *through*
``model_credit`` (refused before any evaluation runs), proof that a Lambda
layer's code never runs (a marker file), and archives whose ``config.json``
names functions outside Keras' modelling API (``os.system``,
``keras.config.enable_unsafe_deserialization``, the route of CVE-2025-1550).
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from autograder import models
from autograder.models import model_credit

pytestmark = pytest.mark.slow
TASK = "ch09_mnist"


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


@pytest.fixture
def never_evaluated(monkeypatch):
    """Fail the test if a model file reaches evaluation."""
    def evaluate(path, *args, **kwargs):
        raise AssertionError(f"{path} was evaluated")
    monkeypatch.setattr(models, "evaluate_model_file", evaluate)


@pytest.fixture(scope="module")
def outside(keras, tmp_path_factory) -> Path:
    """A genuine model file in a folder that is not the submission."""
    folder = tmp_path_factory.mktemp("instructor")
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(folder / "best.keras")
    return folder / "best.keras"


def _marking_lambda(marker: Path):
    """A function writing ``marker`` when called (no closure: Keras saves its bytecode)."""
    return eval(f"lambda t: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), t)[1]")


def test_symlink_to_a_model_outside_is_refused_before_evaluation(outside, tmp_path, never_evaluated):
    (tmp_path / "model.keras").symlink_to(outside)
    verdict = model_credit("model.keras", TASK, "cpu", tmp_path)
    assert verdict.share == 0 and "symbolic link" in verdict.message


@pytest.mark.parametrize("how", ["linked_folder", "dotdot", "absolute"])
def test_paths_that_leave_the_submission_are_refused(outside, tmp_path, never_evaluated, how):
    sub = tmp_path / "submission"
    sub.mkdir()
    if how == "linked_folder":  # the file itself is no link, a folder on its path is
        (sub / "models").symlink_to(outside.parent)
        path = "models/best.keras"
    elif how == "dotdot":
        path = os.path.relpath(outside, sub)
    else:
        path = str(outside)
    verdict = model_credit(path, TASK, "cpu", sub)
    assert verdict.share == 0 and "outside the submission" in verdict.message


def test_lambda_layer_code_never_runs(keras, tmp_path):
    marker = tmp_path / "lambda_ran"
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Lambda(_marking_lambda(marker)),
        keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "m.keras")
    marker.unlink()  # building the model here ran it once
    verdict = model_credit("m.keras", TASK, "cpu", tmp_path)
    assert verdict.share == 0 and "could not be loaded safely" in verdict.message
    assert not marker.exists()


def _rewrite_config(src: Path, dst: Path, change) -> None:
    """Copy the .keras archive ``src`` to ``dst`` with ``change(config)`` applied."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            zout.writestr(item, data)


def _dense(config: dict) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")


def _function(module: str, name: str) -> dict:
    return {"module": module, "class_name": "function", "config": name, "registered_name": "function"}


def _activation(module: str, name: str):
    def change(config):
        _dense(config)["config"]["activation"] = _function(module, name)
    return change


def _unsafe_activation(config):
    """Name ``keras.config.enable_unsafe_deserialization`` in the layer before the Lambda.

    Keras before 3.9 resolved any function a config named (CVE-2025-1550); here it
    must be refused as a non-modelling API, before the Lambda layer is reached.
    """
    layer = next(x for x in config["config"]["layers"] if x["class_name"] == "Activation")
    layer["config"]["activation"] = _function("keras.config", "enable_unsafe_deserialization")


@pytest.mark.parametrize("attack", ["os_system_activation", "builtins_exec_activation",
                                    "enable_unsafe_deserialization_then_lambda"])
def test_configs_naming_code_outside_keras_are_refused(keras, outside, tmp_path, attack):
    marker = tmp_path / "code_ran"
    if attack == "os_system_activation":
        change = _activation("os", "system")
    elif attack == "builtins_exec_activation":
        change = _activation("builtins", "exec")
    else:
        model = keras.Sequential([
            keras.Input((28, 28, 1)), keras.layers.Activation("linear"),
            keras.layers.Lambda(_marking_lambda(marker)),
            keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(10)])
        model.save(tmp_path / "lambda.keras")
        marker.unlink()  # building the model here ran it once
        outside, change = tmp_path / "lambda.keras", _unsafe_activation
    _rewrite_config(outside, tmp_path / "m.keras", change)
    verdict = model_credit("m.keras", TASK, "cpu", tmp_path)
    assert verdict.share == 0 and "could not be loaded safely" in verdict.message, verdict.message
    assert not marker.exists()
