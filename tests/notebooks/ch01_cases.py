"""Typical wrong answers and attacks on chapter 1, as solution-cell overrides.

The wrong ``conv2d`` versions are made by editing the instructor's own solution
(``_mutate`` fails loudly if the solution text changes), so each one differs from
the right answer by exactly one classic mistake.  Mistakes in different solution
cells are independent (each test cell only uses its own function), so one
submission carries one mistake per exercise to keep the number of graded runs low.
"""

from tests.notebooks.submissions import solved_sources

A = "ch01_cnn_vs_dnn"

DENSE = {
    "dense_no_bias": '''
def dense_params(input_shape, units):
    n = 1
    for d in input_shape:
        n *= d
    return n * units
''',
    "dense_forgot_channels": '''
def dense_params(input_shape, units):
    return (input_shape[0] * input_shape[1] + 1) * units
''',
}

CONV = {
    "conv_no_bias": '''
def conv_params(kernel_size, in_channels, filters):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * in_channels * filters
''',
    "conv_forgot_in_channels": '''
def conv_params(kernel_size, in_channels, filters):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return (kh * kw + 1) * filters
''',
    "conv_forgot_filters": '''
def conv_params(kernel_size, in_channels, filters):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * in_channels + 1
''',
}

# One classic conv2d mistake each: (text in the solution, replacement).
CONV2D = {
    "conv2d_no_bias": ("return out + np.asarray(bias, dtype=np.float64)", "return out"),
    "conv2d_flipped_kernel": ("kernel = np.asarray(kernel, dtype=np.float64)",
                              "kernel = np.asarray(kernel, dtype=np.float64)[::-1, ::-1]"),
    "conv2d_ignores_strides": ("sh, sw = (strides, strides) if np.ndim(strides) == 0 else strides",
                               "sh, sw = 1, 1"),
    "conv2d_symmetric_padding": ("(ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)",
                                 "(kh // 2, kh // 2), (kw // 2, kw // 2)"),
    "conv2d_same_ignores_stride": ("oh, ow = -(-h // sh), -(-w // sw)", "oh, ow = h, w"),
}

ALL_CELLS = {"test_dense_params", "test_conv_params", "test_conv2d_valid", "test_conv2d_strides",
             "test_conv2d_same"}

# submission name -> (dense mistake, conv mistake, conv2d mistake, cells that must score 0);
# every other autograded cell must keep full marks.
WRONG_ANSWERS = {
    "no_bias": ("dense_no_bias", "conv_no_bias", "conv2d_no_bias", ALL_CELLS),
    "channels_flipped": ("dense_forgot_channels", "conv_forgot_in_channels", "conv2d_flipped_kernel",
                         ALL_CELLS),
    "filters_strides": (None, "conv_forgot_filters", "conv2d_ignores_strides",
                        {"test_conv_params", "test_conv2d_strides", "test_conv2d_same"}),
    "symmetric_padding": (None, None, "conv2d_symmetric_padding", {"test_conv2d_same"}),
    "same_ignores_stride": (None, None, "conv2d_same_ignores_stride", {"test_conv2d_same"}),
}


def _mutate(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, f"the ch01 solution no longer contains {old!r} exactly once"
    return source.replace(old, new)


def wrong_answer_overrides(name: str) -> dict[str, str]:
    """Solution-cell overrides for one wrong-answer submission."""
    dense, conv, conv2d, _ = WRONG_ANSWERS[name]
    overrides = {}
    if dense:
        overrides["ex1_dense_params"] = DENSE[dense]
    if conv:
        overrides["ex2_conv_params"] = CONV[conv]
    if conv2d:
        overrides["ex3_conv2d"] = _mutate(solved_sources(A)["ex3_conv2d"], *CONV2D[conv2d])
    return overrides


_ALWAYS_EQUAL = '''
import numpy as np

class Sure(int):
    """An int that equals anything."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = int.__hash__

class SureArray(np.ndarray):
    """An array that equals anything and is close to anything."""
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
    def __ne__(self, other): return np.zeros(np.shape(other), dtype=bool)

def dense_params(input_shape, units): return Sure(7)
def conv_params(kernel_size, in_channels, filters): return Sure(7)
def conv2d(x, kernel, bias, strides=1, padding="valid"): return np.zeros((1, 1, 1)).view(SureArray)
np.testing.assert_allclose = lambda *a, **k: None
np.allclose = lambda *a, **k: True
'''

_WRONG_FUNCS = '''
import numpy as np
def dense_params(input_shape, units): return 0
def conv_params(kernel_size, in_channels, filters): return 0
def conv2d(x, kernel, bias, strides=1, padding="valid"): return np.zeros((1, 1, 1))
'''

# Each attack sits in the first solution cell; the other solution cells are blanked.
ATTACKS = {
    "always_equal": _ALWAYS_EQUAL,
    "input_transformer": _WRONG_FUNCS + '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''',
}


def attack_overrides(name: str) -> dict[str, str]:
    """Overrides that put the attack in the first cell and blank the rest."""
    return {"ex1_dense_params": ATTACKS[name], "ex2_conv_params": "", "ex3_conv2d": ""}
