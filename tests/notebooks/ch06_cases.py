"""Known wrong answers and attacks on chapter 6, as solution-cell overrides."""

from tests.notebooks.grading_checks import variant
from tests.notebooks.grading_checks import wrong_answer_batches as _pack

# --- exercise 1: parameters from a layer's configuration ----------------------------------

_LAYER_PARAMS = '''
def layer_params(kind, config, in_channels):
    bias = config.get("use_bias", True)
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        kh, kw = config["kernel_size"]
        mid = in_channels * {multiplier}
        if kind == "Conv2D":
            return kh * kw * {conv_in} * config["filters"] + bias * config["filters"]
        if kind == "DepthwiseConv2D":
            return kh * kw * mid + bias * mid
        return kh * kw * mid + mid * config["filters"] + bias * config["filters"]
    if kind == "Dense":
        return in_channels * config["units"] + bias * config["units"]
    if kind == "BatchNormalization":
        return in_channels * ({bn})
    return 0
'''

_LAYER_PARAMS_RIGHT = {"multiplier": 'config.get("depth_multiplier", 1)',
                       "conv_in": '(in_channels // config.get("groups", 1))',
                       "bn": '2 + config.get("center", True) + config.get("scale", True)'}

_layer_params = variant(_LAYER_PARAMS, _LAYER_PARAMS_RIGHT)


# --- exercise 2: the inception module's cost ----------------------------------------------

_INCEPTION = '''
def inception_cost(h, w, c_in, filters, bottleneck=True):
    n1, n3r, n3, n5r, n5, pool_proj = filters
    if bottleneck:
        convs = [(1, c_in, n1), (1, c_in, n3r), (3, n3r, n3), (1, c_in, n5r), (5, n5r, n5), (1, c_in, pool_proj)]
        channels = n1 + n3 + n5 + pool_proj
    else:
        convs = [(1, c_in, n1), (3, c_in, n3), (5, c_in, n5)]
        channels = {naive_channels}
    params = sum(k * k * c * f{bias} for k, c, f in convs)
    mult_adds = sum(h * w * k * k * c * f for k, c, f in convs)
    return {{"params": params, "mult_adds": mult_adds, "channels": channels}}
'''

_INCEPTION_RIGHT = {"naive_channels": "n1 + n3 + n5 + c_in", "bias": " + f"}

_inception = variant(_INCEPTION, _INCEPTION_RIGHT)


# --- exercise 3: the residual unit --------------------------------------------------------

_RESIDUAL = '''
from keras import layers

def residual_unit(x, filters, strides=1):
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
{after_main}    shortcut = x
    if {needs_projection}:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))
'''

_RESIDUAL_RIGHT = {"after_main": "", "needs_projection": "strides != 1 or x.shape[-1] != filters"}

_residual = variant(_RESIDUAL, _RESIDUAL_RIGHT)


# --- exercise 4: squeeze-and-excitation in numpy ------------------------------------------

_SE = '''
import numpy as np

def se_forward(x, w1, b1, w2, b2):
    x = np.asarray(x, dtype=np.float32)
    squeezed = x.{squeeze}(axis=(1, 2))
    hidden = np.maximum(squeezed @ w1 + b1, 0.0)
    excitation = {gate}
    return (x * excitation[:, None, None, :]).astype(np.float32)
'''

_SE_RIGHT = {"squeeze": "mean", "gate": "1.0 / (1.0 + np.exp(-(hidden @ w2 + b2)))"}

_se = variant(_SE, _SE_RIGHT)


# --- exercise 5: depthwise separable convolution in numpy ---------------------------------

_SEPARABLE = '''
import numpy as np

def separable_conv2d(x, depthwise_kernel, pointwise_kernel, bias, strides=1, padding="valid"):
    x = np.asarray(x, dtype=np.float64)
    kh, kw, c_in, m = depthwise_kernel.shape
    n, h, w, _ = x.shape
    if padding == "same":
        out_h, out_w = -(-h // strides), -(-w // strides)
        pad_h = max((out_h - 1) * strides + kh - h, 0)
        pad_w = max((out_w - 1) * strides + kw - w, 0)
        x = np.pad(x, ((0, 0), {pad_rows}, {pad_cols}, (0, 0)))
    else:
        out_h, out_w = (h - kh) // strides + 1, (w - kw) // strides + 1
    out = np.zeros((n, out_h, out_w, c_in, m))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + strides * out_h:strides, j:j + strides * out_w:strides, :]
            out += patch[..., None] * depthwise_kernel[i, j]
    out = {mid}
    return (out @ pointwise_kernel[0, 0] + bias).astype(np.float32)
'''

_SEPARABLE_RIGHT = {"pad_rows": "(pad_h // 2, pad_h - pad_h // 2)", "pad_cols": "(pad_w // 2, pad_w - pad_w // 2)",
                    "mid": "out.reshape(n, out_h, out_w, c_in * m)"}

_separable = variant(_SEPARABLE, _SEPARABLE_RIGHT)


SEPARABLE_LOOPS = '''
import numpy as np

def separable_conv2d(x, depthwise_kernel, pointwise_kernel, bias, strides=1, padding="valid"):
    kh, kw, c_in, m = depthwise_kernel.shape
    if padding == "same":
        rows = [(-(-x.shape[d] // strides) - 1) * strides + k - x.shape[d] for d, k in ((1, kh), (2, kw))]
        rows = [max(r, 0) for r in rows]
        x = np.pad(x, ((0, 0), (rows[0] // 2, rows[0] - rows[0] // 2), (rows[1] // 2, rows[1] - rows[1] // 2), (0, 0)))
    n, h, w, _ = x.shape
    out_h, out_w = (h - kh) // strides + 1, (w - kw) // strides + 1
    depthwise = np.zeros((n, out_h, out_w, c_in * m), np.float32)
    for r in range(out_h):
        for s in range(out_w):
            window = x[:, r * strides:r * strides + kh, s * strides:s * strides + kw, :]
            for c in range(c_in):
                for k in range(m):
                    depthwise[:, r, s, c * m + k] = np.sum(window[..., c] * depthwise_kernel[:, :, c, k], axis=(1, 2))
    return np.einsum("nhwc,cf->nhwf", depthwise, pointwise_kernel[0, 0]) + bias
'''
"""A correct loop-based answer, different from the source solution (must score full marks)."""

# --- exercise 6: separable versus regular -------------------------------------------------

_SAVINGS = '''
def separable_savings(k, c_in, c_out, h_out, w_out, depth_multiplier=1):
    mid = c_in * {multiplier}
    regular = (k * k * c_in * c_out{bias}, h_out * w_out * k * k * c_in * c_out)
    separable = (k * k * mid + mid * c_out{bias}, h_out * w_out * (k * k * mid + mid * c_out))
    return {{"regular": regular, "separable": separable}}
'''

_SAVINGS_RIGHT = {"multiplier": "depth_multiplier", "bias": " + c_out"}

_savings = variant(_SAVINGS, _SAVINGS_RIGHT)


# Typical mistakes: (override of one solution cell, the test cells that must lose all their points).
WRONG_ANSWERS = {
    # exercise 1
    "params_bn_trainable_only": ({"ex1_layer_params": _layer_params(
        bn='config.get("center", True) + config.get("scale", True)')}, {"test_layer_params"}),
    "params_conv_ignores_groups": ({"ex1_layer_params": _layer_params(conv_in="in_channels")},
                                   {"test_layer_params"}),
    "params_forgets_depth_multiplier": ({"ex1_layer_params": _layer_params(multiplier="1")},
                                        {"test_layer_params"}),
    # exercise 2
    "inception_no_biases": ({"ex2_inception_cost": _inception(bias="")}, {"test_inception_cost"}),
    "inception_naive_drops_pool": ({"ex2_inception_cost": _inception(naive_channels="n1 + n3 + n5")},
                                   {"test_inception_cost"}),
    # exercise 3
    "residual_never_projects": ({"ex3_residual_unit": _residual(needs_projection="False")},
                                {"test_residual_unit"}),
    "residual_relu_before_add": ({"ex3_residual_unit": _residual(after_main="    y = layers.ReLU()(y)\n")},
                                 {"test_residual_unit"}),
    # exercise 4
    "se_max_squeeze": ({"ex4_se_forward": _se(squeeze="max")}, {"test_se_forward"}),
    "se_no_sigmoid": ({"ex4_se_forward": _se(gate="hidden @ w2 + b2")}, {"test_se_forward"}),
    # exercise 5
    "separable_multiplier_major": ({"ex5_separable_conv2d": _separable(
        mid="out.transpose(0, 1, 2, 4, 3).reshape(n, out_h, out_w, c_in * m)")}, {"test_separable_conv2d"}),
    "separable_same_pads_top": ({"ex5_separable_conv2d": _separable(
        pad_rows="(pad_h - pad_h // 2, pad_h // 2)", pad_cols="(pad_w - pad_w // 2, pad_w // 2)")},
        {"test_separable_conv2d"}),
    # exercise 6
    "savings_forgets_multiplier": ({"ex6_separable_savings": _savings(multiplier="1")},
                                   {"test_separable_savings"}),
    "savings_no_bias": ({"ex6_separable_savings": _savings(bias="")}, {"test_separable_savings"}),
}

# Correct answers written differently from the source solutions: they must score full marks.
RIGHT_VARIANTS = {
    "templates": {"ex1_layer_params": _layer_params(), "ex2_inception_cost": _inception(),
                  "ex3_residual_unit": _residual(), "ex4_se_forward": _se(),
                  "ex5_separable_conv2d": SEPARABLE_LOOPS, "ex6_separable_savings": _savings()},
}


def wrong_answer_batches() -> dict[str, tuple[list[str], dict[str, str], set[str]]]:
    """:data:`WRONG_ANSWERS` packed into few submissions (``grading_checks.wrong_answer_batches``)."""
    return _pack(WRONG_ANSWERS)


_ALWAYS_EQUAL = '''
class Anything(int):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = int.__hash__

def layer_params(kind, config, in_channels):
    return Anything(0)
'''

_WRONG_PARAMS = '''
def layer_params(kind, config, in_channels):
    return 0
'''

# Each attack beats bare nbgrader (tests check that too) and must gain nothing here.
# The whole attack sits in the first solution cell; the other answers are left blank.
ATTACKS = {
    "always_equal": _ALWAYS_EQUAL,
    "input_transformer": _WRONG_PARAMS + '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''',
    "patched_testing_and_traceback": _WRONG_PARAMS + '''
import numpy as np

def se_forward(x, w1, b1, w2, b2):
    return np.asarray(x, dtype=np.float32)

np.testing.assert_allclose = lambda *a, **k: None
get_ipython().showtraceback = lambda *a, **k: None
''',
}


def attack_overrides(name: str) -> dict[str, str]:
    """Overrides that put the attack in the first cell and blank the rest."""
    return {"ex1_layer_params": ATTACKS[name], "ex2_inception_cost": "", "ex3_residual_unit": "",
            "ex4_se_forward": "", "ex5_separable_conv2d": "", "ex6_separable_savings": ""}
