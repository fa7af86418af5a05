"""Chapter 8 helpers: colour masks, show canvases, predict label maps, explore predictions.

The metrics, the transposed convolution, the boundary band and the
segmentation network are the student's exercises, so none of them lives
here; :func:`segmentation_explorer` takes the student's own per-class IoU
function as an argument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from matplotlib import colormaps

from course.canvases import CLASS_NAMES, N_CLASSES
from course.widgets import View, explorer

__all__ = ["BUDGET", "CLASS_COLORS", "colorize", "predict_masks", "segmentation_explorer", "show_canvases",
           "to_input"]

CLASS_COLORS = np.vstack([[0.0, 0.0, 0.0], colormaps["tab10"](range(10))[:, :3]])
"""RGB colour of each class: black background, then matplotlib's ``tab10`` for digits 0-9."""


def to_input(canvases: np.ndarray) -> np.ndarray:
    """uint8 canvases ``(N, H, W)`` -> float32 ``(N, H, W, 1)`` in [0, 1], as the grader feeds them."""
    return (np.asarray(canvases, dtype=np.float32) / 255.0)[..., None]


def predict_masks(model, canvases: np.ndarray, batch_size: int = 250) -> np.ndarray:
    """Label map ``(N, H, W)`` (argmax over the class axis) of ``model`` on uint8 ``canvases``."""
    scores = model.predict(to_input(canvases), batch_size=batch_size, verbose=0)
    return np.asarray(scores).argmax(axis=-1).astype(np.uint8)


def colorize(mask: np.ndarray, canvas: np.ndarray | None = None, alpha: float = 0.6) -> np.ndarray:
    """RGB image of a label map; over ``canvas`` (uint8 grey) when given, with opacity ``alpha``."""
    rgb = CLASS_COLORS[np.asarray(mask)]
    if canvas is None:
        return rgb
    grey = np.repeat((np.asarray(canvas, dtype=float) / 255.0)[..., None], 3, axis=-1)
    labelled = (np.asarray(mask) > 0)[..., None]
    return np.where(labelled, (1 - alpha) * grey + alpha * rgb, grey)


def _legend(ax) -> None:
    import matplotlib.patches as mpatches

    handles = [mpatches.Patch(color=CLASS_COLORS[k], label=str(k - 1)) for k in range(1, N_CLASSES)]
    ax.legend(handles=handles, title="digit", fontsize=6, title_fontsize=7, loc="center left",
              bbox_to_anchor=(1.02, 0.5), frameon=False)


def show_canvases(canvases: np.ndarray, masks: Mapping[str, np.ndarray], n: int = 6):
    """Plot the first ``n`` canvases (top row) and, below, each named stack of label maps."""
    import matplotlib.pyplot as plt

    rows = 1 + len(masks)
    fig, axes = plt.subplots(rows, n, figsize=(1.3 * n + 0.8, 1.35 * rows), squeeze=False)
    for j in range(n):
        axes[0, j].imshow(canvases[j], cmap="gray", vmin=0, vmax=255)
        for i, stack in enumerate(masks.values(), start=1):
            axes[i, j].imshow(colorize(stack[j]))
    for i, name in enumerate(["input", *masks]):
        axes[i, 0].set_title(name, fontsize=8, loc="left")
    for ax in axes.ravel():
        ax.axis("off")
    _legend(axes[0, -1])
    fig.tight_layout()
    plt.show()


def segmentation_explorer(canvases: np.ndarray, truth: np.ndarray, predictions: Mapping[str, np.ndarray],
                          iou: Callable[[np.ndarray, np.ndarray, int], np.ndarray]):
    """Pick a canvas: input, ground truth and each model's prediction side by side, with per-class IoU.

    ``predictions``: model name -> label maps ``(N, H, W)`` for ``canvases``;
    ``iou(pred, truth, n_classes)``: the per-class IoU function (your Exercise 1:
    ``nan`` for a class absent from both).  The overlay toggle draws the labels
    over the input instead of on black.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    names = list(predictions)

    def render(values: dict) -> View:
        k, overlay = values["canvas"], values["overlay"]
        panels = {"ground truth": truth[k], **{name: predictions[name][k] for name in names}}
        present = sorted(set(np.unique(truth[k])) | {c for p in predictions.values() for c in np.unique(p[k])})
        scores = {name: np.asarray(iou(predictions[name][k], truth[k], N_CLASSES)) for name in names}
        head = "".join(f"<th>{name}</th>" for name in names)
        rows = "".join(
            f"<tr><td>{CLASS_NAMES[c]}</td>"
            + "".join(f"<td>{'-' if np.isnan(scores[n][c]) else f'{scores[n][c]:.2f}'}</td>" for n in names)
            + "</tr>" for c in present)
        means = "".join(f"<td><b class='seg-miou'>{np.nanmean(scores[n]):.3f}</b></td>" for n in names)
        html = (f"<p>canvas <b class='seg-canvas'>{k}</b>: IoU per class on this canvas "
                f"(- : class in neither map)</p><table><tr><th>class</th>{head}</tr>{rows}"
                f"<tr><td><b>mean IoU</b></td>{means}</tr></table>")
        fig, axes = plt.subplots(1, 2 + len(names), figsize=(2.2 * (2 + len(names)) + 0.6, 2.4))
        axes[0].imshow(canvases[k], cmap="gray", vmin=0, vmax=255)
        axes[0].set_title("input", fontsize=8)
        for ax, (title, mask) in zip(axes[1:], panels.items(), strict=True):
            ax.imshow(colorize(mask, canvases[k] if overlay else None))
            ax.set_title(title, fontsize=8)
        for ax in axes:
            ax.axis("off")
        _legend(axes[-1])
        fig.tight_layout()
        return View(html, fig)

    controls = {"canvas": w.IntSlider(0, min=0, max=len(canvases) - 1, description="Canvas",
                                      continuous_update=False),
                "overlay": w.Checkbox(False, description="Overlay on input")}
    return explorer(controls, render, readout_class="seg-readout")

BUDGET = {
    "cpu": {"n_train": 4_000, "n_val": 1_000, "epochs": 4, "batch_size": 16},
    "gpu": {"n_train": 20_000, "n_val": 2_000, "epochs": 12, "batch_size": 32},
    "smoke": {"n_train": 160, "n_val": 40, "epochs": 1, "batch_size": 16},
}
"""Canvases and epochs per profile; every model of the chapter trains on this same budget.
``smoke`` only checks that the notebook runs end to end, in seconds."""
