"""autograder.evaluate_model: test images reach each task's model the way its training data did."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import evaluate_model


def test_unit_tasks_scale_to_0_1_and_reshape():
    x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    out = evaluate_model.model_inputs(x, "mnist", (2, 2, 1))
    assert out.shape == (1, 2, 2, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, :, 0], [[0, 1], [0.2, 0.4]])


def test_image_file_tasks_get_pixels_resized_and_grey_replicated():
    x = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    same = evaluate_model.model_inputs(x, "fashion_mnist_images", (28, 28, 1))
    np.testing.assert_array_equal(same[..., 0], x.astype(np.float32))          # no resize, no scaling
    big = evaluate_model.model_inputs(x, "fashion_mnist_images", (56, 56, 3))
    assert big.shape == (3, 56, 56, 3) and 0 <= big.min() and big.max() <= 255
    assert np.array_equal(big[..., 0], big[..., 2])                             # grey in every channel


def test_image_file_tasks_match_what_image_dataset_from_directory_yields(tmp_path):
    """The grader's resize is Keras's loader's: the same PNG read by the loader gives the same array."""
    import keras

    from course.image_folders import write_class_folders

    x = np.random.default_rng(1).integers(0, 256, size=(2, 28, 28), dtype=np.uint8)
    write_class_folders(tmp_path / "set", x, [0, 1], ("a", "b"))
    ds = keras.utils.image_dataset_from_directory(tmp_path / "set", image_size=(64, 64), shuffle=False,
                                                  batch_size=2, verbose=False)
    loaded = np.asarray(next(iter(ds))[0])
    np.testing.assert_allclose(evaluate_model.model_inputs(x, "fashion_mnist_images", (64, 64, 3)), loaded,
                               atol=1e-3)


def test_unknown_tasks_are_refused():
    with pytest.raises(ValueError, match="unknown task"):
        evaluate_model.test_data("imagenet")


def test_mean_iou_pools_pixels_and_leaves_absent_classes_out():
    truth = np.array([[0, 0, 1], [0, 2, 2]])
    pred = np.array([[0, 1, 1], [0, 2, 0]])
    miou, iou = evaluate_model.mean_iou(pred, truth, 4)
    np.testing.assert_allclose(iou[:3], [2 / 4, 1 / 2, 1 / 2])
    assert np.isnan(iou[3]) and miou == 0.5
    assert evaluate_model.mean_iou(truth, truth, 11)[0] == 1.0


def test_segmentation_test_canvases_come_from_test_digits_with_the_grader_seed(monkeypatch):
    from course.canvases import make_canvases
    from course.data import load_mnist

    monkeypatch.setenv(evaluate_model.SEGMENTATION_SEED_ENV, "123")
    assert evaluate_model.grader_seed() == 123
    x, mask = evaluate_model.segmentation_test_data()
    _, (digits, labels) = load_mnist()
    want = make_canvases(digits, labels, evaluate_model.SEGMENTATION_CANVASES, seed=123)
    assert np.array_equal(x, want[0]) and np.array_equal(mask, want[1])
    assert x.shape == (evaluate_model.SEGMENTATION_CANVASES, 48, 48)
    monkeypatch.setenv(evaluate_model.SEGMENTATION_SEED_ENV, "not a number")
    with pytest.raises(ValueError, match="must be an integer"):
        evaluate_model.grader_seed()
