"""Chapter 3 helpers: real-tensor measurements, the GPU peak meter, the budget explorer.

Layer specs are those of chapter 2 (``course.ch02``): dicts with the keyword
names of ``keras.layers.Conv2D``, e.g. ``{"filters": 64, "kernel_size": 3,
"strides": 2, "padding": "same"}``, optionally with more ``Conv2D`` keywords
such as ``"activation"``.  ``dense_units`` lists the sizes of the ``Dense``
layers of an optional head (``Flatten`` then one ``Dense`` per entry).  A dtype
is a Keras dtype policy name (:data:`DTYPE_POLICIES`), an optimizer one of
:data:`OPTIMIZERS`.

Nothing here estimates memory for you.  What this module does:

* builds real Keras models from specs (:func:`build_model`) and reads what
  Keras itself reports (:func:`keras_memory_facts`: output shapes,
  ``count_params()``, variable and compute dtypes);
* measures the byte size of the real tensors of one training step on a small
  batch (:func:`measure_training_tensors`) and shows that recomputation
  (``keras.remat``) gives the same gradients (:func:`checkpointed_gradients`);
* reads the peak memory of a real training step on a GPU
  (:func:`measure_peak_training_memory`);
* draws *your* estimator's numbers: the budget explorer widget
  (:func:`memory_explorer`) and the remedies table (:func:`show_remedies`)
  only display what the functions and dicts you pass in return.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from course.tensor_memory import (  # noqa: F401 - the chapter imports them from here
    checkpointed_gradients,
    make_optimizer,
    measure_peak_training_memory,
    measure_training_tensors,
)
from course.widgets import View, explorer, fmt_bytes

DTYPE_POLICIES = ("float32", "float64", "float16", "bfloat16", "mixed_float16", "mixed_bfloat16")
"""Keras dtype policies the chapter uses (``mixed_*``: float32 variables, 16-bit computations)."""

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
"""Optimizer names: plain SGD, SGD with momentum 0.9, RMSprop and Adam (Keras defaults otherwise)."""

COMPONENTS = ("params", "gradients", "optimizer_state", "activations", "inputs")
"""The parts of the training-memory lower bound, in the order the chapter draws them."""

SCENARIO = {
    "input_shape": (224, 224, 3),
    "layers": [
        {"filters": 32, "kernel_size": 3, "strides": 1, "padding": "same", "activation": "relu"},
        {"filters": 32, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
        {"filters": 64, "kernel_size": 3, "strides": 1, "padding": "same", "activation": "relu"},
        {"filters": 64, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
        {"filters": 128, "kernel_size": 3, "strides": 1, "padding": "same", "activation": "relu"},
        {"filters": 128, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
        {"filters": 256, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
    ],
    "dense_units": (512, 10),
    "batch_size": 256,
}
"""The chapter's out-of-memory scenario: a VGG-style CNN on 224x224 RGB images, batch 256."""

BUDGET_BYTES = 4 * 10**9
"""GPU memory available for the scenario's tensors: 4 GB (1 GB = 10**9 bytes)."""

REMEDIES = {
    "baseline": "as is: batch 256, float32, Adam",
    "halve_batch": "1. a smaller mini-batch: 128 images",
    "stride_2_first_layer": "2. a larger stride: the first layer's stride 1 -> 2",
    "remove_first_layer": "3. one layer fewer: drop the first convolutional layer",
    "float16": "4a. 16-bit floats everywhere (policy 'float16')",
    "mixed_float16": "4b. mixed precision (policy 'mixed_float16')",
    "two_gpus": "5. two GPUs, data parallel: memory of one GPU",
    "checkpointing": "+ gradient checkpointing (k = ceil(sqrt(n)))",
}
"""Names of the remedies the chapter compares on :data:`SCENARIO` (exercise 3), with a description."""


# --------------------------------------------------------------------------- Keras ground truth

@contextlib.contextmanager
def _global_policy(dtype: str):
    """Use ``dtype`` as Keras's global dtype policy inside the block (restored after)."""
    import keras

    old = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(old)


def build_model(input_shape: Sequence[int], layers: Sequence[dict], dense_units: Sequence[int] = (),
                dtype: str = "float32"):
    """A ``keras.Sequential``: ``Conv2D`` layers from specs, then ``Flatten`` + ``Dense`` layers.

    The whole model uses the dtype policy ``dtype`` (so ``model.compile`` wraps the optimizer
    in a ``LossScaleOptimizer`` under ``mixed_float16``, as Keras does with a global policy),
    and its input has the policy's *compute* dtype: feed batches already cast.
    """
    import keras

    with _global_policy(dtype):
        compute = keras.config.dtype_policy().compute_dtype
        model = keras.Sequential([keras.Input(shape=tuple(input_shape), dtype=compute)])
        for i, spec in enumerate(layers):
            model.add(keras.layers.Conv2D(name=f"conv{i + 1}", **spec))
        if dense_units:
            model.add(keras.layers.Flatten(name="flatten"))
            for i, units in enumerate(dense_units):
                model.add(keras.layers.Dense(units, name=f"dense{i + 1}"))
    return model


def keras_memory_facts(model) -> dict:
    """What Keras reports about a built model: per layer ``name``, ``kind``, ``output_shape``
    (without the batch axis), ``params``; plus ``params`` (``count_params()``),
    ``variable_dtype``, ``compute_dtype`` and ``input_shape``."""
    layers = [{"name": layer.name, "kind": type(layer).__name__,
               "output_shape": tuple(int(d) for d in layer.output.shape[1:]),
               "params": int(layer.count_params())} for layer in model.layers]
    policy = model.layers[0].dtype_policy
    return {"layers": layers, "params": int(model.count_params()),
            "variable_dtype": policy.variable_dtype, "compute_dtype": policy.compute_dtype,
            "input_shape": tuple(int(d) for d in model.inputs[0].shape[1:])}


# --------------------------------------------------------------------------- display

_COLORS = {"params": "#4c72b0", "gradients": "#dd8452", "optimizer_state": "#c44e52",
           "activations": "#55a868", "inputs": "#8172b3"}


def _stacked_bar(ax, rows: list[tuple[str, dict]], budget: float | None) -> None:
    """Horizontal stacked bars (GB) of the components of each ``(label, breakdown)``; lays out the figure."""
    labels = [label for label, _ in rows]
    left = [0.0] * len(rows)
    for part in COMPONENTS:
        widths = [float(b[part]) / 1e9 for _, b in rows]
        ax.barh(labels, widths, left=left, color=_COLORS[part], label=part.replace("_", " "))
        left = [a + b for a, b in zip(left, widths)]
    if budget is not None:
        ax.axvline(budget / 1e9, color="black", linestyle="--", label="budget")
    ax.invert_yaxis()
    ax.set_xlabel("GB")
    fig = ax.figure
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, fontsize="small", frameon=False)


def _check_breakdown(result) -> dict:
    """The student's breakdown as plain ints, or an exception saying what is wrong."""
    if not isinstance(result, dict):
        raise TypeError(f"training_memory should return a dict, got {type(result).__name__}")
    missing = [k for k in (*COMPONENTS, "total") if k not in result]
    if missing:
        raise KeyError(f"the dict has no {', '.join(missing)}")
    return {k: result[k] for k in (*COMPONENTS, "total")}


def memory_explorer(training_memory: Callable, largest_batch: Callable | None = None,
                    scenario: dict | None = None, budget_gb: float = BUDGET_BYTES / 1e9):
    """Memory-budget explorer for *your* ``training_memory`` (and optionally ``largest_batch``).

    Controls: batch size, image size (square images), dtype policy, optimizer, checkpointing
    and a budget in GB.  Shows a stacked bar of where the memory goes according to your function,
    its total, whether it fits the budget and, with ``largest_batch``, the largest batch that
    fits.  The architecture is ``scenario`` (default :data:`SCENARIO`).  Returns the widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    scenario = dict(SCENARIO if scenario is None else scenario)
    style = {"description_width": "110px"}
    h, _, channels = scenario["input_shape"]
    controls = {
        "batch": w.BoundedIntText(scenario.get("batch_size", 32), min=1, max=1_000_000,
                                  description="Batch size", style=style),
        "image": w.IntSlider(h, min=32, max=512, step=16, description="Image size", style=style),
        "dtype": w.Dropdown(options=list(DTYPE_POLICIES), value="float32", description="dtype",
                            style=style),
        "optimizer": w.Dropdown(options=list(OPTIMIZERS), value="adam", description="Optimizer",
                                style=style),
        "checkpointing": w.Checkbox(False, description="Checkpointing", style=style),
        "budget": w.BoundedFloatText(budget_gb, min=0.001, max=100_000, step=0.5,
                                     description="Budget (GB)", style=style),
    }

    def render(values: dict) -> View:
        size = values["image"]
        settings = {"input_shape": (size, size, channels), "layers": scenario["layers"],
                    "batch_size": values["batch"],
                    "dense_units": tuple(scenario.get("dense_units", ())),
                    "dtype": values["dtype"], "optimizer": values["optimizer"],
                    "checkpointing": values["checkpointing"]}
        budget = values["budget"] * 1e9
        try:
            parts = _check_breakdown(training_memory(**settings))
        except NotImplementedError:
            html = ("<b class='cnn-mem-error'>Implement <code>training_memory</code> "
                             "first (exercise 1), then run this cell again.</b>")
            return View(html)
        except Exception as exc:  # noqa: BLE001 - student function: report anything, keep the widget
            html = (f"<b class='cnn-mem-error'>training_memory raised "
                             f"{type(exc).__name__}: {exc}</b>")
            return View(html)
        total = parts["total"]
        fits = total <= budget
        rows = "".join(f"<tr><td>{k.replace('_', ' ')}</td>"
                       f"<td class='cnn-mem-{k.replace('_', '-')}'>{fmt_bytes(parts[k])}</td></tr>"
                       for k in COMPONENTS)
        largest = ""
        if largest_batch is not None:
            spec = {k: v for k, v in settings.items() if k != "batch_size"}
            try:
                value = largest_batch(budget, training_memory, **spec)
                largest = (f"<p>Largest batch that fits (your <code>largest_batch</code>): "
                           f"<b class='cnn-mem-largest'>{value:,}</b></p>")
            except NotImplementedError:
                largest = "<p>Implement <code>largest_batch</code> (exercise 2) to see the largest batch.</p>"
            except Exception as exc:  # noqa: BLE001 - student function: report anything
                largest = f"<p>largest_batch raised {type(exc).__name__}: {exc}</p>"
        verdict = "fits" if fits else "does not fit"
        html = (
            f"<table>{rows}</table>"
            f"<p>Total (your <code>training_memory</code>): <b class='cnn-mem-total'>{fmt_bytes(total)}</b>"
            f" = <span class='cnn-mem-total-bytes'>{total:,}</span> bytes: "
            f"<b class='cnn-mem-verdict cnn-mem-{'fits' if fits else 'oom'}' "
            f"style='color: {'#2e7d32' if fits else '#c62828'}'>{verdict}</b> "
            f"in {fmt_bytes(budget)}.</p>" + largest)
        fig, ax = plt.subplots(figsize=(7.5, 2.3))
        ax.set_title(f"{size}x{size} images, {settings['dtype']}, {settings['optimizer']}"
                     + (", checkpointing" if settings["checkpointing"] else ""))
        _stacked_bar(ax, [(f"batch {settings['batch_size']}", parts)], budget)
        return View(html, fig)

    return explorer(controls, render, arrange="side", readout_class="cnn-mem-readout")


def show_remedies(remedy_totals: dict | None, remedy_batches: dict | None = None,
                  budget: float = BUDGET_BYTES) -> list[str]:
    """Table and bar plot of the remedies, ranked by the memory they save (your numbers).

    ``remedy_totals`` maps the keys of :data:`REMEDIES` to total bytes; ``remedy_batches``
    (optional) maps them to the largest batch within ``budget``.
    Returns the remedy names from most to least memory saved (empty if not answered yet).
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    if not remedy_totals or "baseline" not in remedy_totals:
        print("Answer exercise 3 first: remedy_totals needs at least the key 'baseline'.")
        return []
    base = remedy_totals["baseline"]
    order = sorted((k for k in remedy_totals if k != "baseline"), key=lambda k: remedy_totals[k])
    batches = remedy_batches or {}
    head = ("<tr><th>rank</th><th>remedy</th><th>total</th><th>saved</th><th>fits?</th>"
            "<th>largest batch</th></tr>")
    body = []
    for rank, key in enumerate(["baseline", *order]):
        total = remedy_totals[key]
        saved = "" if key == "baseline" else f"{fmt_bytes(base - total)} ({100 * (base - total) / base:.0f} %)"
        batch = batches.get(key, "")
        body.append(f"<tr><td>{rank if rank else ''}</td><td>{REMEDIES.get(key, key)}</td>"
                    f"<td>{fmt_bytes(total)}</td><td>{saved}</td>"
                    f"<td>{'yes' if total <= budget else 'no'}</td>"
                    f"<td>{f'{batch:,}' if isinstance(batch, int) else batch}</td></tr>")
    display(HTML(f"<table>{head}{''.join(body)}</table>"))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(remedy_totals) + 1.2))
    keys = ["baseline", *order]
    totals = [remedy_totals[k] / 1e9 for k in keys]
    ax.barh(keys, totals, color=["#c44e52" if t * 1e9 > budget else "#55a868" for t in totals])
    for y, t in enumerate(totals):
        ax.text(t, y, f" {t:.2f} GB", va="center", fontsize="small")
    ax.axvline(budget / 1e9, color="black", linestyle="--", label=f"budget {fmt_bytes(budget)}")
    ax.invert_yaxis()
    ax.set_xlabel("GB")
    ax.set_xlim(0, max(max(totals), budget / 1e9) * 1.25)
    ax.legend(loc="center right")
    ax.set_title("Training memory of the scenario, per remedy (lower bound)")
    fig.tight_layout()
    display(fig)
    plt.close(fig)
    return order

