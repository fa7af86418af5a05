"""Chapter 6 helpers: the classic architectures in Keras, their costs, and the explorer widget.

Lesson machinery only: builders for LeNet-5, AlexNet, GoogLeNet and the
inception module (from the papers' tables), a squeeze-and-excitation block
and small plain/residual stacks for the measured experiments, cost counters
(multiply-adds, depth along the longest path), short training runs, quoted
ILSVRC results with their sources, and the architecture explorer.  Parameter
counts come from Keras (``count_params()``).  The chapter's exercises
(parameter formulas from a layer's configuration, the inception cost formula,
a residual unit, numpy SE and depthwise separable forward passes) are not
solved here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from course.costs import (  # noqa: F401 - the chapter imports them from here
    cost_by_kind,
    depth,
    layer_multiply_adds,
    layer_table,
    multiply_adds,
    shape_of,
)
from course.widgets import View, explorer

EXPERIMENT_BUDGET = {
    # cpu: each training comparison takes a few seconds to half a minute on 2 CPU cores.
    "cpu": {"n_train": 4_000, "epochs": 2, "shallow": 4, "deep": 32},
    "gpu": {"n_train": 12_000, "epochs": 3, "shallow": 4, "deep": 32},
    # smoke: seconds, to check that the notebook runs end to end (its losses mean nothing).
    "smoke": {"n_train": 256, "epochs": 1, "shallow": 2, "deep": 4},
}
"""Size of the section 2 and 4 training comparisons, per profile (``info["profile"]``)."""

ILSVRC_TOP5 = (
    # (year, entry, architecture, top-5 error in %, source)
    (2010, "NEC-UIUC", "SIFT/LBP features + SVMs", 28.2, "Russakovsky et al. 2015, IJCV, results of ILSVRC"),
    (2011, "XRCE", "Fisher vectors + linear SVMs", 25.8, "Russakovsky et al. 2015, IJCV, results of ILSVRC"),
    (2012, "SuperVision", "AlexNet", 16.4, "Russakovsky et al. 2015, IJCV, results of ILSVRC (15.3 with extra data)"),
    (2013, "Clarifai", "ZFNet-like CNN", 11.7, "Russakovsky et al. 2015, IJCV, results of ILSVRC"),
    (2014, "GoogLeNet", "GoogLeNet (Inception v1)", 6.7, "Russakovsky et al. 2015, IJCV, results of ILSVRC"),
    (2014, "VGG (2nd place)", "VGG-16/19", 7.3, "Russakovsky et al. 2015, IJCV, results of ILSVRC"),
    (2015, "MSRA", "ResNet", 3.57, "He et al. 2016, CVPR, Table 5"),
    (2017, "WMW", "SENet", 2.25, "Hu et al. 2018, CVPR, Squeeze-and-Excitation Networks"),
)
"""ILSVRC classification winners (and VGG), top-5 error on the test set, **quoted** from
the sources named, not measured here.  Xception never entered the challenge; its
paper reports 5.5 % single-model top-5 error on the validation set (Chollet 2017,
Table 1), against 5.9 % for Inception V3 in the same setting."""

LENET5_PAPER_PARAMS = {"C1": 156, "S2": 12, "C3": 1_516, "S4": 32, "C5": 48_120, "F6": 10_164}
"""Trainable parameters of LeNet-5's layers as **quoted** from LeCun et al. 1998,
section II.B (its output layer of Euclidean RBF units has fixed weights)."""

GOOGLENET_MODULES = {
    # name: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj), from Szegedy et al. 2015, Table 1
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
"""GoogLeNet's nine inception modules (filters per branch), quoted from its paper's Table 1."""


# --------------------------------------------------------------------------- builders


def lenet5(activation: str = "tanh"):
    """LeNet-5 in Keras (32x32x1 input), with full C3 connections and a dense output layer.

    The 1998 network differs in three places, which the lesson accounts for:
    its subsampling layers S2/S4 have a trainable coefficient and bias per map
    (Keras's ``AveragePooling2D`` has none), C3 connects each map to only some
    of S2's maps, and the output layer is made of RBF units.
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((32, 32, 1)),
        layers.Conv2D(6, 5, activation=activation, name="C1"),
        layers.AveragePooling2D(2, name="S2"),
        layers.Conv2D(16, 5, activation=activation, name="C3"),
        layers.AveragePooling2D(2, name="S4"),
        layers.Conv2D(120, 5, activation=activation, name="C5"),
        layers.Flatten(name="flatten"),
        layers.Dense(84, activation=activation, name="F6"),
        layers.Dense(10, activation="softmax", name="output"),
    ], name="LeNet5")


def alexnet(classes: int = 1000):
    """AlexNet (Krizhevsky et al. 2012) in Keras: 227x227x3 input, the two-GPU split as ``groups=2``.

    conv2, conv4 and conv5 see only the half of the previous layer's maps that
    lived on the same GPU, which a grouped convolution reproduces exactly.
    The two LRN layers (chapter 5) have no parameters and are left out.
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((227, 227, 3)),
        layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1"),
        layers.MaxPooling2D(3, strides=2, name="pool1"),
        layers.Conv2D(256, 5, padding="same", groups=2, activation="relu", name="conv2"),
        layers.MaxPooling2D(3, strides=2, name="pool2"),
        layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3"),
        layers.Conv2D(384, 3, padding="same", groups=2, activation="relu", name="conv4"),
        layers.Conv2D(256, 3, padding="same", groups=2, activation="relu", name="conv5"),
        layers.MaxPooling2D(3, strides=2, name="pool5"),
        layers.Flatten(name="flatten"),
        layers.Dense(4096, activation="relu", name="fc6"),
        layers.Dropout(0.5, name="drop6"),
        layers.Dense(4096, activation="relu", name="fc7"),
        layers.Dropout(0.5, name="drop7"),
        layers.Dense(classes, activation="softmax", name="fc8"),
    ], name="AlexNet")


def inception_module(x, filters: Sequence[int], bottleneck: bool = True, name: str = "inception"):
    """An inception module on tensor ``x`` (functional API); returns the concatenated output.

    ``filters`` = (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj), as in
    GoogLeNet's Table 1.  With ``bottleneck=False`` it is the paper's "naive"
    module (its Figure 2a): the 3x3 and 5x5 convolutions see the whole input
    and the pooling branch is passed on unprojected.
    """
    from keras import layers

    n1, n3r, n3, n5r, n5, pool_proj = filters
    conv = {"padding": "same", "activation": "relu"}
    b1 = layers.Conv2D(n1, 1, name=f"{name}_1x1", **conv)(x)
    b3 = layers.Conv2D(n3r, 1, name=f"{name}_3x3_reduce", **conv)(x) if bottleneck else x
    b3 = layers.Conv2D(n3, 3, name=f"{name}_3x3", **conv)(b3)
    b5 = layers.Conv2D(n5r, 1, name=f"{name}_5x5_reduce", **conv)(x) if bottleneck else x
    b5 = layers.Conv2D(n5, 5, name=f"{name}_5x5", **conv)(b5)
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    if bottleneck:
        bp = layers.Conv2D(pool_proj, 1, name=f"{name}_pool_proj", **conv)(bp)
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def inception_model(input_shape: Sequence[int], filters: Sequence[int], bottleneck: bool = True):
    """A model holding one :func:`inception_module` (to count its parameters and multiply-adds)."""
    import keras

    inputs = keras.Input(tuple(input_shape))
    suffix = "bottleneck" if bottleneck else "naive"
    return keras.Model(inputs, inception_module(inputs, filters, bottleneck, name="module"),
                       name=f"inception_{suffix}")


def googlenet(classes: int = 1000):
    """GoogLeNet (Szegedy et al. 2015, Table 1) without its two auxiliary classifiers and LRN."""
    import keras
    from keras import layers

    conv = {"padding": "same", "activation": "relu"}
    inputs = keras.Input((224, 224, 3))
    x = layers.Conv2D(64, 7, strides=2, name="conv1_7x7", **conv)(inputs)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = layers.Conv2D(64, 1, name="conv2_3x3_reduce", **conv)(x)
    x = layers.Conv2D(192, 3, name="conv2_3x3", **conv)(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    for stage in ("3", "4", "5"):
        for key, filters in GOOGLENET_MODULES.items():
            if key.startswith(stage):
                x = inception_module(x, filters, name=f"inception_{key}")
        if stage != "5":
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{stage}")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(0.4, name="dropout")(x)
    return keras.Model(inputs, layers.Dense(classes, activation="softmax", name="fc")(x),
                       name="GoogLeNet")


def se_block(x, ratio: int = 16, name: str = "se"):
    """Squeeze-and-excitation (Hu et al. 2018) on tensor ``x``: returns ``x`` recalibrated.

    Squeeze: global average pooling to one number per channel.  Excitation:
    Dense(C/ratio, ReLU) then Dense(C, sigmoid).  Recalibration: each channel
    of ``x`` multiplied by its excitation (between 0 and 1).
    """
    from keras import layers

    channels = int(x.shape[-1])
    s = layers.GlobalAveragePooling2D(name=f"{name}_squeeze")(x)
    z = layers.Dense(max(1, channels // ratio), activation="relu", name=f"{name}_reduce")(s)
    e = layers.Dense(channels, activation="sigmoid", name=f"{name}_expand")(z)
    e = layers.Reshape((1, 1, channels), name=f"{name}_reshape")(e)
    return layers.Multiply(name=f"{name}_scale")([x, e])


def se_model(input_shape: Sequence[int], ratio: int = 16):
    """A model holding one :func:`se_block` on inputs of ``input_shape`` (H, W, C)."""
    import keras

    inputs = keras.Input(tuple(input_shape))
    return keras.Model(inputs, se_block(inputs, ratio), name="se_block")


def deep_stack(depth: int, skips: bool, width: int = 16, batch_norm: bool = True,
               activation: str = "relu", input_shape=(28, 28, 1)):
    """A small digit classifier with ``depth`` 3x3 convolutions at 14x14, plain or residual.

    A strided stem brings 28x28 digits to 14x14x``width``; then ``depth``
    convolutions (each followed by batch normalization when ``batch_norm``)
    and, when ``skips``, an identity shortcut around every pair of them
    (ResNet's basic unit, ``depth`` must then be even); global average pooling
    and a 10-way softmax close it.  The plain and residual versions have the
    same layers and the same number of parameters: only the shortcuts differ.
    """
    import keras
    from keras import layers

    if skips and depth % 2:
        raise ValueError("a residual stack needs an even depth (two convolutions per unit)")
    inputs = keras.Input(tuple(input_shape))
    x = layers.Conv2D(width, 3, strides=2, padding="same", activation=activation, name="stem")(inputs)

    def conv(x, i, last_of_unit=False):
        x = layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm, name=f"conv{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
        return x if last_of_unit else layers.Activation(activation, name=f"act{i}")(x)

    for i in range(1, depth + 1, 2 if skips else 1):
        if skips:
            y = conv(conv(x, i), i + 1, last_of_unit=True)
            x = layers.Activation(activation, name=f"out{i + 1}")(layers.Add(name=f"add{i + 1}")([x, y]))
        else:
            x = conv(x, i)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(10, activation="softmax", name="output")(x)
    kind = "residual" if skips else "plain"
    return keras.Model(inputs, outputs, name=f"{kind}_{depth}")


def small_cnn(activation: str, input_shape=(28, 28, 1)):
    """Four 3x3 convolutions (He-initialised) and a softmax: the net of the activation comparison."""
    import keras
    from keras import layers

    conv = {"padding": "same", "activation": activation, "kernel_initializer": "he_normal"}
    return keras.Sequential([
        keras.Input(tuple(input_shape)),
        layers.Conv2D(16, 3, **conv),
        layers.Conv2D(16, 3, **conv),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 3, **conv),
        layers.Conv2D(16, 3, **conv),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ], name=f"cnn_{activation}")


def keras_applications(names: Sequence[str] = ("VGG16", "InceptionV3", "ResNet50", "Xception")):
    """``{name: model}`` of ``keras.applications`` models with random weights (nothing downloaded)."""
    import keras

    return {n: getattr(keras.applications, n)(weights=None) for n in names}


# --------------------------------------------------------------------------- experiments


def mnist_train_subset(n: int, size: int = 28):
    """The first ``n`` MNIST training digits, float32 in [0, 1], shape (n, size, size, 1), and labels.

    ``size=32`` pads the digits to LeNet-5's 32x32 input (as the 1998 paper did).
    """
    from course.data import load_mnist

    (x, y), _ = load_mnist()
    x = (x[:n, ..., None] / np.float32(255)).astype(np.float32)
    if size != 28:
        pad = (size - 28) // 2
        x = np.pad(x, ((0, 0), (pad, size - 28 - pad), (pad, size - 28 - pad), (0, 0)))
    return x, y[:n]


def training_losses(model, x, y, epochs: int, learning_rate: float = 0.02, batch_size: int = 64,
                    seed: int = 1) -> dict:
    """Train ``model`` with SGD + momentum 0.9 (as AlexNet and ResNet were) and record its progress.

    Returns ``{"loss": [...], "accuracy": [...], "seconds": ...}``: the mean
    training loss and accuracy over each epoch (what ``fit`` reports, in
    training mode), and the training time.
    """
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(keras.optimizers.SGD(learning_rate, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0).history
    return {"loss": [float(v) for v in history["loss"]],
            "accuracy": [float(v) for v in history["accuracy"]],
            "seconds": time.perf_counter() - start}


def first_layer_gradient_norm(model, x, y) -> float:
    """Norm of the loss gradient with respect to the first convolution's kernel (TensorFlow backend)."""
    import keras
    import tensorflow as tf

    kernel = next(layer.kernel for layer in model.layers if hasattr(layer, "kernel"))
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True))
        loss = tf.reduce_mean(loss)
    return float(tf.norm(tape.gradient(loss, kernel.value)))


# --------------------------------------------------------------------------- explorer

ARCHITECTURES = ("LeNet-5", "AlexNet", "VGG16", "GoogLeNet", "InceptionV3", "ResNet50", "Xception")
"""The explorer's architectures, in order of publication."""

MEASURES = {"params": "parameters", "mult_adds": "multiply-adds"}
"""What the explorer's bars can show."""

YEAR = {"LeNet-5": 1998, "AlexNet": 2012, "VGG16": 2014, "GoogLeNet": 2014, "InceptionV3": 2015,
        "ResNet50": 2015, "Xception": 2017}
"""Year of publication of each explorer architecture."""


def build(name: str):
    """The explorer's architecture ``name`` as a Keras model with random weights."""
    builders = {"LeNet-5": lenet5, "AlexNet": alexnet, "GoogLeNet": googlenet}
    if name in builders:
        return builders[name]()
    return keras_applications([name])[name]


def architecture_stats(name: str, model=None) -> dict:
    """Parameters, multiply-adds, depth, input shape and cost by layer kind of architecture ``name``."""
    model = build(name) if model is None else model
    return {"name": name, "year": YEAR[name], "params": int(model.count_params()),
            "mult_adds": multiply_adds(model), "depth": depth(model),
            "input": shape_of(model.inputs[0]), "by_kind": cost_by_kind(model)}


def _millions(n: int) -> str:
    return f"{n / 1e6:,.2f} M" if n < 1e9 else f"{n / 1e9:,.2f} G"


def architecture_explorer(stats: dict[str, dict] | None = None):
    """Pick an architecture: its parameters, multiply-adds, depth, and where they sit by layer kind.

    ``stats`` (``{name: architecture_stats(...)}``) pre-fills the cache; the
    other architectures are built (random weights) when first selected.
    Every architecture seen so far is plotted against the quoted ILSVRC top-5
    errors of :data:`ILSVRC_TOP5`.  Returns the top-level widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    cache: dict[str, dict] = dict(stats or {})
    controls = {
        "name": w.Dropdown(options=list(ARCHITECTURES), value="AlexNet", description="Network"),
        "measure": w.ToggleButtons(options=[("parameters", "params"), ("multiply-adds", "mult_adds")],
                                   value="params", description="Show"),
    }

    def render(values: dict) -> View:
        name, measure = values["name"], values["measure"]
        if name not in cache:
            cache[name] = architecture_stats(name)
        s = cache[name]
        html = (f"<p><b>{name}</b> ({s['year']}), input {'×'.join(map(str, s['input']))}: "
                f"<b class='arch-params'>{s['params']:,}</b> parameters, "
                f"<b class='arch-madds'>{s['mult_adds']:,}</b> multiply-adds per image, "
                f"<b class='arch-depth'>{s['depth']}</b> weight layers deep "
                f"(longest path).</p>")
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
        kinds = sorted(s["by_kind"], key=lambda k: -s["by_kind"][k][measure])
        total = sum(s["by_kind"][k][measure] for k in kinds) or 1
        left.barh(kinds, [s["by_kind"][k][measure] / total for k in kinds], color="tab:blue")
        left.invert_yaxis()
        left.set_xlim(0, 1)
        left.set_xlabel(f"share of {MEASURES[measure]}")
        left.set_title(f"{name}: where the {'weights' if measure == 'params' else 'compute'} is", fontsize=10)
        years = [r[0] for r in ILSVRC_TOP5]
        right.plot(years, [r[3] for r in ILSVRC_TOP5], "o-", color="0.5", label="ILSVRC top-5 error (quoted)")
        for year, _, arch, err, _ in ILSVRC_TOP5:
            right.annotate(arch.split(" ")[0], (year, err), fontsize=7, xytext=(3, 3),
                           textcoords="offset points")
        right.set_xlabel("year")
        right.set_ylabel("top-5 error (%)")
        twin = right.twinx()
        seen = sorted(cache.values(), key=lambda r: r["year"])
        twin.scatter([r["year"] for r in seen], [r["params"] / 1e6 for r in seen], color="tab:orange",
                     marker="s", label="parameters (M, measured)")
        twin.scatter([s["year"]], [s["params"] / 1e6], color="red", marker="s", s=60)
        twin.set_yscale("log")
        twin.set_ylabel("parameters (millions)")
        right.set_title("quoted errors, measured sizes of the networks seen so far", fontsize=10)
        right.legend(fontsize=7, loc="upper right")
        fig.tight_layout()
        rows = "".join(f"<tr><td>{r['name']}</td><td>{_millions(r['params'])}</td>"
                       f"<td>{_millions(r['mult_adds'])}</td><td>{r['depth']}</td></tr>" for r in seen)
        table = ("<table><tr><th>network</th><th>parameters</th><th>multiply-adds</th>"
                 f"<th>depth</th></tr>{rows}</table>")
        return View(html + table, fig)

    return explorer(controls, render, readout_class="arch-readout")
