"""Known wrong answers, a right variant and attacks on chapter 10, as cell overrides."""

from tests.notebooks.grading_checks import variant
from tests.notebooks.grading_checks import wrong_answer_batches as _pack
from tests.notebooks.submissions import solved_sources

A = "ch10_transfer"

# --- exercise 1: select images ----------------------------------------------------------------

_SELECT = '''
from pathlib import Path

from course.image_folders import IMAGE_SUFFIXES


def select_images(root, per_class, seed=0):
    root = Path(root)
    class_names = {names}
    rng = np.random.default_rng(seed)
    paths, labels = [], []
    for label, name in enumerate(class_names):
        files = sorted(str(f) for f in (root / name).iterdir() if {keep})
        if len(files) < per_class:
            {too_few}
        for index in sorted({pick}):
            paths.append(files[index])
            labels.append(label)
    return paths, labels, class_names
'''

_SELECT_RIGHT = {
    "names": "sorted(d.name for d in root.iterdir() if d.is_dir())",
    "keep": "f.suffix.lower() in IMAGE_SUFFIXES",
    "too_few": 'raise ValueError(f"class {name} has too few images")',
    "pick": "rng.choice(len(files), size=per_class, replace=False)",
}

_select = variant(_SELECT, _SELECT_RIGHT)

# --- exercise 2: split ------------------------------------------------------------------------

_SPLIT = '''
from sklearn.model_selection import train_test_split


def split_dataset(paths, labels, val_share=0.2, test_share=0.2, seed=0):
    rest_p, test_p, rest_y, test_y = train_test_split(list(paths), list(labels), test_size=test_share,
                                                      stratify={strat1}, random_state={seed1})
    train_p, val_p, train_y, val_y = train_test_split(rest_p, rest_y, test_size={val_size},
                                                      stratify={strat2}, random_state=seed)
    return {{"train": (train_p, train_y), "val": (val_p, val_y), "test": (test_p, test_y)}}
'''

_SPLIT_RIGHT = {"strat1": "list(labels)", "strat2": "rest_y", "seed1": "seed",
                "val_size": "val_share / (1 - test_share)"}

_split = variant(_SPLIT, _SPLIT_RIGHT)

SPLIT_BY_HAND = '''
def split_dataset(paths, labels, val_share=0.2, test_share=0.2, seed=0):
    rng = np.random.default_rng(seed)
    parts = {"train": ([], []), "val": ([], []), "test": ([], [])}
    paths, labels = list(paths), list(labels)
    for c in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == c]
        members = [members[i] for i in rng.permutation(len(members))]
        n_test, n_val = round(test_share * len(members)), round(val_share * len(members))
        for name, chosen in (("test", members[:n_test]), ("val", members[n_test:n_test + n_val]),
                             ("train", members[n_test + n_val:])):
            parts[name][0].extend(paths[i] for i in chosen)
            parts[name][1].extend(labels[i] for i in chosen)
    return parts
'''
"""A correct split written without scikit-learn, class by class (must score full marks)."""

# --- exercise 3: the input pipeline -----------------------------------------------------------

_PIPELINE = '''
import tensorflow as tf


def make_dataset(paths, labels, image_size, batch_size, training, seed=0):
    def load(path, label):
        image = tf.io.decode_image(tf.io.read_file(path), channels={channels}, expand_animations=False)
        return {resize}, label

    data = tf.data.Dataset.from_tensor_slices((list(paths), np.asarray(labels, dtype="int32")))
    data = data.map(load, num_parallel_calls=tf.data.AUTOTUNE){cache_early}
    if {shuffle_when}:
        data = data.shuffle(len(paths), seed=seed, reshuffle_each_iteration={reshuffle})
    return data.batch(batch_size){cache_late}.prefetch(tf.data.AUTOTUNE)
'''

_PIPELINE_RIGHT = {"channels": "3", "resize": 'tf.image.resize(image, (image_size, image_size), method="bilinear")',
                   "shuffle_when": "training", "reshuffle": "True", "cache_early": ".cache()", "cache_late": ""}

_pipeline = variant(_PIPELINE, _PIPELINE_RIGHT)

PIPELINE_FROM_KERAS = '''
import keras
import tensorflow as tf
from PIL import Image


def make_dataset(paths, labels, image_size, batch_size, training, seed=0):
    images = np.stack([keras.ops.convert_to_numpy(keras.ops.image.resize(
        np.asarray(Image.open(p).convert("RGB"), dtype="float32"), (image_size, image_size)))
        for p in paths])
    data = tf.data.Dataset.from_tensor_slices((images, np.asarray(labels))).cache()
    if training:
        data = data.shuffle(len(images), seed=seed)
    return data.batch(batch_size).prefetch(2)
'''
"""Decoding with Pillow and resizing with ``keras.ops`` up front (right, if less lazy).  Its first
version cached after shuffling, which replays the first epoch's order: the probes caught it."""

# --- exercise 4: the model --------------------------------------------------------------------

_BUILD = '''
def build_transfer_model(backbone, preprocessing, augment, num_classes, image_size):
    inputs = keras.Input((image_size, image_size, 3))
    x = augment(inputs)
    for layer in {prep}:
        x = layer(x)
    {freeze}
    x = {call}
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(num_classes, activation={activation})(x)
    return keras.Model(inputs, outputs)
'''

_BUILD_RIGHT = {"prep": "preprocessing", "freeze": "backbone.trainable = False", "call": "backbone(x)",
                "activation": '"softmax"'}

_build = variant(_BUILD, _BUILD_RIGHT)

# --- exercise 5: unfreeze ---------------------------------------------------------------------

_UNFREEZE = '''
def unfreeze_top(backbone, n_blocks):
    blocks = backbone_blocks(backbone)
    top = set({top}) if n_blocks > 0 else set()
    {whole}
    for layer in backbone.layers:
        layer.trainable = layer.name.split("_")[0] in top{no_bn}
'''

_UNFREEZE_RIGHT = {"top": "blocks[len(blocks) - n_blocks:]", "whole": "backbone.trainable = True",
                   "no_bn": " and not isinstance(layer, keras.layers.BatchNormalization)"}

_unfreeze = variant(_UNFREEZE, _UNFREEZE_RIGHT)

# Typical mistakes: (override of one solution cell, the test cells that must lose all their points).
WRONG_ANSWERS = {
    # exercise 1
    "select_first_images": ({"ex1_select_images": _select(pick="range(per_class)")}, {"test_select_images"}),
    "select_unsorted_classes": ({"ex1_select_images": _select(
        names="sorted((d.name for d in root.iterdir() if d.is_dir()), reverse=True)")}, {"test_select_images"}),
    "select_with_replacement": ({"ex1_select_images": _select(
        pick="rng.choice(len(files), size=per_class, replace=True)")}, {"test_select_images"}),
    "select_never_refuses": ({"ex1_select_images": _select(too_few="per_class = len(files)")},
                             {"test_select_images"}),
    # exercise 2
    "split_not_stratified": ({"ex2_split_dataset": _split(strat1="None", strat2="None")}, {"test_split_dataset"}),
    "split_val_share_of_the_rest": ({"ex2_split_dataset": _split(val_size="val_share")}, {"test_split_dataset"}),
    "split_ignores_seed": ({"ex2_split_dataset": _split(seed1="0")}, {"test_split_dataset"}),
    # exercise 3
    "pipeline_shuffles_validation": ({"ex3_make_dataset": _pipeline(shuffle_when="True")}, {"test_make_dataset"}),
    "pipeline_rescales_to_unit": ({"ex3_make_dataset": _pipeline(
        resize='tf.image.resize(image, (image_size, image_size)) / 255.0')}, {"test_make_dataset"}),
    "pipeline_nearest_resize": ({"ex3_make_dataset": _pipeline(
        resize='tf.image.resize(image, (image_size, image_size), method="nearest")')}, {"test_make_dataset"}),
    "pipeline_same_order_every_epoch": ({"ex3_make_dataset": _pipeline(reshuffle="False")}, {"test_make_dataset"}),
    "pipeline_cache_after_shuffle": ({"ex3_make_dataset": _pipeline(cache_early="", cache_late=".cache()")},
                                     {"test_make_dataset"}),
    # exercise 4
    "build_logits_not_probabilities": ({"ex4_build_transfer_model": _build(activation="None")},
                                       {"test_build_transfer_model"}),
    "build_backbone_not_frozen": ({"ex4_build_transfer_model": _build(freeze="pass")}, {"test_build_transfer_model"}),
    "build_skips_preprocessing": ({"ex4_build_transfer_model": _build(prep="[]")}, {"test_build_transfer_model"}),
    # exercise 5
    "unfreeze_batchnorm_too": ({"ex5_unfreeze_top": _unfreeze(no_bn="")}, {"test_unfreeze_top"}),
    "unfreeze_bottom_blocks": ({"ex5_unfreeze_top": _unfreeze(top="blocks[:n_blocks]")}, {"test_unfreeze_top"}),
    "unfreeze_leaves_backbone_frozen": ({"ex5_unfreeze_top": _unfreeze(whole="pass")}, {"test_unfreeze_top"}),
}

RIGHT_VARIANTS = {
    "templates": {"ex1_select_images": _select(), "ex2_split_dataset": _split(), "ex3_make_dataset": _pipeline(),
                  "ex4_build_transfer_model": _build(), "ex5_unfreeze_top": _unfreeze()},
    "by_hand": {"ex2_split_dataset": SPLIT_BY_HAND, "ex3_make_dataset": PIPELINE_FROM_KERAS},
}


def wrong_answer_batches() -> dict[str, tuple[list[str], dict[str, str], set[str]]]:
    """:data:`WRONG_ANSWERS` packed into few submissions (``grading_checks.wrong_answer_batches``)."""
    return _pack(WRONG_ANSWERS)


assert "model.save(\"transfer_model.keras\")" in solved_sources(A)["ex6_train"]

READS_TEST_FILES = '''
import gzip
import os

from course.data import FASHION_MNIST_DIR

found = {}
for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
    try:
        with gzip.open(os.path.join(FASHION_MNIST_DIR, name)) as handle:
            found[name] = len(handle.read())
    except OSError as exc:
        found[name] = type(exc).__name__
print("official test files:", found)
'''
"""Exercise 6 replaced by reading the grader's test set from the Debian package's files."""

# --- attacks ----------------------------------------------------------------------------------

_ALWAYS_EQUAL = '''
from pathlib import Path


class AlwaysEqual(list):
    """A list equal to everything."""
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = None


def select_images(root, per_class, seed=0):
    root = Path(root)
    names = AlwaysEqual(sorted((d.name for d in root.iterdir() if d.is_dir()), reverse=True))
    paths, labels = [], []
    for label, name in enumerate(names):
        files = sorted(str(f) for f in (root / name).iterdir())[:per_class]
        paths += files
        labels += [label] * len(files)
    return paths, labels, names
'''

_WRONG_SELECT = '''
from pathlib import Path


def select_images(root, per_class, seed=0):
    """The first image of each class, ``per_class`` times."""
    root = Path(root)
    names = sorted(d.name for d in root.iterdir() if d.is_dir())
    paths, labels = [], []
    for label, name in enumerate(names):
        paths += [str(min((root / name).iterdir()))] * per_class
        labels += [label] * per_class
    return paths, labels, names
'''

# Each attack beats bare nbgrader (tests check that too) and must gain nothing here.
# The whole attack sits in the first solution cell; the other answers are left blank.
ATTACKS = {
    "always_equal": _ALWAYS_EQUAL,
    "input_transformer": _WRONG_SELECT + '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''',
    "patched_testing_and_traceback": _WRONG_SELECT + '''
np.testing.assert_allclose = np.testing.assert_equal = lambda *a, **k: None
get_ipython().showtraceback = lambda *a, **k: None
''',
}

_SOLUTION_CELLS = ("ex1_select_images", "ex2_split_dataset", "ex3_make_dataset", "ex4_build_transfer_model",
                   "ex5_unfreeze_top", "ex6_train")


def attack_overrides(name: str) -> dict[str, str]:
    """Overrides that put the attack in the first cell and blank the rest."""
    return {"ex1_select_images": ATTACKS[name], **dict.fromkeys(_SOLUTION_CELLS[1:], "")}
