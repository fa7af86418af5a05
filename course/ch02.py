"""Chapter 2 helpers: Keras ground truth for conv stacks, and the calculator widget.

A *layer spec* is a dict with the keyword names of ``keras.layers.Conv2D``:
``{"filters": 100, "kernel_size": 3, "strides": 2, "padding": "same"}``
(``kernel_size`` and ``strides`` are ints: square kernels and equal strides).
An *input shape* is ``(height, width, channels)``.

Nothing here computes the chapter's exercises for you: shapes and parameter
counts come from Keras itself (build the model, read ``output.shape`` and
``count_params()``), which is exactly what your own functions are checked
against.  The RAM totals in the calculator appear only when you pass in
your own functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from course.widgets import View, explorer, fmt_bytes

DTYPE_BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2}

QUESTION_INPUT = (200, 300, 3)
"""The question's input: 200x300 RGB images."""

QUESTION_LAYERS = [
    {"filters": 100, "kernel_size": 3, "strides": 2, "padding": "same"},
    {"filters": 200, "kernel_size": 3, "strides": 2, "padding": "same"},
    {"filters": 400, "kernel_size": 3, "strides": 2, "padding": "same"},
]
"""The question's three convolutional layers."""

VARIANT_INPUT = (400, 600, 3)
"""Exercise 7's follow-up question: the same design on 400x600 RGB images."""

VARIANT_LAYERS = [
    {"filters": 64, "kernel_size": 3, "strides": 2, "padding": "same"},
    {"filters": 128, "kernel_size": 3, "strides": 2, "padding": "same"},
    {"filters": 256, "kernel_size": 3, "strides": 2, "padding": "same"},
]
"""The follow-up's three 3x3 stride-2 ``"same"`` layers: 64, 128 and 256 filters."""

VARIANT_DTYPE = "float16"
"""The follow-up stores and trains in 16-bit floats.  Its answers are printed nowhere in the chapter."""


def build_conv_stack(input_shape: Sequence[int], layers: Sequence[dict], dtype: str = "float32"):
    """Build a ``keras.Sequential`` of ``Conv2D`` layers from layer specs."""
    import keras

    model = keras.Sequential([keras.Input(shape=tuple(input_shape), dtype=dtype)])
    for i, spec in enumerate(layers):
        model.add(keras.layers.Conv2D(name=f"conv{i + 1}", dtype=dtype, **spec))
    return model


def keras_layer_facts(input_shape: Sequence[int], layers: Sequence[dict]) -> list[dict]:
    """Per layer, what Keras reports: ``output_shape`` (H, W, C) and ``params``."""
    model = build_conv_stack(input_shape, layers)
    return [{"name": layer.name, "output_shape": tuple(int(d) for d in layer.output.shape[1:]),
             "params": int(layer.count_params())} for layer in model.layers]


def _parse_filters(text: str, n_layers: int) -> list[int]:
    """``"100, 200"`` -> ``[100, 200, 400, ...]`` (doubling to ``n_layers``)."""
    values = [int(v) for v in text.replace(";", ",").split(",") if v.strip()]
    if not values or any(v <= 0 for v in values):
        raise ValueError("filters must be positive integers, e.g. 100, 200, 400")
    while len(values) < n_layers:
        values.append(values[-1] * 2)
    return values[:n_layers]


def calculator(inference_ram_bytes: Callable | None = None,
               training_ram_bytes: Callable | None = None):
    """An ipywidgets calculator: architecture in, shapes, parameters and memory out.

    Pass your own ``inference_ram_bytes(input_shape, layers, dtype_bytes)``
    and ``training_ram_bytes(input_shape, layers, batch_size, dtype_bytes)``
    to see their totals next to the Keras per-layer ground truth.
    Returns the top-level widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    style = {"description_width": "90px"}
    controls = {
        "layers": w.IntSlider(3, min=1, max=6, description="Layers", style=style),
        "kernel": w.IntSlider(3, min=1, max=7, description="Kernel", style=style),
        "stride": w.IntSlider(2, min=1, max=4, description="Stride", style=style),
        "padding": w.Dropdown(options=["same", "valid"], value="same", description="Padding",
                              style=style),
        "filters": w.Text("100, 200, 400", description="Filters", continuous_update=False,
                          style=style),
        "height": w.BoundedIntText(200, min=1, max=4096, description="Height", style=style),
        "width": w.BoundedIntText(300, min=1, max=4096, description="Width", style=style),
        "channels": w.BoundedIntText(3, min=1, max=64, description="Channels", style=style),
        "batch": w.IntSlider(50, min=1, max=512, description="Batch", style=style),
        "dtype": w.Dropdown(options=list(DTYPE_BYTES), value="float32", description="dtype",
                            style=style),
    }

    def render(values: dict) -> View:
        try:
            n = values["layers"]
            filters = _parse_filters(values["filters"], n)
            layers = [{"filters": f, "kernel_size": values["kernel"],
                       "strides": values["stride"], "padding": values["padding"]}
                      for f in filters]
            shape = (values["height"], values["width"], values["channels"])
            facts = keras_layer_facts(shape, layers)
            if any(d <= 0 for f in facts for d in f["output_shape"]):
                raise ValueError("a layer's output would be empty")
        except Exception as exc:  # noqa: BLE001 - any bad setting: say so, keep the widget alive
            html = f"<b class='cnn-calc-error'>Cannot build this network: {exc}</b>"
            return View(html)
        size = DTYPE_BYTES[values["dtype"]]
        batch = values["batch"]
        total = sum(f["params"] for f in facts)
        rows = "".join(
            f"<tr><td>{f['name']}</td><td>{f['output_shape']}</td><td>{f['params']:,}</td>"
            f"<td>{fmt_bytes(size * _prod(f['output_shape']))}</td></tr>" for f in facts)
        extra = ""
        if inference_ram_bytes is not None:
            extra += _try_total("your inference_ram_bytes", inference_ram_bytes, shape, layers, size)
        if training_ram_bytes is not None:
            extra += _try_total(f"your training_ram_bytes (batch {batch})", training_ram_bytes,
                                shape, layers, batch, size)
        html = (
            "<table><tr><th>layer</th><th>output shape</th><th>parameters</th>"
            "<th>activations, one image</th></tr>" + rows + "</table>"
            f"<p>Total parameters (Keras <code>count_params()</code>): "
            f"<b class='cnn-total-params'>{total:,}</b> = "
            f"<span class='cnn-param-bytes'>{fmt_bytes(size * total)}</span> "
            f"as {values['dtype']}. Input batch: {fmt_bytes(size * batch * _prod(shape))}.</p>"
            + extra)
        fig, ax = plt.subplots(figsize=(7, 2.8))
        names = ["input"] + [f["name"] for f in facts]
        acts = [_prod(shape)] + [_prod(f["output_shape"]) for f in facts]
        ax.bar(names, [size * batch * a / 1e6 for a in acts], label=f"activations x batch {batch}")
        ax.bar(names, [0] + [size * f["params"] / 1e6 for f in facts],
               bottom=[size * batch * a / 1e6 for a in acts], label="parameters")
        ax.set_ylabel("MB")
        ax.set_title("Memory held per layer output (batch) and per layer's weights")
        ax.legend()
        fig.tight_layout()
        return View(html, fig)

    return explorer(controls, render, arrange="side", readout_class="cnn-calc-summary")


def _prod(shape: Sequence[int]) -> int:
    out = 1
    for d in shape:
        out *= int(d)
    return out


def _try_total(label: str, func: Callable, *args) -> str:
    try:
        value = func(*args)
        return f"<p>{label}: <b>{fmt_bytes(float(value))}</b></p>"
    except NotImplementedError:
        return f"<p>{label}: not implemented yet</p>"
    except Exception as exc:  # noqa: BLE001 - student function, report anything
        return f"<p>{label}: raised {type(exc).__name__}: {exc}</p>"
