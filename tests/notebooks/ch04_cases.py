"""Known wrong answers and attacks on chapter 4, as solution-cell overrides.

Each wrong answer replaces one solution cell with a typical mistake.  Wrong
answers to *different* cells are independent (each test cell only calls the
function of its own exercise), so :data:`SUBMISSIONS` packs up to one wrong
answer per cell into one submission to keep the number of graded notebooks
(each runs the whole chapter) small.
"""

from __future__ import annotations

from tests.notebooks.submissions import solved_sources

A = "ch04_pooling"

# The correct helpers of the source's Exercise 1 solution (``_pair``, ``_windows``,
# ``_pool2d``) stay defined in every override of that cell: Exercise 2's solution
# reuses ``_pool2d``, and a wrong max_pool2d must not break it.


def _ex1_with(max_pool2d_code: str) -> str:
    return solved_sources(A)["ex1_max_pool2d"] + "\n\n" + max_pool2d_code


_MAX_ZERO_PADDING = '''
def max_pool2d(x, pool_size, strides=None, padding="valid"):
    """Pads with zeros: wrong as soon as a padded window holds only negative values."""
    x = np.asarray(x)
    kh, kw = _pair(pool_size)
    sh, sw = _pair(pool_size if strides is None else strides)
    if padding == "same":
        oh, ow = -(-x.shape[1] // sh), -(-x.shape[2] // sw)
        ph, pw = max((oh - 1) * sh + kh - x.shape[1], 0), max((ow - 1) * sw + kw - x.shape[2], 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    oh, ow = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    out = np.empty((x.shape[0], oh, ow, x.shape[3]), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = x[:, i * sh:i * sh + kh, j * sw:j * sw + kw].max(axis=(1, 2))
    return out
'''

_MAX_IGNORES_STRIDES = '''
def max_pool2d(x, pool_size, strides=None, padding="valid"):
    """Always uses the pool size as the stride."""
    return _pool2d(x, pool_size, None, padding, np.max)
'''

_MAX_PADDING_ON_THE_WRONG_SIDE = '''
def max_pool2d(x, pool_size, strides=None, padding="valid"):
    """'same' padding with the larger half at the top/left (TensorFlow puts it bottom/right)."""
    x = np.asarray(x)
    kh, kw = _pair(pool_size)
    sh, sw = _pair(pool_size if strides is None else strides)

    def windows(n, k, s):
        if padding == "valid":
            return [slice(i * s, i * s + k) for i in range((n - k) // s + 1)]
        size = -(-n // s)
        before = -(-max((size - 1) * s + k - n, 0) // 2)
        return [slice(max(i * s - before, 0), min(i * s - before + k, n)) for i in range(size)]

    rows, cols = windows(x.shape[1], kh, sh), windows(x.shape[2], kw, sw)
    out = np.empty((x.shape[0], len(rows), len(cols), x.shape[3]), x.dtype)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            out[:, i, j] = x[:, r, c].max(axis=(1, 2))
    return out
'''

_MAX_CHANNELS_FIRST = '''
def max_pool2d(x, pool_size, strides=None, padding="valid"):
    """Believes the input is (N, C, H, W): converts it to channels-last, pools, converts back."""
    x = np.transpose(np.asarray(x), (0, 2, 3, 1))
    return np.transpose(_pool2d(x, pool_size, strides, padding, np.max), (0, 3, 1, 2))
'''

_NO_CLIP = '''
def {name}(x, pool_size, strides=None, padding="valid"):
    """'same' padding without max(..., 0): a window smaller than the stride gets a negative padding."""
    x = np.asarray(x)
    kh, kw = _pair(pool_size)
    sh, sw = _pair(pool_size if strides is None else strides)

    def windows(n, k, s):
        if padding == "valid":
            return [slice(i * s, i * s + k) for i in range((n - k) // s + 1)]
        size = -(-n // s)
        before = ((size - 1) * s + k - n) // 2
        return [slice(max(i * s - before, 0), max(min(i * s - before + k, n), 0)) for i in range(size)]

    rows, cols = windows(x.shape[1], kh, sh), windows(x.shape[2], kw, sw)
    out = np.zeros((x.shape[0], len(rows), len(cols), x.shape[3]), x.dtype)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            if x[:, r, c].size:
                out[:, i, j] = np.{reduce}(x[:, r, c], axis=(1, 2))
    return out
'''

_AVG_COUNTS_PADDING = '''
def avg_pool2d(x, pool_size, strides=None, padding="valid"):
    """Divides by the full window size, padded zeros included (count_include_pad=True)."""
    x = np.asarray(x)
    kh, kw = _pair(pool_size)
    return _pool2d(x, pool_size, strides, padding, np.sum) / (kh * kw)
'''

_AVG_IS_MAX = '''
def avg_pool2d(x, pool_size, strides=None, padding="valid"):
    """Copy-pasted from max_pool2d."""
    return _pool2d(x, pool_size, strides, padding, np.max)
'''

_AVG_VALID_SIZE_OFF_BY_ONE = '''
def avg_pool2d(x, pool_size, strides=None, padding="valid"):
    """'valid' output size n // s instead of (n - k) // s + 1 (windows cut at the border)."""
    x = np.asarray(x)
    if padding != "valid":
        return _pool2d(x, pool_size, strides, padding, np.mean)
    kh, kw = _pair(pool_size)
    sh, sw = _pair(pool_size if strides is None else strides)
    oh, ow = x.shape[1] // sh, x.shape[2] // sw
    out = np.empty((x.shape[0], oh, ow, x.shape[3]), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = x[:, i * sh:i * sh + kh, j * sw:j * sw + kw].mean(axis=(1, 2))
    return out
'''

_COST = '''
def pool_vs_conv_cost(input_shape, pool_size, strides=None, padding="valid", filters=None):
    h, w, c = input_shape
    k = pool_size
    s = pool_size if strides is None else strides
    f = c if filters is None else filters
    if padding == "same"{same_condition}:
        oh, ow = -(-h // s), -(-w // s)
    else:
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
    return {{"pool_params": 0, "conv_params": {conv_params},
            "pool_flops": oh * ow * c * k * k, "conv_flops": {conv_flops}}}
'''


def _cost(same_condition: str = "", conv_params: str = "(k * k * c + 1) * f",
          conv_flops: str = "oh * ow * f * (2 * k * k * c + 1)") -> str:
    return _COST.format(same_condition=same_condition, conv_params=conv_params, conv_flops=conv_flops)


# name -> (solution cell, code, test cell it answers, expected score there: "zero" or "partial").
# "zero": the visible tests catch the mistake, so the cell fails before its hidden probes run.
# "partial": the visible tests pass and the mistake only shows on some hidden cases (for
# instance a window smaller than the stride, which no visible test uses).
WRONG_ANSWERS = {
    "max_zero_padding": ("ex1_max_pool2d", _ex1_with(_MAX_ZERO_PADDING), "test_max_pool2d", "zero"),
    "max_ignores_strides": ("ex1_max_pool2d", _ex1_with(_MAX_IGNORES_STRIDES), "test_max_pool2d",
                            "zero"),
    "max_padding_on_the_wrong_side": ("ex1_max_pool2d", _ex1_with(_MAX_PADDING_ON_THE_WRONG_SIDE),
                                      "test_max_pool2d", "zero"),
    "max_channels_first": ("ex1_max_pool2d", _ex1_with(_MAX_CHANNELS_FIRST), "test_max_pool2d",
                           "zero"),
    "max_same_padding_not_clipped": ("ex1_max_pool2d",
                                     _ex1_with(_NO_CLIP.format(name="max_pool2d", reduce="max")),
                                     "test_max_pool2d", "partial"),
    "avg_counts_padding": ("ex2_avg_pool2d", _AVG_COUNTS_PADDING, "test_avg_pool2d", "zero"),
    "avg_is_max": ("ex2_avg_pool2d", _AVG_IS_MAX, "test_avg_pool2d", "zero"),
    "avg_valid_size_off_by_one": ("ex2_avg_pool2d", _AVG_VALID_SIZE_OFF_BY_ONE, "test_avg_pool2d",
                                  "zero"),
    "avg_same_padding_not_clipped": ("ex2_avg_pool2d", _NO_CLIP.format(name="avg_pool2d", reduce="mean"),
                                     "test_avg_pool2d", "partial"),
    "cost_forgets_bias": ("ex3_pool_vs_conv_cost",
                          _cost(conv_params="k * k * c * f", conv_flops="oh * ow * f * 2 * k * k * c"),
                          "test_pool_vs_conv_cost", "zero"),
    "cost_macs_not_flops": ("ex3_pool_vs_conv_cost", _cost(conv_flops="oh * ow * f * k * k * c"),
                            "test_pool_vs_conv_cost", "zero"),
    "cost_ignores_input_channels": ("ex3_pool_vs_conv_cost",
                                    _cost(conv_params="(k * k + 1) * f",
                                          conv_flops="oh * ow * f * (2 * k * k + 1)"),
                                    "test_pool_vs_conv_cost", "zero"),
    "cost_always_same_padding": ("ex3_pool_vs_conv_cost", _cost(same_condition=" or True"),
                                 "test_pool_vs_conv_cost", "partial"),
}


def _pack() -> dict[str, list[str]]:
    """Submission name -> wrong answers it carries (at most one per solution cell)."""
    by_cell: dict[str, list[str]] = {}
    for name, (cell, *_rest) in WRONG_ANSWERS.items():
        by_cell.setdefault(cell, []).append(name)
    rounds = max(len(names) for names in by_cell.values())
    return {f"wrong_{i + 1}": [names[i] for names in by_cell.values() if i < len(names)]
            for i in range(rounds)}


SUBMISSIONS = _pack()


def submission_overrides(submission: str) -> dict[str, str]:
    """Solution-cell overrides of one packed wrong-answer submission."""
    return {WRONG_ANSWERS[name][0]: WRONG_ANSWERS[name][1] for name in SUBMISSIONS[submission]}


def submission_of(name: str) -> str:
    """The packed submission that carries wrong answer ``name``."""
    return next(sub for sub, names in SUBMISSIONS.items() if name in names)


_ALWAYS_EQUAL = '''
class Sure(int):
    """An int that equals anything."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = int.__hash__

def max_pool2d(x, pool_size, strides=None, padding="valid"): return Sure(7)
def avg_pool2d(x, pool_size, strides=None, padding="valid"): return Sure(7)
def pool_vs_conv_cost(input_shape, pool_size, strides=None, padding="valid", filters=None): return Sure(7)
'''

_RIGHT_SHAPES_WRONG_VALUES = '''
import keras
import numpy as np

def max_pool2d(x, pool_size, strides=None, padding="valid"):
    return np.zeros(keras.layers.MaxPooling2D(pool_size, strides, padding)(x).shape, np.float32)

def avg_pool2d(x, pool_size, strides=None, padding="valid"):
    return np.zeros(keras.layers.AveragePooling2D(pool_size, strides, padding)(x).shape, np.float32)

def pool_vs_conv_cost(input_shape, pool_size, strides=None, padding="valid", filters=None):
    return {"pool_params": 0, "conv_params": 0, "pool_flops": 0, "conv_flops": 0}
'''

# Each attack would beat bare nbgrader (the tests check that too) and must gain
# nothing here.  The whole attack sits in the first solution cell.
ATTACKS = {
    "always_equal": _ALWAYS_EQUAL,
    "input_transformer": _RIGHT_SHAPES_WRONG_VALUES + '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''',
    "patched_testing_and_traceback": _RIGHT_SHAPES_WRONG_VALUES + '''
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
np.testing.assert_equal = lambda *a, **k: None
get_ipython().showtraceback = lambda *a, **k: None
''',
}


def attack_overrides(name: str) -> dict[str, str]:
    """Overrides that put the attack in the first cell and blank the rest."""
    return {"ex1_max_pool2d": ATTACKS[name], "ex2_avg_pool2d": "", "ex3_pool_vs_conv_cost": ""}
