"""Chapter 5 helpers: an oriented-edge conv layer, plots, and the lateral-inhibition widget.

Every local response normalization (LRN) computed here is TensorFlow's own
``tf.nn.local_response_normalization``: the ground truth your exercises are
checked against.  Nothing here implements LRN for you.

* :func:`edge_detector` builds a ``keras.layers.Conv2D`` whose filters are
  oriented edge detectors, ordered by angle, so that *neighbouring channels
  detect neighbouring orientations* (as in the orientation columns of the
  visual cortex, the biology that inspired LRN).
* :func:`plot_feature_maps` shows feature maps before and after LRN.
* :func:`normalization_layers` counts the normalization layers of a Keras model.
* :func:`inhibition_widget` is the interactive demo: one strong channel at one
  pixel, and what LRN does to its neighbours.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from course.widgets import View, explorer

ALEXNET_LRN = {"depth_radius": 2, "bias": 2.0, "alpha": 1e-4, "beta": 0.75}
"""AlexNet's hyperparameters (k=2, n=5, alpha=1e-4, beta=0.75) as arguments of
``tf.nn.local_response_normalization`` (whose formula, like the paper's, does
not divide alpha by n)."""

PIXEL_ACTIVATIONS = (0.62, 0.91, 0.55, 0.78, 0.84, 0.6, 0.95, 6.0,
                     0.8, 0.7, 0.93, 0.58, 0.88, 0.66, 0.75, 0.81)
"""The widget's 16 channel activations at one pixel (after ReLU); channel
:data:`STRONG_CHANNEL` is the strong one (its value is set by a slider)."""

STRONG_CHANNEL = 7
"""Index of the strongly activated channel in the widget."""

NEIGHBOUR_CHANNEL = 8
"""The widget reports this channel (the strong channel's right-hand neighbour)."""

FAR_CHANNEL = 15
"""The widget also reports this channel, 8 channels away from the strong one."""


def edge_kernels(n_orientations: int = 8, size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """Oriented first-derivative-of-Gaussian kernels, shape ``(size, size, 1, n)``.

    Kernel ``k`` responds to an intensity increase in the direction
    ``360 * k / n`` degrees (0 = to the right, 90 = upwards); each kernel's
    positive weights sum to 1, so a step edge from 0 to ``v`` facing the
    kernel's direction gives a response of about ``v``.
    """
    offsets = np.arange(size) - size // 2
    yy, xx = np.meshgrid(offsets, offsets, indexing="ij")
    gauss = np.exp(-(xx ** 2 + yy ** 2) / (2 * sigma ** 2))
    kernels = []
    for k in range(n_orientations):
        theta = 2 * np.pi * k / n_orientations
        kernel = (xx * np.cos(theta) - yy * np.sin(theta)) * gauss  # image rows grow downwards
        kernels.append(kernel / kernel[kernel > 0].sum())
    return np.stack(kernels, axis=-1)[:, :, None, :].astype(np.float32)


def edge_detector(n_orientations: int = 8, size: int = 5):
    """A ``Conv2D`` (ReLU, ``"same"`` padding, no bias) set to :func:`edge_kernels`."""
    import keras

    layer = keras.layers.Conv2D(n_orientations, size, padding="same", activation="relu",
                                use_bias=False, name="edges")
    layer.build((None, None, None, 1))
    layer.set_weights([edge_kernels(n_orientations, size)])
    return layer


def orientation_labels(n_orientations: int = 8) -> list[str]:
    """Direction (degrees) each channel of :func:`edge_detector` responds to."""
    return [f"{360 * k / n_orientations:g}°" for k in range(n_orientations)]


def plot_feature_maps(image: np.ndarray, before: np.ndarray, after: np.ndarray,
                      labels: Sequence[str] | None = None, title: str = ""):
    """The image, then every channel before (top row) and after LRN (bottom row).

    ``before`` and ``after`` have shape ``(H, W, C)``; each row shares one
    colour scale so that brightness compares across channels.
    """
    import matplotlib.pyplot as plt

    channels = before.shape[-1]
    labels = list(labels) if labels is not None else [f"ch {c}" for c in range(channels)]
    fig, axes = plt.subplots(2, channels + 1, figsize=(1.45 * (channels + 1), 3.2))
    axes[0, 0].imshow(np.squeeze(image), cmap="gray_r")
    axes[0, 0].set_title("input", fontsize=8)
    axes[1, 0].axis("off")
    for row, maps, name in ((0, before, "before"), (1, after, "after LRN")):
        vmax = float(maps.max()) or 1.0
        for c in range(channels):
            axes[row, c + 1].imshow(maps[..., c], cmap="viridis", vmin=0, vmax=vmax)
            if row == 0:
                axes[row, c + 1].set_title(labels[c], fontsize=8)
        axes[row, 1].set_ylabel(name, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def normalization_layers(model) -> dict[str, int]:
    """How many layers of each ``...Normalization`` class a Keras model holds (nested too)."""
    counts: dict[str, int] = {}

    def visit(layers):
        for layer in layers:
            name = type(layer).__name__
            if "Normalization" in name:
                counts[name] = counts.get(name, 0) + 1
            visit(getattr(layer, "layers", []))

    visit(model.layers)
    return counts


def _tf_lrn(x, depth_radius: int, bias: float, alpha: float, beta: float) -> np.ndarray:
    """``tf.nn.local_response_normalization`` on a numpy array (float32), as numpy."""
    import tensorflow as tf

    return tf.nn.local_response_normalization(np.asarray(x, dtype=np.float32), depth_radius=depth_radius,
                                              bias=bias, alpha=alpha, beta=beta).numpy()


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def inhibition_widget(your_lrn: Callable | None = None):
    """Sliders for LRN's radius, bias, alpha and beta, and the strong channel's activation.

    Shows the 16 channel activations at one pixel before and after
    ``tf.nn.local_response_normalization`` and reports, for the strong
    channel's neighbour and for a far channel, the output and the *gain*
    (output / input).  Pass your own ``lrn`` to see it next to TensorFlow's.
    Returns the top-level widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    style = {"description_width": "70px"}
    layout = w.Layout(width="330px")
    controls = {
        "depth_radius": w.IntSlider(2, min=0, max=8, description="Radius", style=style,
                                    continuous_update=False, layout=layout),
        "bias": w.FloatSlider(1.0, min=0.1, max=5.0, step=0.1, description="Bias", style=style,
                              continuous_update=False, layout=layout),
        "alpha": w.FloatLogSlider(0.1, base=10, min=-4, max=1, step=0.1, description="Alpha",
                                  style=style, continuous_update=False, readout_format=".3g",
                                  layout=layout),
        "beta": w.FloatSlider(0.75, min=0.0, max=1.5, step=0.05, description="Beta", style=style,
                              continuous_update=False, layout=layout),
        "strong": w.FloatSlider(PIXEL_ACTIVATIONS[STRONG_CHANNEL], min=0.0, max=20.0, step=0.5,
                                description="Strong", style=style, continuous_update=False,
                                layout=layout),
    }

    def render(values: dict) -> View:
        params = {k: values[k] for k in ("depth_radius", "bias", "alpha", "beta")}
        before = np.array(PIXEL_ACTIVATIONS, dtype=np.float32)
        before[STRONG_CHANNEL] = values["strong"]
        after = _tf_lrn(before.reshape(1, 1, 1, -1), **params).reshape(-1)
        gain = {c: after[c] / before[c] for c in (NEIGHBOUR_CHANNEL, FAR_CHANNEL)}  # both non-zero
        r = params["depth_radius"]
        lo, hi = max(0, STRONG_CHANNEL - r), min(len(before) - 1, STRONG_CHANNEL + r)
        extra = ""
        mine = None
        if your_lrn is not None:
            try:
                mine = np.asarray(your_lrn(before.reshape(1, 1, 1, -1), **params),
                                  dtype=np.float64).reshape(-1)
                diff = float(np.max(np.abs(mine - after)))
                extra = (f"<p>your <code>lrn</code>: largest difference from TensorFlow "
                         f"<b class='lrn-yours-diff'>{diff:.3g}</b></p>")
            except NotImplementedError:
                extra = "<p>your <code>lrn</code>: not implemented yet</p>"
            except Exception as exc:  # noqa: BLE001 - student function, report anything
                extra = f"<p>your <code>lrn</code> raised {type(exc).__name__}: {exc}</p>"
                mine = None
        html = (
            f"<p>Channels {lo}–{hi} share the strong channel {STRONG_CHANNEL}'s window "
            f"(they are within {r} channel(s) of it).</p>"
            f"<p>neighbour channel {NEIGHBOUR_CHANNEL}: {_fmt(before[NEIGHBOUR_CHANNEL])} → "
            f"<b class='lrn-neighbour-out'>{_fmt(after[NEIGHBOUR_CHANNEL])}</b> "
            f"(gain <span class='lrn-neighbour-gain'>{_fmt(gain[NEIGHBOUR_CHANNEL])}</span>)<br>"
            f"far channel {FAR_CHANNEL}: {_fmt(before[FAR_CHANNEL])} → "
            f"<b class='lrn-far-out'>{_fmt(after[FAR_CHANNEL])}</b> "
            f"(gain <span class='lrn-far-gain'>{_fmt(gain[FAR_CHANNEL])}</span>)<br>"
            f"strong channel {STRONG_CHANNEL}: {_fmt(before[STRONG_CHANNEL])} → "
            f"<b class='lrn-strong-out'>{_fmt(after[STRONG_CHANNEL])}</b></p>" + extra)
        fig, ax = plt.subplots(figsize=(7.5, 3.0))
        idx = np.arange(len(before))
        width = 0.4 if mine is None else 0.28
        ax.axvspan(lo - 0.5, hi + 0.5, color="orange", alpha=0.15, label="strong channel's window")
        ax.bar(idx - width / 2 if mine is None else idx - width, before, width, color="0.6",
               label="before LRN")
        ax.bar(idx + width / 2 if mine is None else idx, after, width, color="tab:blue",
               label="after LRN (TensorFlow)")
        if mine is not None:
            ax.bar(idx + width, mine, width, color="tab:green", label="your lrn")
        ax.set_yscale("symlog", linthresh=1.0)  # linear below 1, logarithmic above
        ticks = [t for t in (0, 0.25, 0.5, 0.75, 1, 2, 5, 10, 20) if t <= max(1.0, before.max())]
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xticks(idx)
        ax.set_xlabel("channel")
        ax.set_ylabel("activation at one pixel")
        ax.legend(fontsize=8, loc="upper right")
        fig.tight_layout()
        return View(html, fig)

    return explorer(controls, render, arrange="side", readout_class="lrn-readout")


