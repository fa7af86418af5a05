"""course.ch10: the backbone loader, image folders, BatchNorm calibration, budget and widgets."""

from __future__ import annotations

import re

import numpy as np
import pytest

from course import ch10
from course.pretrained import WeightsUnavailableError


def test_budget_has_every_profile_and_at_least_100_training_images_per_class_outside_smoke():
    assert set(ch10.BUDGET) == {"smoke", "cpu", "gpu"}
    for profile in ("cpu", "gpu"):
        assert ch10.BUDGET[profile]["per_class"] * 0.6 >= 100, profile
    assert all(b["fine_tune_lr"] < b["head_lr"] for b in ch10.BUDGET.values())


def test_offline_backbone_is_pretrained_and_brings_its_preprocessing():
    backbone, preprocessing = ch10.load_backbone(32)
    assert backbone.input_shape == (None, 32, 32, 3) and backbone.output_shape == (None, 1280)
    (scale,) = preprocessing
    assert np.allclose(np.asarray(scale(np.array([[0.0, 127.0, 255.0]]))), [[-127 / 128, 0, 1]])
    from course.pretrained import efficientnet_lite0

    imagenet = efficientnet_lite0(weights="imagenet").get_layer("head_conv").get_weights()[0]
    assert np.array_equal(backbone.get_layer("head_conv").get_weights()[0], imagenet)


def test_online_backbone_fails_with_one_sentence_offline(monkeypatch):
    import keras

    def no_network(**kwargs):
        raise OSError("URL fetch failure")

    monkeypatch.setattr(keras.applications, "EfficientNetB0", no_network)
    with pytest.raises(WeightsUnavailableError, match=r"^keras.applications could not fetch .*offline'\) where"):
        ch10.load_backbone(32, source="keras")
    with pytest.raises(ValueError, match="offline"):
        ch10.load_backbone(32, source="imagenet")


def test_image_root_accepts_a_folder_of_class_folders_and_refuses_others(tmp_path):
    root = ch10.random_image_folder(tmp_path / "mine", [3, 2], size=5)
    assert ch10.image_root(str(root)) == root
    assert {d.name: len(list(d.iterdir())) for d in root.iterdir()} == {"class_a": 3, "class_b": 2}
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a folder of class folders"):
        ch10.image_root(str(tmp_path / "empty"))


def test_calibrate_batchnorm_sets_statistics_and_nothing_else():
    import keras

    backbone = ch10.tiny_backbone(16)
    weights = [w.copy() for w in backbone.get_layer("stem_conv").get_weights()]
    images = np.random.default_rng(0).uniform(0, 50, (64, 16, 16, 3)).astype("float32")
    ch10.calibrate_batchnorm(backbone, images, n=64)
    bn = backbone.get_layer("stem_bn")
    conv = keras.ops.convert_to_numpy(backbone.get_layer("stem_conv")(images))
    assert np.allclose(keras.ops.convert_to_numpy(bn.moving_mean), conv.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)
    assert bn.momentum == 0.99
    assert all(np.array_equal(a, b) for a, b in zip(weights, backbone.get_layer("stem_conv").get_weights()))


def test_blocks_trainable_count_and_throughput():
    import tensorflow as tf

    backbone = ch10.tiny_backbone(16)
    assert ch10.backbone_blocks(backbone) == ["stem", "block0", "block1", "head"]
    assert ch10.trainable_count(backbone) == sum(int(np.prod(w.shape)) for w in backbone.trainable_weights)
    backbone.trainable = False
    assert ch10.trainable_count(backbone) == 0
    data = tf.data.Dataset.from_tensor_slices((np.zeros((40, 4), "float32"), np.zeros(40))).batch(8)
    assert ch10.throughput(data, batches=3) > 0


def test_freeze_explorer_counts_the_parameters_of_the_unfrozen_blocks():
    backbone = ch10.tiny_backbone(16)
    stages = [{"stage": "head only", "trainable": 330, "accuracy": 0.5, "seconds": 3.0}]
    widget = ch10.freeze_explorer(backbone, stages)
    top1 = widget.render({"top": 1})
    assert re.search(r"freeze-trainable'>512<", top1.html), top1.html  # head_conv: 1x1, 16 -> 32
    assert "blocks training: head." in top1.html and "head only" in top1.html and "50.0%" in top1.html
    none = widget.render({"top": 0})
    assert "freeze-trainable'>0<" in none.html and "frozen backbone" in none.html
    every = widget.render({"top": 4}).html
    assert f">{3 * 3 * 3 * 8 + 3 * 3 * 8 * 16 + 3 * 3 * 16 * 16 + 16 * 32:,}<" in every


def test_augmentation_preview_changes_training_images_only():
    import keras

    images = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype("float32")
    widget = ch10.augmentation_preview(images, keras.layers.RandomTranslation(0.3, 0.3, fill_mode="constant"))
    view = widget.render({"seed": 3})
    assert "aug-unchanged'>unchanged<" in view.html and "seed <b class='aug-seed'>3<" in view.html
    assert len(view.figure.axes) == 3 * 4
