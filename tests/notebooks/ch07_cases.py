"""Known wrong answers and attacks on chapter 7, as solution-cell overrides."""

from tests.notebooks.grading_checks import variant
from tests.notebooks.grading_checks import wrong_answer_batches as _pack

# --- exercise 1: dense weights -> convolution weights -------------------------------------

_CONVERT = '''
import numpy as np

def dense_to_conv(kernel, bias, input_shape):
    h, w, c = input_shape
    kernel = np.asarray(kernel)
    units = kernel.shape[1]
    return {kernel_expr}, {bias_expr}
'''

_CONVERT_RIGHT = {"kernel_expr": "kernel.reshape(h, w, c, units)", "bias_expr": "np.asarray(bias)"}

_convert = variant(_CONVERT, _CONVERT_RIGHT)


CONVERT_BY_LOOPS = '''
import numpy as np

def dense_to_conv(kernel, bias, input_shape):
    h, w, c = input_shape
    out = np.empty((h, w, c, kernel.shape[1]), dtype=kernel.dtype)
    for i in range(h):
        for j in range(w):
            for k in range(c):
                out[i, j, k] = kernel[(i * w + j) * c + k]
    return out, bias.copy()
'''
"""A correct answer written with explicit Flatten indices (must score full marks)."""

# --- exercise 2: the score map's geometry -------------------------------------------------

_GEOMETRY = '''
def score_map_geometry(h, w, layers):
    rows, cols, stride, field = h, w, 1, 1
    for kernel, step in layers:
        field += {field_step}
        stride {stride_update}
        rows = {rows_expr} if rows >= kernel else 0
        cols = {cols_expr} if cols >= kernel else 0
    return {{"shape": (rows, cols) if rows > 0 and cols > 0 else None, "stride": stride,
             "receptive_field": field}}
'''

_GEOMETRY_RIGHT = {"field_step": "(kernel - 1) * stride", "stride_update": "*= step",
                   "rows_expr": "(rows - kernel) // step + 1", "cols_expr": "(cols - kernel) // step + 1"}

_geometry = variant(_GEOMETRY, _GEOMETRY_RIGHT)


# Typical mistakes: (override of one solution cell, the test cells that must lose all their points).
WRONG_ANSWERS = {
    # exercise 1
    "convert_channels_first": ({"ex1_dense_to_conv": _convert(
        kernel_expr="kernel.reshape(c, h, w, units).transpose(1, 2, 0, 3)")}, {"test_dense_to_conv"}),
    "convert_reshape_to_1x1": ({"ex1_dense_to_conv": _convert(kernel_expr="kernel.reshape(1, 1, h * w * c, units)")},
                               {"test_dense_to_conv"}),
    "convert_drops_bias": ({"ex1_dense_to_conv": _convert(bias_expr="np.zeros_like(bias)")},
                           {"test_dense_to_conv"}),
    # exercise 2
    "geometry_adds_strides": ({"ex2_score_map_geometry": _geometry(stride_update="+= step - 1")},
                              {"test_score_map_geometry"}),
    "geometry_field_ignores_stride": ({"ex2_score_map_geometry": _geometry(field_step="kernel - 1")},
                                      {"test_score_map_geometry"}),
    "geometry_rounds_up": ({"ex2_score_map_geometry": _geometry(rows_expr="-(-(rows - kernel) // step) + 1",
                                                                cols_expr="-(-(cols - kernel) // step) + 1")},
                           {"test_score_map_geometry"}),
}

RIGHT_VARIANTS = {
    "templates": {"ex1_dense_to_conv": CONVERT_BY_LOOPS, "ex2_score_map_geometry": _geometry()},
}


def wrong_answer_batches() -> dict[str, tuple[list[str], dict[str, str], set[str]]]:
    """:data:`WRONG_ANSWERS` packed into few submissions (``grading_checks.wrong_answer_batches``)."""
    return _pack(WRONG_ANSWERS)


_ALWAYS_EQUAL = '''
class Anything(int):
    """An int equal to everything."""
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = int.__hash__

class AnyPair:
    """Iterates as two Anythings, so tuple(AnyPair()) equals every pair."""
    def __iter__(self):
        return iter((Anything(0), Anything(0)))

def score_map_geometry(h, w, layers):
    return {"shape": None if min(h, w) < 26 else AnyPair(), "stride": Anything(0),
            "receptive_field": Anything(0)}
'''

_WRONG_CONVERT = '''
import numpy as np

def dense_to_conv(kernel, bias, input_shape):
    return np.zeros((*input_shape, kernel.shape[1]), np.float32), np.zeros_like(bias)
'''

# Each attack beats bare nbgrader (tests check that too) and must gain nothing here.
# The whole attack sits in the first solution cell; the other answers are left blank.
ATTACKS = {
    "always_equal": _ALWAYS_EQUAL,
    "input_transformer": _WRONG_CONVERT + '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''',
    "patched_testing_and_traceback": _WRONG_CONVERT + '''
np.testing.assert_allclose = lambda *a, **k: None
get_ipython().showtraceback = lambda *a, **k: None
''',
}


def attack_overrides(name: str) -> dict[str, str]:
    """Overrides that put the attack in the first cell and blank the rest."""
    return {"ex1_dense_to_conv": ATTACKS[name], "ex2_score_map_geometry": ""}
