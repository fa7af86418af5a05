"""Chapter 1 helpers: data, the dense-vs-CNN shift experiment, and the shift explorer widget.

Everything here is lesson machinery: MNIST subsets, a zero-filling image
shift, the three small models of the experiment, training and evaluation on
shifted digits, a receptive-field measurement, the dense matrix hidden inside
a convolution, plots and the widget.  Parameter counts come from Keras
(``count_params()``) and convolutions from ``keras.layers.Conv2D`` itself;
the chapter's exercises (parameter formulas and a numpy ``conv2d``) are not
solved here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from course.widgets import View, explorer, shift_images

EXPERIMENT_BUDGET = {
    # cpu: about a minute of training on 2 CPU cores; gpu: the full training set.
    "cpu": {"n_train": 12_000, "n_small": 2_000, "epochs": 4, "small_epochs": 8, "n_test": 1_000},
    "gpu": {"n_train": 60_000, "n_small": 2_000, "epochs": 6, "small_epochs": 8, "n_test": 10_000},
    # smoke: seconds, to check that the notebook runs end to end (its accuracies mean nothing).
    "smoke": {"n_train": 1_000, "n_small": 500, "epochs": 1, "small_epochs": 1, "n_test": 200},
}
"""Training budget of the section-5 experiment, per profile (``info["profile"]``)."""

MAX_SHIFT = 6
"""The experiment shifts test digits by 0..MAX_SHIFT pixels."""

DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))
"""Unit shifts (dy, dx): down, up, right, left.  Accuracy at shift s averages all four."""


def mnist_subset(n_train: int, n_test: int):
    """The first ``n_train`` training and ``n_test`` test MNIST digits.

    Returns ``(x_train, y_train), (x_test, y_test)``: images as float32 in
    [0, 1] with shape (N, 28, 28, 1), labels as uint8.
    """
    from course.data import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist()
    def prep(x):
        return (x[..., None] / np.float32(255)).astype(np.float32)

    return (prep(x_train[:n_train]), y_train[:n_train]), (prep(x_test[:n_test]), y_test[:n_test])


def correlation(a, b) -> float:
    """Pearson correlation of two arrays (flattened); nan when one of them is constant."""
    a, b = np.ravel(np.asarray(a, np.float64)), np.ravel(np.asarray(b, np.float64))
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


# --------------------------------------------------------------------------- models

def build_dense(units: int = 30, input_shape=(28, 28, 1)):
    """Flatten -> Dense(units, relu) -> Dense(10, softmax)."""
    import keras

    layers = keras.layers
    return keras.Sequential([keras.Input(input_shape), layers.Flatten(name="flatten"),
                             layers.Dense(units, activation="relu", name="hidden"),
                             layers.Dense(10, activation="softmax", name="output")], name="dense_net")


def build_cnn(head: str = "global_max", input_shape=(28, 28, 1)):
    """A small CNN: 3x3 "same" convolutions with 2x2 max pooling, and one of two heads.

    ``head="flatten"``: conv(16) -> pool -> conv(32) -> pool -> Flatten -> Dense(10), a
    dense layer reading a 7x7x32 map, each weight tied to one position.
    ``head="global_max"``: conv(16) -> pool -> conv(32) -> pool -> conv(64) ->
    GlobalMaxPooling2D -> Dense(10): each of the 64 features says "seen somewhere".
    """
    import keras

    layers = keras.layers
    trunk = [keras.Input(input_shape),
             layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
             layers.MaxPooling2D(name="pool1"),
             layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
             layers.MaxPooling2D(name="pool2")]
    if head == "flatten":
        top = [layers.Flatten(name="flatten")]
    elif head == "global_max":
        top = [layers.Conv2D(64, 3, padding="same", activation="relu", name="conv3"),
               layers.GlobalMaxPooling2D(name="global_max")]
    else:
        raise ValueError(f"head must be 'flatten' or 'global_max', not {head!r}")
    return keras.Sequential(trunk + top + [layers.Dense(10, activation="softmax", name="output")],
                            name=f"cnn_{head}")


def multiply_adds(model) -> int:
    """Multiply-adds of one forward pass of one image through the Conv2D and Dense layers of ``model``.

    A Conv2D layer does ``kh * kw * C_in`` multiply-adds for each of its
    ``H_out * W_out * filters`` outputs; a Dense layer ``inputs * units``.
    Pooling, activations and biases (comparatively cheap) are not counted.
    """
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            h, w, f = (int(d) for d in layer.output.shape[1:])
            kh, kw = layer.kernel_size
            total += h * w * f * kh * kw * int(layer.input.shape[-1])
        elif isinstance(layer, keras.layers.Dense):
            total += int(layer.input.shape[-1]) * layer.units
    return total


def train(model, x, y, epochs: int, seed: int = 42, batch_size: int = 64,
          learning_rate: float = 2e-3) -> float:
    """Compile ``model`` (Adam, sparse cross-entropy) and fit it quietly; return the seconds taken."""
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start


def accuracy(model, x, y) -> float:
    """Share of ``x`` that ``model`` classifies as ``y``."""
    pred = np.asarray(model.predict(x, batch_size=1000, verbose=0)).argmax(axis=1)
    return float(np.mean(pred == y))


def accuracy_vs_shift(model, x, y, max_shift: int = MAX_SHIFT) -> list[float]:
    """Accuracy on ``x`` shifted by s = 0..max_shift pixels, averaged over the 4 DIRECTIONS."""
    hits = []
    for s in range(max_shift + 1):
        shifted = np.concatenate([shift_images(x, s * dy, s * dx) for dy, dx in DIRECTIONS])
        pred = np.asarray(model.predict(shifted, batch_size=1000, verbose=0)).argmax(axis=1)
        hits.append(float(np.mean(pred.reshape(len(DIRECTIONS), len(x)) == np.asarray(y))))
    return hits


def ink_kept(x, max_shift: int = MAX_SHIFT) -> list[float]:
    """Share of the total pixel intensity still on the canvas after each shift (4 directions)."""
    total = float(np.sum(x))
    return [float(np.mean([shift_images(x, s * dy, s * dx).sum() / total for dy, dx in DIRECTIONS]))
            for s in range(max_shift + 1)]


def plot_shift_accuracy(curves: dict[str, Sequence[float]], ink: Sequence[float] | None = None):
    """Accuracy vs shift, one line per model (and the share of ink kept, dashed)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    shifts = np.arange(len(next(iter(curves.values()))))
    for (name, acc), marker in zip(curves.items(), "os^vD"):
        ax.plot(shifts, acc, marker=marker, label=name)
    if ink is not None:
        ax.plot(shifts, ink, "k--", lw=1, label="share of ink still on the canvas")
    ax.axhline(0.1, color="grey", lw=0.8, ls=":")
    ax.text(shifts[-1], 0.11, "chance", ha="right", color="grey", fontsize=8)
    ax.set_xlabel("shift of the test digits (pixels, averaged over up/down/left/right)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- anatomy of a conv layer

def conv_as_dense(conv_layer, input_shape: Sequence[int]):
    """The dense weight matrix and bias that compute exactly what ``conv_layer`` computes.

    A convolution is linear, so feeding it the H*W*C one-hot "basis" images
    reads its matrix row by row: ``flatten(conv(x)) == flatten(x) @ W + b``
    (before the activation).  Returns ``(W, b)`` as float32 numpy arrays.
    """
    n = int(np.prod(input_shape))
    basis = np.eye(n, dtype=np.float32).reshape(n, *input_shape)
    bias = np.asarray(conv_layer.bias) if conv_layer.use_bias else 0.0
    pre = np.asarray(conv_layer.convolution_op(basis, conv_layer.kernel))
    weights = pre.reshape(n, -1)
    out_shape = pre.shape[1:]
    b = np.broadcast_to(bias, out_shape).reshape(-1).astype(np.float32)
    return weights.astype(np.float32), b


def receptive_fields(model, probe_size: int = 48) -> dict[str, int]:
    """Receptive-field width (pixels) of each Conv2D layer of ``model``, measured.

    Builds a linear copy of the model's convolutional trunk on a
    ``probe_size``-pixel square input (all-ones kernels, no activation,
    average instead of max pooling: the same geometry, no cancellations),
    feeds it one-hot images and counts the input columns that reach the
    centre unit of each convolutional layer.
    """
    import keras

    layers = keras.layers
    channels = model.inputs[0].shape[-1]
    x = inp = keras.Input((probe_size, probe_size, channels))
    taps = {}
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            x = layers.Conv2D(1, layer.kernel_size, strides=layer.strides, padding=layer.padding,
                              use_bias=False, kernel_initializer="ones")(x)
            taps[layer.name] = x
        elif isinstance(layer, layers.MaxPooling2D):
            x = layers.AveragePooling2D(layer.pool_size, layer.strides, padding=layer.padding)(x)
        elif not isinstance(layer, layers.InputLayer):
            break
    probe_model = keras.Model(inp, list(taps.values()))
    n = probe_size * probe_size
    basis = np.eye(n, dtype=np.float32).reshape(n, probe_size, probe_size, 1)
    basis = np.repeat(basis, channels, axis=-1)
    outs = probe_model.predict(basis, batch_size=256, verbose=0)
    outs = outs if isinstance(outs, list) else [outs]
    sizes = {}
    for name, out in zip(taps, outs):
        h, w = out.shape[1:3]
        reach = np.asarray(out[:, h // 2, w // 2, 0]).reshape(probe_size, probe_size) > 0
        cols = np.flatnonzero(reach.any(axis=0))
        sizes[name] = int(cols[-1] - cols[0] + 1)
    return sizes


def keras_conv2d(x, kernel, bias, strides=1, padding="valid") -> np.ndarray:
    """Ground truth: what ``keras.layers.Conv2D`` computes on one image with these weights.

    ``x``: (H, W, C_in); ``kernel``: (kh, kw, C_in, C_out), as Keras stores it;
    ``bias``: (C_out,).  Builds the layer, loads the weights with
    ``set_weights`` and returns its output for ``x`` as a numpy array
    (H_out, W_out, C_out).
    """
    import keras

    x = np.asarray(x, np.float32)
    kernel = np.asarray(kernel, np.float32)
    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], strides=strides, padding=padding)
    layer.build((None, *x.shape))
    layer.set_weights([kernel, np.asarray(bias, np.float32)])
    return np.asarray(layer(x[None]))[0]


# --------------------------------------------------------------------------- widget

def _forward_until(model, stop_layer, x):
    """Run ``x`` through ``model``'s layers up to and including ``stop_layer``."""
    out = x
    for layer in model.layers:
        out = layer(out)
        if layer is stop_layer:
            return np.asarray(out)
    raise ValueError(f"{stop_layer.name} is not a layer of {model.name}")


def _first(model, kind):
    for layer in model.layers:
        if isinstance(layer, kind):
            return layer
    return None


def _fmt(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.3f}"


def shift_explorer(dense_model, cnn_model, images, labels, max_shift: int = 8):
    """Shift a digit with sliders and watch a dense layer's and a conv layer's responses.

    ``dense_model``: a model whose first ``Dense`` layer is shown (its units'
    activations for the original and the shifted digit).  ``cnn_model``: a
    model whose first ``Conv2D`` layer (stride 1, ``"same"``) is shown as a
    feature map, and whose global pooling layer (if any) gives the pooled
    features.  ``images``/``labels``: a few digits, shape (N, 28, 28, 1).

    Readouts (HTML elements with CSS classes): ``cnn-shift``;
    ``cnn-pixel-corr`` (shifted vs original image); ``cnn-dense-corr``
    (dense units, shifted vs original input); ``cnn-conv-raw-corr`` (feature
    maps, shifted vs original input, position by position);
    ``cnn-conv-corr`` (the map of the shifted input vs the *shifted* map of
    the original, away from the borders: translation equivariance);
    ``cnn-pooled-corr`` (globally pooled features); ``cnn-dense-pred`` and
    ``cnn-cnn-pred``.  Returns the top-level widget.
    """
    import ipywidgets as w
    import keras
    import matplotlib.pyplot as plt

    dense_layer = _first(dense_model, keras.layers.Dense)
    conv_layer = _first(cnn_model, keras.layers.Conv2D)
    pool_layer = _first(cnn_model, (keras.layers.GlobalMaxPooling2D, keras.layers.GlobalAveragePooling2D))
    if conv_layer.strides != (1, 1) or conv_layer.padding != "same":
        raise ValueError("the explorer shows a stride-1 'same' convolution")
    rh, rw = conv_layer.kernel_size[0] // 2, conv_layer.kernel_size[1] // 2
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels)

    dx = w.IntSlider(0, min=-max_shift, max=max_shift, description="dx (right)")
    dy = w.IntSlider(0, min=-max_shift, max=max_shift, description="dy (down)")
    digit = w.Dropdown(options=[(f"test digit #{i} (a {int(labels[i])})", i) for i in range(len(images))],
                       value=0, description="Digit")
    for control in (dx, dy, digit):
        control.add_class(f"cnn-ctl-{control.description.split()[0].lower()}")


    for control in (dx, dy, digit):
        control.add_class(f"cnn-ctl-{control.description.split()[0].lower()}")

    def render(values: dict) -> View:
        right, down, index = values["dx"], values["dy"], values["digit"]
        x = images[index][None]
        sx = shift_images(x, down, right)
        batch = np.concatenate([x, sx])
        dense_act = _forward_until(dense_model, dense_layer, batch)
        conv_map = _forward_until(cnn_model, conv_layer, batch)
        old_moved = shift_images(conv_map[0], down, right)
        h, wd = conv_map.shape[1:3]
        rows = slice(max(down, 0) + rh, h + min(down, 0) - rh)
        cols = slice(max(right, 0) + rw, wd + min(right, 0) - rw)
        equi = correlation(conv_map[1][rows, cols], old_moved[rows, cols])
        pooled = "" if pool_layer is None else (
            f"<tr><td>globally pooled CNN features (invariance)</td><td class='cnn-pooled-corr'>"
            f"{_fmt(correlation(*_forward_until(cnn_model, pool_layer, batch)))}</td></tr>")
        pd = np.asarray(dense_model(batch))
        pc = np.asarray(cnn_model(batch))
        html = (
            f"<p>Shift: <b class='cnn-shift'>dx={right}, dy={down}</b> "
            f"(label {int(labels[index])})</p>"
            "<table><tr><th>correlation, shifted vs original</th><th></th></tr>"
            f"<tr><td>pixels</td><td class='cnn-pixel-corr'>{_fmt(correlation(x, sx))}</td></tr>"
            f"<tr><td>dense layer: {dense_act.shape[1]} unit activations</td>"
            f"<td class='cnn-dense-corr'>{_fmt(correlation(dense_act[0], dense_act[1]))}</td></tr>"
            f"<tr><td>conv layer: feature maps, same positions</td>"
            f"<td class='cnn-conv-raw-corr'>{_fmt(correlation(conv_map[0], conv_map[1]))}</td></tr>"
            f"<tr><td>conv layer: map of shifted input vs shifted map (equivariance)</td>"
            f"<td class='cnn-conv-corr'>{_fmt(equi)}</td></tr>" + pooled + "</table>"
            f"<p>Dense net predicts <b class='cnn-dense-pred'>{int(pd[1].argmax())}</b> "
            f"({pd[1].max():.0%}); CNN predicts <b class='cnn-cnn-pred'>{int(pc[1].argmax())}</b> "
            f"({pc[1].max():.0%}).</p>")
        channel = int(np.argmax(conv_map[0].reshape(-1, conv_map.shape[-1]).std(axis=0)))
        fig, axes = plt.subplots(1, 4, figsize=(12, 2.9),
                                 gridspec_kw={"width_ratios": [1, 1, 1, 1.6]})
        axes[0].imshow(sx[0, ..., 0], cmap="gray_r", vmin=0, vmax=1)
        axes[0].set_title("shifted input")
        vmax = float(np.abs(conv_map[..., channel]).max()) or 1.0
        for ax, m, title in ((axes[1], conv_map[0], "conv map, original"),
                             (axes[2], conv_map[1], "conv map, shifted input")):
            ax.imshow(m[..., channel], cmap="magma", vmin=0, vmax=vmax)
            ax.set_title(f"{title}\n(filter {channel})", fontsize=9)
        for ax in axes[:3]:
            ax.set_xticks([])
            ax.set_yticks([])
        units = np.arange(dense_act.shape[1])
        axes[3].bar(units - 0.2, dense_act[0], 0.4, label="original", color="grey")
        axes[3].bar(units + 0.2, dense_act[1], 0.4, label="shifted", color="tab:blue")
        axes[3].set_title("dense layer: activation of each unit", fontsize=9)
        axes[3].set_xlabel("unit")
        axes[3].legend(fontsize=8)
        fig.tight_layout()
        return View(html, fig)

    return explorer({"dx": dx, "dy": dy, "digit": digit}, render, arrange="top", readout_class="cnn-shift-readout")


