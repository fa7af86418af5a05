"""Image data sets as folders of image files, the layout a student's own photos have.

``keras.utils.image_dataset_from_directory`` (chapter 10) reads one folder per
class of image files.  Offline, no package ships real colour photos with 100
images per class, so :func:`fashion_mnist_folders` writes Fashion-MNIST's
*training* split in that layout once (PNG files, in the course cache), and the
same chapter code runs unchanged on ``flower_photos`` or on a folder of your
own pictures.  The test split is never written: in a graded run the grader
holds it (see :mod:`course.graded_data`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["FASHION_MNIST_CLASSES", "IMAGE_SUFFIXES", "count_images", "fashion_mnist_folders",
           "write_class_folders"]

FASHION_MNIST_CLASSES = ("0_T-shirt_top", "1_Trouser", "2_Pullover", "3_Dress", "4_Coat", "5_Sandal",
                         "6_Shirt", "7_Sneaker", "8_Bag", "9_Ankle_boot")
"""Fashion-MNIST's ten classes as folder names, in label order.  Loaders number classes in the
alphanumeric order of their folders (``image_dataset_from_directory`` does), so the label prefix
makes class ``i`` of a model trained on the folders Fashion-MNIST's label ``i``, the order the
grader's test labels use."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
"""File types ``image_dataset_from_directory`` reads."""


def write_class_folders(root, images: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                        indices: Sequence[int] | None = None) -> dict:
    """Write ``images`` (N, H, W) or (N, H, W, C) uint8 as ``root/CLASS/NNNNN.png``; return counts per class.

    ``indices`` selects the images to write (default: all).  File names are
    the images' indices, so the same data always gives the same files.  The
    folder is written under a temporary name and renamed when complete, so a
    reader never sees half of it.
    """
    from PIL import Image

    root = Path(root)
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or len(images) != len(labels):
        raise ValueError("images must be uint8 with one label each")
    root.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    counts = dict.fromkeys(class_names, 0)
    for name in class_names:
        (partial / name).mkdir()
    for index in range(len(images)) if indices is None else indices:
        name = class_names[int(labels[index])]
        Image.fromarray(np.squeeze(images[index])).save(partial / name / f"{int(index):05d}.png")
        counts[name] += 1
    os.chmod(partial, 0o755)
    os.replace(partial, root)
    return counts


def count_images(root) -> dict[str, int]:
    """``{class folder: number of image files}`` of a class-folder data set, sorted by class."""
    root = Path(root)
    return {d.name: sum(f.suffix.lower() in IMAGE_SUFFIXES for f in d.iterdir())
            for d in sorted(root.iterdir()) if d.is_dir()}


def _cache() -> Path:
    base = os.environ.get("CNN_COURSE_CACHE") or Path(os.environ.get("XDG_CACHE_HOME")
                                                      or Path.home() / ".cache") / "cnn-course"
    return Path(base) / "image-folders"


def fashion_mnist_folders(root=None, per_class: int = 600) -> Path:
    """The first ``per_class`` Fashion-MNIST training images of each class as ``root/CLASS/NNNNN.png``.

    Written once and reused when complete; ``NNNNN`` is the image's index in
    the training split.  ``root`` defaults to
    ``$CNN_COURSE_CACHE/image-folders/fashion_mnist_train_PER_CLASS``
    (``~/.cache/cnn-course/...``).  Returns ``root``.
    """
    from course.data import load_fashion_mnist

    root = Path(root) if root is not None else _cache() / f"fashion_mnist_train_{per_class}"
    want = dict.fromkeys(sorted(FASHION_MNIST_CLASSES), per_class)
    if root.is_dir() and count_images(root) == want:
        return root
    if root.exists():
        raise FileExistsError(f"{root} exists but is not a complete Fashion-MNIST folder; remove it")
    (x_train, y_train), _ = load_fashion_mnist()
    keep = np.sort(np.concatenate([np.flatnonzero(y_train == c)[:per_class] for c in range(10)]))
    write_class_folders(root, x_train, y_train, FASHION_MNIST_CLASSES, indices=keep)
    return root
