"""Chapter 7 helpers: a digit classifier with a dense head, its fully convolutional twin, canvases.

Lesson machinery only: the classifier and its training, the FCN built from a
trained classifier with a weight-conversion function *you* supply (the
chapter's exercise), MNIST digits placed on larger canvases, score-map plots
and the canvas widget.  Nothing here converts dense weights to convolution
kernels.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from course.widgets import View, explorer

BUDGET = {
    # cpu: about 8 s of training on 2 CPU cores; gpu: all the training digits.
    "cpu": {"n_train": 12_000, "epochs": 3},
    "gpu": {"n_train": 60_000, "epochs": 3},
    # smoke: seconds, to check that the notebook runs end to end (its accuracy means nothing).
    "smoke": {"n_train": 1_000, "epochs": 1},
}
"""Training budget of the section 2 classifier, per profile (``info["profile"]``)."""

CONV_STACK = ((16, 3), (32, 3))
"""(filters, kernel) of the classifier's two conv layers; each is followed by 2x2 max pooling."""


def mnist_digits(n_train: int, n_test: int = 1_000):
    """MNIST digits as float32 in [0, 1], shape (N, 28, 28, 1): the first n_train / n_test."""
    from course.data import load_mnist

    (x, y), (xt, yt) = load_mnist()

    def prep(a):
        return (a[..., None] / np.float32(255)).astype(np.float32)

    return (prep(x[:n_train]), y[:n_train]), (prep(xt[:n_test]), yt[:n_test])


def classifier(hidden: int = 64):
    """The digit classifier: two conv + pool stages, then Flatten -> Dense(hidden) -> Dense(10)."""
    import keras
    from keras import layers

    stack = [keras.Input((28, 28, 1))]
    for i, (filters, kernel) in enumerate(CONV_STACK, 1):
        stack += [layers.Conv2D(filters, kernel, activation="relu", name=f"conv{i}"),
                  layers.MaxPooling2D(2, name=f"pool{i}")]
    stack += [layers.Flatten(name="flatten"), layers.Dense(hidden, activation="relu", name="dense1"),
              layers.Dense(10, activation="softmax", name="dense2")]
    return keras.Sequential(stack, name="digit_classifier")


def train(model, x, y, epochs: int, seed: int = 42) -> float:
    """Compile (Adam, sparse cross-entropy) and fit quietly; return the seconds taken."""
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    return time.perf_counter() - start


def fully_convolutional(model, convert: Callable, input_shape=(None, None, 1)):
    """The FCN twin of :func:`classifier` ``model``, its dense layers replaced by convolutions.

    The conv and pooling layers are rebuilt with the same weights; each Dense
    layer becomes a ``Conv2D`` whose kernel and bias are
    ``convert(kernel, bias, (h, w, c))``, where ``(h, w, c)`` is the shape of
    the feature map the dense layer read (flattened).  The kernel's spatial size
    is taken from what ``convert`` returns.  The FCN accepts any input of at
    least 28x28 pixels.
    """
    import keras
    from keras import layers

    inputs = keras.Input(tuple(input_shape))
    x = inputs
    shape = None
    for layer in model.layers:
        if isinstance(layer, layers.Flatten):
            shape = tuple(int(d) for d in layer.input.shape[1:])
            continue
        if isinstance(layer, layers.Dense):
            kernel, bias = layer.get_weights()
            if shape is None:  # a dense layer after another dense layer read a 1x1xunits map
                shape = (1, 1, kernel.shape[0])
            conv_kernel, conv_bias = convert(kernel, bias, shape)
            conv_kernel = np.asarray(conv_kernel, dtype=np.float32)
            conv = layers.Conv2D(conv_kernel.shape[-1], conv_kernel.shape[:2], activation=layer.activation,
                                 name=f"{layer.name}_as_conv")
            x = conv(x)
            conv.set_weights([conv_kernel, np.asarray(conv_bias, dtype=np.float32)])
            shape = None
        else:
            clone = layer.__class__.from_config(layer.get_config())
            x = clone(x)
            clone.set_weights(layer.get_weights())
    return keras.Model(inputs, x, name="digit_fcn")


def canvas(digits: np.ndarray, positions: Sequence[tuple[int, int]], size=(56, 84)) -> np.ndarray:
    """Digits (N, 28, 28, 1) pasted at ``positions`` (top, left) on a black canvas; overlaps keep the max."""
    out = np.zeros((*size, 1), dtype=np.float32)
    for digit, (top, left) in zip(digits, positions, strict=True):
        region = out[top:top + 28, left:left + 28]
        np.maximum(region, digit[:region.shape[0], :region.shape[1]], out=region)
    return out


def _canvas_and_map(image: np.ndarray, grid: np.ndarray, cmap: str, titles: tuple[str, str],
                    height: float = 3.2):
    """A figure: the canvas on the left, a 0..1 map of the score grid (with a colour bar) on the right."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, height))
    left.imshow(np.squeeze(image), cmap="gray_r")
    shown = right.imshow(grid, cmap=cmap, vmin=0, vmax=1)
    fig.colorbar(shown, ax=right, fraction=0.03)
    for ax, title in zip((left, right), titles, strict=True):
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, left


def plot_score_map(image: np.ndarray, scores: np.ndarray, stride: int, field: int, title: str = ""):
    """The canvas with, for each score-map cell, its winning class where it is confident.

    ``scores`` has shape (H', W', 10): cell (i, j) looks at the input window
    starting at (i * stride, j * stride), ``field`` pixels wide.
    """
    best, conf = scores.argmax(axis=-1), scores.max(axis=-1)
    fig, left = _canvas_and_map(image, conf, "viridis", (
        "canvas; digits = confident cells' classes",
        f"score map {scores.shape[0]}x{scores.shape[1]}: top probability"))
    for (i, j), c in np.ndenumerate(best):
        if conf[i, j] > 0.9:
            left.text(j * stride + field / 2, i * stride + field / 2, str(c), color="tab:red",
                      ha="center", va="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def canvas_widget(fcn, digits: np.ndarray, labels: np.ndarray, stride: int = 4, field: int = 26,
                  size=(56, 84)):
    """Place one digit anywhere on a canvas and watch the FCN's class heat map.

    Controls: which digit, its position (top, left) and the class whose score
    map is shown.  The readout gives the cell with the highest score for that
    class and what it covers.  Returns the top-level widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    controls = {
        "index": w.IntSlider(0, min=0, max=len(digits) - 1, description="Digit #", continuous_update=False),
        "top": w.IntSlider(12, min=0, max=size[0] - 28, description="Top", continuous_update=False),
        "left": w.IntSlider(30, min=0, max=size[1] - 28, description="Left", continuous_update=False),
        "cls": w.Dropdown(options=list(range(10)), value=int(labels[0]), description="Class"),
    }

    def render(values: dict) -> View:
        image = canvas(digits[values["index"]:values["index"] + 1], [(values["top"], values["left"])], size)
        scores = np.asarray(fcn.predict(image[None], verbose=0))[0]
        heat = scores[..., values["cls"]]
        i, j = np.unravel_index(heat.argmax(), heat.shape)
        html = (f"<p>digit #{values['index']} (label {int(labels[values['index']])}) at (top, left) = "
                f"({values['top']}, {values['left']}); score map {heat.shape[0]}×{heat.shape[1]}, stride {stride}. "
                f"Class {values['cls']} scores highest, <b class='fcn-best-score'>{heat.max():.3f}</b>, at cell "
                f"<b class='fcn-best-cell'>({i}, {j})</b>, which sees pixels "
                f"rows {i * stride}–{i * stride + field - 1}, columns {j * stride}–{j * stride + field - 1}; "
                f"the cell's winning class there: <b class='fcn-cell-class'>{int(scores[i, j].argmax())}</b>.</p>")
        fig, left = _canvas_and_map(image, heat, "magma", ("canvas (red: best cell's window)",
                                                            f"P(class {values['cls']}) per cell"), height=3.0)
        left.add_patch(plt.Rectangle((j * stride - 0.5, i * stride - 0.5), field, field, fill=False,
                                     color="tab:red"))
        fig.tight_layout()
        return View(html, fig)

    return explorer(controls, render, readout_class="fcn-readout")
