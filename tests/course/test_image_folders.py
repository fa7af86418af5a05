"""course.image_folders: class folders of image files, written once, read back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from course import image_folders


def test_class_folders_round_trip_and_are_named_by_index(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 5, 6), dtype=np.uint8)
    labels = np.array([0, 1, 1, 0, 2, 1, 0])
    counts = image_folders.write_class_folders(tmp_path / "set", images, labels, ("a", "b", "c"),
                                               indices=[0, 1, 2, 4, 6])
    assert counts == {"a": 2, "b": 2, "c": 1} == image_folders.count_images(tmp_path / "set")
    assert sorted(p.name for p in (tmp_path / "set" / "a").iterdir()) == ["00000.png", "00006.png"]
    assert np.array_equal(np.asarray(Image.open(tmp_path / "set" / "c" / "00004.png")), images[4])
    assert [p.name for p in tmp_path.iterdir()] == ["set"]          # no partial folder left behind


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        image_folders.write_class_folders(tmp_path / "x", np.zeros((2, 3, 3)), [0, 1], ("a", "b"))


def test_fashion_mnist_folders_are_written_once_and_reused(tmp_path, monkeypatch):
    from course import data

    x = np.arange(30 * 4 * 4, dtype=np.uint8).reshape(30, 4, 4)
    y = np.repeat(np.arange(10), 3)
    calls = []
    monkeypatch.setattr(data, "load_fashion_mnist", lambda: calls.append(1) or ((x, y), (x[:1], y[:1])))
    root = image_folders.fashion_mnist_folders(tmp_path / "fm", per_class=2)
    counts = image_folders.count_images(root)
    assert counts == dict.fromkeys(sorted(image_folders.FASHION_MNIST_CLASSES), 2)
    assert sorted(p.name for p in (root / "1_Trouser").iterdir()) == ["00003.png", "00004.png"]
    assert image_folders.fashion_mnist_folders(tmp_path / "fm", per_class=2) == root and len(calls) == 1
    (root / "8_Bag" / "00024.png").unlink()
    with pytest.raises(FileExistsError, match="not a complete"):
        image_folders.fashion_mnist_folders(tmp_path / "fm", per_class=2)


def test_keras_reads_the_folders(tmp_path):
    import keras

    images = np.random.default_rng(1).integers(0, 256, size=(6, 8, 8), dtype=np.uint8)
    image_folders.write_class_folders(tmp_path / "set", images, [0, 1, 0, 1, 0, 1], ("cat", "dog"))
    ds = keras.utils.image_dataset_from_directory(tmp_path / "set", image_size=(8, 8), color_mode="grayscale",
                                                  shuffle=False, batch_size=6, verbose=False)
    assert ds.class_names == ["cat", "dog"]
    batch, labels = next(iter(ds))
    assert batch.shape == (6, 8, 8, 1) and sorted(np.asarray(labels).tolist()) == [0, 0, 0, 1, 1, 1]


def test_folder_order_is_label_order():
    """Loaders number classes by sorted folder name; that must be Fashion-MNIST's label order."""
    names = image_folders.FASHION_MNIST_CLASSES
    assert sorted(names) == list(names)
    assert [int(n.split("_")[0]) for n in names] == list(range(10))
