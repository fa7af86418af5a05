"""What every chapter's widget shares: a pure ``render(values)`` behind ipywidgets controls.

A chapter widget is a set of named controls and a function ``render(values)``
that turns the controls' values (``{name: value}``) into a :class:`View`: the
HTML readout and, optionally, a Matplotlib figure.  :func:`explorer` wires
them: it observes every control, calls ``render`` with the current values,
shows the readout and the figure (closing it, so figures do not pile up) and
lays the controls out beside (or above) the output.  Because ``render`` reads
nothing but its argument, a test can call ``widget.render({...})`` and check
the readout without a browser; the browser tests check the wiring.

Also here: :func:`fmt_bytes` and :func:`shift_images`, used by several
chapters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["View", "explorer", "fmt_bytes", "shift_images", "show_figure"]


@dataclass
class View:
    """What a widget shows for one set of control values."""

    html: str
    figure: Any = None
    """A Matplotlib figure, or ``None`` to leave the plot area empty."""


def show_figure(output, figure) -> None:
    """Replace what ``output`` (an ``ipywidgets.Output``) shows by ``figure``, then close it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    with output:
        output.clear_output(wait=True)
        if figure is not None:
            display(figure)
            plt.close(figure)


def explorer(controls: Mapping[str, Any], render: Callable[[dict[str, Any]], View], *,
             arrange: str = "side", readout_class: str | None = None):
    """The widget: ``controls`` (name -> ipywidget) driving ``render(values) -> View``.

    ``arrange="side"`` puts the controls in a column left of the output,
    ``"top"`` in a row above it.  ``readout_class`` is a CSS class given to the
    HTML readout.  The returned box has ``.render`` (the pure function) and
    ``.values()`` (the controls' current values).
    """
    import ipywidgets as w

    readout = w.HTML()
    if readout_class:
        readout.add_class(readout_class)
    plot = w.Output()

    def values() -> dict[str, Any]:
        return {name: control.value for name, control in controls.items()}

    def update(_change=None) -> None:
        view = render(values())
        readout.value = view.html
        show_figure(plot, view.figure)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    if arrange == "top":
        box = w.VBox([w.HBox(list(controls.values())), readout, plot])
    elif arrange == "side":
        box = w.HBox([w.VBox(list(controls.values())), w.VBox([readout, plot])])
    else:
        raise ValueError(f"arrange must be 'side' or 'top', not {arrange!r}")
    box.render, box.values = render, values
    return box


def fmt_bytes(n: float) -> str:
    """``4_223_000_000`` -> ``'4.22 GB'`` (1 kB = 1000 bytes)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.2f} {unit}"
        n /= 1000
    return f"{n:.2f} TB"


def shift_images(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move image content ``dy`` pixels down and ``dx`` pixels right, filling with zeros.

    Works on one image ``(H, W)`` or ``(H, W, C)`` and on a batch ``(N, H, W, C)``
    (the spatial axes are the two before the channel axis).  Content pushed
    past the border is lost; it does not wrap around.
    """
    images = np.asarray(images)
    ay, ax = (0, 1) if images.ndim == 2 else (images.ndim - 3, images.ndim - 2)
    h, w = images.shape[ay], images.shape[ax]
    out = np.zeros_like(images)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    dst = [slice(None)] * images.ndim
    src = [slice(None)] * images.ndim
    dst[ay], src[ay] = slice(max(dy, 0), h + min(dy, 0)), slice(max(-dy, 0), h + min(-dy, 0))
    dst[ax], src[ax] = slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w + min(-dx, 0))
    out[tuple(dst)] = images[tuple(src)]
    return out
