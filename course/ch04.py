"""Chapter 4 helpers: Keras ground truth for pooling vs strided convolution, and the shift widget.

Everything that *computes* a pooled output here goes through Keras itself
(``keras.layers.MaxPooling2D``, ``Conv2D``, ...): these are the references your
own numpy functions are checked against.  Nothing here implements the
chapter's exercises.

Conventions: images and feature maps are ``float32`` batches of shape
``(N, H, W, C)`` (channels last, as Keras uses them); a *shift* ``(dy, dx)``
moves the content ``dy`` pixels down and ``dx`` pixels right, filling the
uncovered border with zeros.

The invariance metric of the chapter (:func:`unchanged_stats`): for a layer
``f`` with a ``k x k`` window and stride ``s`` (``"valid"`` padding), compare
``f(x)`` and ``f(x_moved)`` **at the same output position**.  Only the
*active* positions count: those whose window sees at least one non-zero input
pixel in ``x`` or in ``x_moved`` (on blank background every layer trivially
keeps its value).  A value is *unchanged* when it moved by at most ``atol``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import numpy as np

from course.widgets import View, explorer, shift_images

DIGIT_INDEX = 0
"""The widget's digit: ``x_test[DIGIT_INDEX]`` of MNIST (a 7), scaled to [0, 1]."""

PATTERNS = ("digit", "vertical bar", "stripes", "noise")
"""The widget's input patterns (all 28x28, one channel)."""


# --------------------------------------------------------------------------- data


def mnist_digits(n: int = 1000, split: str = "test") -> np.ndarray:
    """The first ``n`` MNIST images of ``split`` as float32 ``(n, 28, 28, 1)`` in [0, 1] (pixel / 255)."""
    from course.data import load_mnist

    (x_train, _), (x_test, _) = load_mnist()
    images = x_test if split == "test" else x_train
    return (images[:n].astype(np.float32) / 255.0)[..., None]


def _affine(x: np.ndarray, matrix: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Nearest-neighbour warp of an NHWC batch about the image centre: input = matrix @ output + offset."""
    import keras

    n = x.shape[0]
    # Keras maps output (col, row) to input (a0 col + a1 row + a2, b0 col + b1 row + b2).
    a0, a1, b0, b1 = matrix[1, 1], matrix[1, 0], matrix[0, 1], matrix[0, 0]
    transform = np.tile(np.array([a0, a1, offset[1], b0, b1, offset[0], 0, 0], np.float32), (n, 1))
    return np.asarray(keras.ops.image.affine_transform(
        x, transform, interpolation="nearest", fill_mode="constant", data_format="channels_last"))


def rotate_images(x: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate every image of an NHWC batch by ``degrees`` about its centre (nearest neighbour, zero fill).

    Nearest-neighbour sampling moves pixels without blending them, like a shift does.
    """
    x = np.asarray(x)
    a = np.deg2rad(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])  # (y, x) order
    centre = np.array([(x.shape[1] - 1) / 2, (x.shape[2] - 1) / 2])
    return _affine(x, rot, centre - rot @ centre)


def scale_images(x: np.ndarray, factor: float) -> np.ndarray:
    """Enlarge every image of an NHWC batch by ``factor`` about its centre (nearest neighbour, zero fill)."""
    x = np.asarray(x)
    inv = np.eye(2) / factor
    centre = np.array([(x.shape[1] - 1) / 2, (x.shape[2] - 1) / 2])
    return _affine(x, inv, centre - inv @ centre)


def pattern(name: str, size: int = 28) -> np.ndarray:
    """One of :data:`PATTERNS` as a float32 ``(size, size)`` image in [0, 1].

    ``"vertical bar"``: ones in rows 4..23 and columns 12..15; ``"stripes"``:
    vertical stripes two pixels wide every four pixels (columns 2, 3, 6, 7, ...);
    ``"noise"``: uniform noise (seed 0); ``"digit"``: MNIST ``x_test[DIGIT_INDEX]``.
    """
    img = np.zeros((size, size), np.float32)
    if name == "digit":
        return mnist_digits(DIGIT_INDEX + 1)[DIGIT_INDEX, :, :, 0]
    if name == "vertical bar":
        img[4:24, 12:16] = 1.0
    elif name == "stripes":
        img[:, [c for c in range(size) if c % 4 in (2, 3)]] = 1.0
    elif name == "noise":
        img = np.random.default_rng(0).random((size, size), dtype=np.float32)
    else:
        raise ValueError(f"unknown pattern {name!r}; choose one of {PATTERNS}")
    return img


# --------------------------------------------------------------------------- Keras layers


def strided_conv(in_channels: int, filters: int, kernel_size: int, strides: int,
                 padding: str = "valid", seed: int = 0):
    """A built ``keras.layers.Conv2D`` with seeded random weights and biases (an untrained layer)."""
    import keras

    layer = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        bias_initializer=keras.initializers.RandomUniform(-0.1, 0.1, seed=seed + 1))
    layer.build((None, None, None, in_channels))
    return layer


def anti_aliased_max_pool(channels: int):
    """Max pooling made shift-friendlier as in Zhang (2019), "Making CNNs shift-invariant again".

    ``MaxPooling2D(2, strides=1)`` (dense max), then a fixed 3x3 binomial blur
    (``[1, 2, 1]`` outer ``[1, 2, 1]`` / 16) applied per channel with stride 2.
    The blur removes the high frequencies that subsampling would alias.
    """
    import keras

    blur = np.outer([1, 2, 1], [1, 2, 1]).astype(np.float32) / 16
    pool = keras.layers.MaxPooling2D(2, strides=1, padding="same")
    depthwise = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False,
                                             trainable=False)
    model = keras.Sequential([keras.Input((None, None, channels)), pool, depthwise])
    depthwise.set_weights([np.repeat(blur[:, :, None, None], channels, axis=2)])
    return model


def ink_mask(x: np.ndarray, x_moved: np.ndarray, pool_size: int, strides: int) -> np.ndarray:
    """Active output positions, shape ``(N, H', W', 1)``: the window sees a non-zero pixel in either input.

    Computed with ``keras.layers.MaxPooling2D`` (``"valid"`` padding) on ``|x|``.
    """
    import keras

    pool = keras.layers.MaxPooling2D(pool_size, strides=strides)
    seen = [np.asarray(pool(np.abs(np.asarray(v, np.float32)))).max(axis=-1, keepdims=True) > 0
            for v in (x, x_moved)]
    return seen[0] | seen[1]


def unchanged_stats(layer: Callable, x: np.ndarray, x_moved: np.ndarray, pool_size: int,
                    strides: int, atol: float = 1e-6) -> dict:
    """How many active outputs of ``layer`` keep their value (within ``atol``) when ``x`` becomes ``x_moved``.

    ``layer`` must use a ``pool_size`` window with stride ``strides`` and
    ``"valid"`` padding (a pooling layer or a ``Conv2D``), so that output
    positions match the windows of :func:`ink_mask`.  Returns
    ``{"unchanged": int, "active": int, "fraction": float}``, counting every
    channel of every active position.
    """
    y = np.asarray(layer(np.asarray(x, np.float32)))
    y_moved = np.asarray(layer(np.asarray(x_moved, np.float32)))
    mask = np.broadcast_to(ink_mask(x, x_moved, pool_size, strides), y.shape)
    same = np.abs(y_moved - y) <= atol
    active = int(mask.sum())
    unchanged = int(same[mask].sum())
    return {"unchanged": unchanged, "active": active,
            "fraction": unchanged / active if active else float("nan")}


def relative_change(layer: Callable, x: np.ndarray, x_moved: np.ndarray) -> float:
    """``||layer(x_moved) - layer(x)|| / ||layer(x)||`` over the whole batch (Frobenius norms)."""
    y = np.asarray(layer(np.asarray(x, np.float32)))
    y_moved = np.asarray(layer(np.asarray(x_moved, np.float32)))
    return float(np.linalg.norm(y_moved - y) / np.linalg.norm(y))


# --------------------------------------------------------------------------- costs


@contextlib.contextmanager
def _tf_logging_quiet():
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def tf_profiler_flops(layer, input_shape) -> dict:
    """FLOPs of one call of ``layer`` on a batch of shape ``(1, *input_shape)``, per the TensorFlow profiler.

    TensorFlow's conventions: a ``Conv2D`` costs 2 FLOPs per multiply-accumulate
    (``2 * H' * W' * F * k * k * C``), its bias add 1 FLOP per output value; a
    pooling op costs ``k * k`` per output value.  Returns
    ``{"total": int, "ops": {op name: flops}}``.  TensorFlow backend only.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("tf_profiler_flops needs KERAS_BACKEND=tensorflow")
    import tensorflow as tf
    from tensorflow.python.profiler import model_analyzer, option_builder

    @tf.function
    def call(inputs):
        return layer(inputs)

    graph = call.get_concrete_function(tf.TensorSpec((1, *input_shape), tf.float32)).graph
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    with _tf_logging_quiet():
        report = model_analyzer.profile(graph, options=options)
    ops = {child.name.split("/", 1)[-1]: int(child.float_ops) for child in report.children}
    return {"total": int(report.total_float_ops), "ops": ops}


def time_layer(layer, x: np.ndarray, repeats: int = 7) -> float:
    """Best-of-``repeats`` wall-clock seconds of ``layer(x)`` (after one warm-up call)."""
    np.asarray(layer(x))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(layer(x))
        best = min(best, time.perf_counter() - start)
    return best


def _walk(layer):
    for sub in getattr(layer, "layers", []):
        yield sub
        yield from _walk(sub)


def downsampling_census(model) -> dict:
    """How a Keras model downsamples: its pooling layers and its convolutions with a stride > 1.

    Nested models are searched too; global pooling layers are not counted.  Returns
    ``{"max_pooling": n, "average_pooling": n, "strided_conv": n, "max_pool_windows":
    [(pool_size, strides), ...]}``.
    """
    import keras

    convs = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)
    counts = {"max_pooling": 0, "average_pooling": 0, "strided_conv": 0, "max_pool_windows": []}
    for layer in _walk(model):
        if isinstance(layer, keras.layers.MaxPooling2D):
            counts["max_pooling"] += 1
            counts["max_pool_windows"].append((tuple(layer.pool_size), tuple(layer.strides)))
        elif isinstance(layer, keras.layers.AveragePooling2D):
            counts["average_pooling"] += 1
        elif isinstance(layer, convs) and max(layer.strides) > 1:
            counts["strided_conv"] += 1
    return counts


# --------------------------------------------------------------------------- widget


def _check_student(func: Callable, image: np.ndarray, size: int, stride: int, reference) -> str:
    try:
        got = np.asarray(func(image, size, stride, "valid"))
    except NotImplementedError:
        return "not implemented yet"
    except Exception as exc:  # noqa: BLE001 - student function, report anything
        return f"raised {type(exc).__name__}: {exc}"
    if got.shape != reference.shape:
        return f"returned shape {got.shape}, Keras gives {reference.shape}"
    if np.allclose(got, reference, rtol=1e-5, atol=1e-6):
        return "matches keras.layers.MaxPooling2D on this input"
    return f"differs from Keras (largest difference {np.abs(got - reference).max():.3g})"


def shift_explorer(max_pool2d: Callable | None = None):
    """Slide a pattern with two sliders; watch max pooling and a strided convolution react.

    Both layers use the same window and stride (``"valid"`` padding); the conv
    has one filter with seeded random weights.  The readout counts, for each
    layer, the active outputs (window sees ink in the original or the moved
    input) whose value did not change, as in :func:`unchanged_stats`.  Changed
    outputs are outlined in red.  Pass your own ``max_pool2d`` to have it
    compared with Keras on the current input.  Returns the top-level widget.
    """
    import ipywidgets as w
    import keras
    import matplotlib.pyplot as plt

    style = {"description_width": "70px"}
    controls = {
        "pattern": w.Dropdown(options=list(PATTERNS), value="digit", description="Pattern", style=style),
        "dx": w.IntSlider(0, min=-4, max=4, description="Shift x", style=style),
        "dy": w.IntSlider(0, min=-4, max=4, description="Shift y", style=style),
        "window": w.IntSlider(2, min=2, max=4, description="Window", style=style),
        "stride": w.IntSlider(2, min=1, max=4, description="Stride", style=style),
    }
    images: dict[str, np.ndarray] = {}

    def render(values: dict) -> View:
        name = values["pattern"]
        if name not in images:
            images[name] = pattern(name)
        x = images[name][None, :, :, None]
        dx, dy = values["dx"], values["dy"]
        k, s = values["window"], values["stride"]
        moved = shift_images(x, dy, dx)
        pool = keras.layers.MaxPooling2D(k, strides=s)
        conv = strided_conv(1, 1, k, s, seed=4)
        stats, maps = {}, {}
        for label, layer in (("pool", pool), ("conv", conv)):
            stats[label] = unchanged_stats(layer, x, moved, k, s)
            maps[label] = (np.asarray(layer(x))[0, :, :, 0], np.asarray(layer(moved))[0, :, :, 0])
        active = ink_mask(x, moved, k, s)[0, :, :, 0]

        def line(label, key):
            st = stats[key]
            pct = f"{100 * st['fraction']:.1f}%" if st["active"] else "n/a"
            return (f"<tr><td>{label}</td><td class='cnn-{key}-unchanged'>{st['unchanged']} of "
                    f"{st['active']}</td><td class='cnn-{key}-fraction'>{pct}</td></tr>")

        html = (f"<p>Shift ({dy:+d} down, {dx:+d} right); window {k}x{k}, stride {s}: active outputs "
                "(window sees ink before or after the shift) whose value did not change</p>"
                "<table><tr><th>layer</th><th>unchanged</th><th>fraction</th></tr>"
                + line("MaxPooling2D (0 parameters)", "pool")
                + line(f"Conv2D, 1 filter ({k * k + 1} parameters)", "conv") + "</table>")
        if max_pool2d is not None:
            verdict = _check_student(max_pool2d, moved, k, s, np.asarray(pool(moved)))
            html += f"<p>Your <code>max_pool2d</code>: <span class='cnn-student-check'>{verdict}</span></p>"

        fig, axes = plt.subplots(2, 3, figsize=(9, 6))
        axes[0, 0].imshow(x[0, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[0, 0].set_title("input")
        axes[1, 0].imshow(moved[0, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[1, 0].set_title(f"moved ({dy:+d}, {dx:+d})")
        for col, (key, title) in enumerate((("pool", "max pool"), ("conv", "strided conv")), 1):
            before, after = maps[key]
            lo, hi = min(before.min(), after.min()), max(before.max(), after.max())
            axes[0, col].imshow(before, cmap="viridis", vmin=lo, vmax=hi)
            axes[0, col].set_title(f"{title} of input")
            axes[1, col].imshow(after, cmap="viridis", vmin=lo, vmax=hi)
            axes[1, col].set_title(f"{title} of moved")
            changed = (np.abs(after - before) > 1e-6) & active
            for i, j in zip(*np.nonzero(changed)):
                axes[1, col].add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False,
                                                     edgecolor="red", linewidth=1))
        for ax in axes.ravel():
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle(f"window {k}x{k}, stride {s}; red squares: active outputs whose value changed")
        fig.tight_layout()
        return View(html, fig)

    return explorer(controls, render, arrange="side", readout_class="cnn-shift-readout")


