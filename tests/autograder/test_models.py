"""Trusted model grading: file checks, safe loading, accuracy to credit."""

from __future__ import annotations

import os

import numpy as np
import pytest

from autograder.models import check_model_file, model_credit
from course.thresholds import THRESHOLDS, credit

pytestmark = pytest.mark.slow
TASK = "ch09_mnist"


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(0)
    return keras


@pytest.fixture(scope="module")
def small_cnn_file(keras, tmp_path_factory):
    """A small CNN trained for a few seconds on 6,000 MNIST images."""
    from course.data import load_mnist

    (x, y), _ = load_mnist()
    x = x[:6000, ..., None].astype("float32") / 255.0
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y[:6000], epochs=1, batch_size=64, verbose=0)
    folder = tmp_path_factory.mktemp("sub")
    model.save(folder / "mnist_model.keras")
    return folder


def test_credit_is_linear_between_the_thresholds():
    table = THRESHOLDS[TASK]["cpu"]
    assert credit(TASK, "cpu", table["zero"]) == 0
    assert credit(TASK, "cpu", table["full"]) == 1
    assert credit(TASK, "cpu", (table["zero"] + table["full"]) / 2) == pytest.approx(0.5)
    assert credit(TASK, "cpu", 0.5) == 0 and credit(TASK, "cpu", 1.0) == 1
    assert THRESHOLDS[TASK]["gpu"]["full"] >= table["full"], "the gpu profile (larger budget) is never looser"


def test_a_real_cnn_is_evaluated_on_the_official_test_set(keras, small_cnn_file):
    from course.data import load_mnist

    verdict = model_credit("mnist_model.keras", TASK, "cpu", small_cnn_file)
    _, (x, y) = load_mnist()
    model = keras.saving.load_model(small_cnn_file / "mnist_model.keras")
    in_process = float(np.mean(model.predict(x[..., None] / 255.0, verbose=0).argmax(1) == y))
    assert verdict.score == pytest.approx(in_process, abs=1e-4)
    assert 0.8 < verdict.score < 0.99
    assert "10,000 images" in verdict.message
    assert verdict.share == pytest.approx(credit(TASK, "cpu", verdict.score))


def test_missing_symlinked_huge_and_foreign_files_are_refused(small_cnn_file, tmp_path):
    assert "no model file" in check_model_file("nope.keras", small_cnn_file)
    outside = tmp_path / "elsewhere.keras"
    outside.write_bytes((small_cnn_file / "mnist_model.keras").read_bytes())
    (small_cnn_file / "link.keras").symlink_to(outside)
    assert "symbolic link" in check_model_file("link.keras", small_cnn_file)
    (small_cnn_file / "fake.keras").write_text("accuracy = 1.0")
    assert "not a Keras" in check_model_file("fake.keras", small_cnn_file)
    assert "above the" in check_model_file("mnist_model.keras", small_cnn_file, max_bytes=1000)
    assert check_model_file("mnist_model.keras", small_cnn_file) is None


def test_lambda_layers_are_not_loaded(keras, tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(lambda t: t * 0),
                              keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "m.keras")
    verdict = model_credit("m.keras", TASK, "cpu", tmp_path)
    assert verdict.share == 0 and "could not be loaded safely" in verdict.message


def test_a_dense_only_model_is_not_a_cnn(keras, tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "m.keras")
    verdict = model_credit("m.keras", TASK, "cpu", tmp_path)
    assert verdict.share == 0 and "no convolutional layer" in verdict.message


def test_wrong_output_shape_is_explained(keras, tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(3, 3),
                              keras.layers.Flatten(), keras.layers.Dense(7)])
    model.save(tmp_path / "m.keras")
    verdict = model_credit("m.keras", TASK, "cpu", tmp_path)
    assert verdict.share == 0 and "not 10 class scores" in verdict.message


def test_evaluation_sandbox_sees_only_the_model_and_no_network(tmp_path):
    import subprocess
    import sys

    from autograder.sandbox import default_sandbox_uid, sandbox_command

    secret = tmp_path / "secret.txt"
    secret.write_text("hidden")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "model.keras").write_text("weights")
    probe = (
        "import os, socket, sys\n"
        "print(open('/input/model.keras').read())\n"
        f"print(os.path.exists({str(secret)!r}), os.path.exists({os.getcwd()!r} + '/source'))\n"
        "try:\n    open('/input/x', 'w')\nexcept OSError as e:\n    print('ro', e.errno)\n"
        "s = socket.socket()\ns.settimeout(2)\n"
        "try:\n    s.connect(('1.1.1.1', 80))\nexcept OSError as e:\n    print('net', type(e).__name__)\n"
        "print(os.getuid())\n")
    cmd = sandbox_command([sys.executable, "-c", probe], readonly={str(tmp_path / "in"): "/input"})
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout.split("\n")
    assert out[0] == "weights"
    assert out[1] == "False False"
    assert out[2].startswith("ro ")
    assert out[3].startswith("net ")
    if os.geteuid() == 0:
        assert out[4] == str(default_sandbox_uid())


def test_oversized_models_are_not_from_scratch(keras, tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "m.keras")
    verdict = model_credit("m.keras", TASK, "cpu", tmp_path, max_params=1000)
    assert verdict.share == 0.0 and "parameters, more than the 1,000 allowed" in verdict.message


def test_each_task_has_its_size_rule_and_names_its_test_set(keras, tmp_path):
    """ch09 allows a CNN built from scratch; ch10 a pretrained backbone (bigger) with its head."""
    from autograder.models import MAX_PARAMS, SIZE_RULES

    assert SIZE_RULES["ch10_transfer"][0] > MAX_PARAMS > 3_500_000  # Lite0 + head: 3.43 M
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)])
    model.save(tmp_path / "m.keras")
    verdict = model_credit("m.keras", "ch10_transfer", "cpu", tmp_path, sandbox=False)
    assert "on the official Fashion-MNIST test set" in verdict.message, verdict.message
    assert verdict.score is not None and 0 <= verdict.share <= 1
    small = model_credit("m.keras", "ch10_transfer", "cpu", tmp_path, sandbox=False, max_params=10)
    assert "allowed for a fine-tuned pretrained backbone with its new head" in small.message


def _constant_segmenter(keras, background_logit: float, path):
    """A fully convolutional model whose every pixel scores ``background_logit`` for class 0."""
    model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Conv2D(11, 1)])
    model.layers[0].kernel.assign(np.zeros((1, 1, 1, 11), "float32"))
    model.layers[0].bias.assign(np.array([background_logit] + [0.0] * 10, "float32"))
    model.save(path)


def test_a_segmenter_that_says_background_everywhere_scores_zero(keras, tmp_path):
    """Pixel accuracy ~92 % (the background's share), mean IoU ~0.08: no points."""
    _constant_segmenter(keras, 5.0, tmp_path / "segmentation_model.keras")
    verdict = model_credit("segmentation_model.keras", "ch08_segmentation", "cpu", tmp_path)
    assert verdict.share == 0.0, verdict.message
    assert 0.07 < verdict.score < 0.1, verdict.message
    assert "pixel accuracy 9" in verdict.message and "2,000 canvases of official MNIST test digits" in verdict.message
    seeded = model_credit("segmentation_model.keras", "ch08_segmentation", "cpu", tmp_path, sandbox=False)
    assert seeded.score == pytest.approx(verdict.score)


def test_a_segmenter_must_score_every_pixel(keras, tmp_path):
    model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Conv2D(11, 3),
                              keras.layers.GlobalAveragePooling2D()])
    model.save(tmp_path / "m.keras")
    verdict = model_credit("m.keras", "ch08_segmentation", "cpu", tmp_path, sandbox=False)
    assert verdict.share == 0 and "class scores per pixel (48, 48, 11)" in verdict.message, verdict.message
