"""What a Keras model costs: multiply-adds per layer, depth, and costs by kind of layer.

Parameter counts are Keras's own (``count_params()``); multiply-adds are
counted from each layer's configuration and its real input/output shapes
(one multiply-add per weight use, biases and normalisation not counted).
Used by chapter 6's lessons and explorer.
"""

from __future__ import annotations

import numpy as np


def shape_of(tensor) -> tuple[int, ...]:
    """The shape of ``tensor`` without its batch axis, as ints."""
    return tuple(int(d) for d in tensor.shape[1:])


def layer_multiply_adds(layer) -> int:
    """Multiply-adds of one image through ``layer`` (0 for layers without weights).

    Conv2D: ``H_out * W_out * filters * kh * kw * C_in / groups``;
    DepthwiseConv2D: ``H_out * W_out * C_in * depth_multiplier * kh * kw``;
    SeparableConv2D: its depthwise part plus ``H_out * W_out * C_in * depth_multiplier * filters``;
    Dense: ``inputs * units`` per position.  Biases, activations, pooling and
    normalization are comparatively cheap and not counted.
    """
    import keras

    kinds = keras.layers
    if isinstance(layer, kinds.SeparableConv2D):
        h, w, f = shape_of(layer.output)
        kh, kw = layer.kernel_size
        mid = shape_of(layer.input)[-1] * layer.depth_multiplier
        return h * w * mid * (kh * kw + f)
    if isinstance(layer, kinds.DepthwiseConv2D):
        h, w, c = shape_of(layer.output)
        kh, kw = layer.kernel_size
        return h * w * c * kh * kw
    if isinstance(layer, kinds.Conv2D):
        h, w, f = shape_of(layer.output)
        kh, kw = layer.kernel_size
        return h * w * f * kh * kw * shape_of(layer.input)[-1] // layer.groups
    if isinstance(layer, kinds.Dense):
        positions = int(np.prod(shape_of(layer.input)[:-1], dtype=np.int64))
        return positions * shape_of(layer.input)[-1] * layer.units
    return 0


def multiply_adds(model) -> int:
    """Multiply-adds of one forward pass of one image through ``model`` (see :func:`layer_multiply_adds`)."""
    return sum(layer_multiply_adds(layer) for layer in model.layers)


def _has_weights(layer) -> bool:
    import keras

    return isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                              keras.layers.SeparableConv2D, keras.layers.Dense))


def depth(model) -> int:
    """Weight layers (convolutions and dense) on the longest path from input to output.

    This is how the papers count: GoogLeNet is "22 layers deep", ResNet-50
    has 50 (its projection shortcuts lie on shorter paths).
    """
    longest: dict[int, int] = {}
    for layer in model.layers:  # functional and sequential models list layers in graph order
        parents = [id(p.operation) for node in layer._inbound_nodes for p in node.parent_nodes]
        before = max((longest.get(p, 0) for p in parents), default=0)
        longest[id(layer)] = before + int(_has_weights(layer))
    return max(longest.values())


def layer_table(model) -> list[dict]:
    """One row per layer: name, kind, output shape, parameters (``count_params()``), multiply-adds."""
    return [{"name": layer.name, "kind": type(layer).__name__, "output": shape_of(layer.output),
             "params": int(layer.count_params()), "mult_adds": layer_multiply_adds(layer)}
            for layer in model.layers]


def cost_by_kind(model) -> dict[str, dict[str, int]]:
    """Parameters and multiply-adds of ``model`` summed by kind of layer.

    Kinds: ``"conv kxk"`` (one per kernel size, grouped or not), ``"depthwise"``
    (including the depthwise half of separable convolutions), ``"pointwise 1x1"``
    (1x1 convolutions and the pointwise half of separable ones), ``"dense"``,
    ``"normalization"``.
    """
    import keras

    out: dict[str, dict[str, int]] = {}

    def add(kind, params, madds):
        row = out.setdefault(kind, {"params": 0, "mult_adds": 0})
        row["params"] += int(params)
        row["mult_adds"] += int(madds)

    for layer in model.layers:
        params, madds = layer.count_params(), layer_multiply_adds(layer)
        if isinstance(layer, keras.layers.SeparableConv2D):
            h, w, f = shape_of(layer.output)
            mid = shape_of(layer.input)[-1] * layer.depth_multiplier
            kh, kw = layer.kernel_size
            add("depthwise", int(np.prod(layer.depthwise_kernel.shape)), h * w * mid * kh * kw)
            add("pointwise 1x1", params - int(np.prod(layer.depthwise_kernel.shape)), h * w * mid * f)
        elif isinstance(layer, keras.layers.DepthwiseConv2D):
            add("depthwise", params, madds)
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            add("pointwise 1x1" if (kh, kw) == (1, 1) else f"conv {kh}x{kw}", params, madds)
        elif isinstance(layer, keras.layers.Dense):
            add("dense", params, madds)
        elif "Normalization" in type(layer).__name__:
            add("normalization", params, 0)
    return out
