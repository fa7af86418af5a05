"""Known wrong answers and attacks on chapter 5, as solution-cell overrides."""

from tests.notebooks.grading_checks import variant
from tests.notebooks.grading_checks import wrong_answer_batches as _pack

# --- exercise 1: lrn in numpy -------------------------------------------------------------

_LRN = '''
import numpy as np

def lrn(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    x = np.asarray(x)
    channels = x.shape[-1]
    squares = x.astype(np.float64) ** 2
    sqr_sum = np.zeros_like(squares)
    for d in range(channels):
{window}
    return (x / ({divisor}) ** {beta}).astype({dtype})
'''

_RIGHT_WINDOW = ("        lo, hi = max(0, d - depth_radius), min(channels, d + depth_radius + 1)\n"
                 "        sqr_sum[..., d] = squares[..., lo:hi].sum(axis=-1)")
_RIGHT = {"window": _RIGHT_WINDOW, "divisor": "bias + alpha * sqr_sum", "beta": "beta",
          "dtype": "np.float32"}

_lrn = variant(_LRN, _RIGHT)


LRN_RIGHT_LOOP = _lrn()
"""A correct loop-over-channels answer, different from the source solution (used as a check)."""

# --- exercise 2: the Keras layer ---------------------------------------------------------

_LAYER = '''
import keras
from keras import ops

class LocalResponseNormalization(keras.layers.Layer):
    def __init__(self, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta
{extra_init}
    def call(self, inputs):
        r = self.depth_radius
        channels = inputs.shape[-1]
        padded = ops.pad(ops.square(inputs), [[0, 0]] * 3 + [[r, r]])
        sqr_sum = sum(padded[..., i:i + channels] for i in range(2 * r + 1))
        return inputs / ops.power(self.bias + {alpha} * sqr_sum, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape
'''

_LAYER_RIGHT = {"extra_init": "", "alpha": "self.alpha"}

_layer = variant(_LAYER, _LAYER_RIGHT)


# --- exercise 3: PyTorch -> TensorFlow arguments ------------------------------------------

_TORCH = '''
def tf_args_from_torch(size, alpha=1e-4, beta=0.75, k=1.0):
{check}    return {{"depth_radius": {radius}, "bias": k, "alpha": {alpha}, "beta": beta}}
'''

_TORCH_RIGHT = {"check": "    if size % 2 == 0:\n        raise ValueError('even size')\n",
                "radius": "(size - 1) // 2", "alpha": "alpha / size"}

_torch = variant(_TORCH, _TORCH_RIGHT)


# Typical mistakes: (override of one solution cell, the test cells that must lose all their points).
WRONG_ANSWERS = {
    # exercise 1
    "lrn_alpha_over_n": ({"ex1_lrn": _lrn(divisor="bias + alpha / (2 * depth_radius + 1) * sqr_sum")},
                         {"test_lrn"}),
    "lrn_window_off_by_one": ({"ex1_lrn": _lrn(window=(
        "        lo, hi = max(0, d - depth_radius), min(channels, d + depth_radius)\n"
        "        sqr_sum[..., d] = squares[..., lo:hi].sum(axis=-1)"))}, {"test_lrn"}),
    "lrn_wraps_around": ({"ex1_lrn": _lrn(window=(
        "        idx = [(d + o) % channels for o in range(-depth_radius, depth_radius + 1)]\n"
        "        sqr_sum[..., d] = squares[..., idx].sum(axis=-1)"))}, {"test_lrn"}),
    "lrn_forgets_bias": ({"ex1_lrn": _lrn(divisor="alpha * sqr_sum")}, {"test_lrn"}),
    "lrn_sqrt_whatever_beta": ({"ex1_lrn": _lrn(beta="0.5")}, {"test_lrn"}),
    "lrn_abs_not_squares": ({"ex1_lrn": _lrn(window=(
        "        lo, hi = max(0, d - depth_radius), min(channels, d + depth_radius + 1)\n"
        "        sqr_sum[..., d] = np.abs(x[..., lo:hi]).sum(axis=-1)"))}, {"test_lrn"}),
    "lrn_returns_float64": ({"ex1_lrn": _lrn(dtype="np.float64")}, {"test_lrn"}),
    # exercise 2
    "layer_alpha_over_n": ({"ex2_layer": _layer(alpha="self.alpha / (2 * r + 1)")}, {"test_lrn_layer"}),
    "layer_trainable_alpha": ({"ex2_layer": _layer(extra_init=(
        "        self.scale = self.add_weight(shape=(), initializer='ones', name='scale')\n"))},
        {"test_lrn_layer"}),
    "layer_calls_tensorflow": ({"ex2_layer": '''
import keras
import tensorflow as tf

class LocalResponseNormalization(keras.layers.Layer):
    def __init__(self, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs):
        return tf.nn.local_response_normalization(inputs, self.depth_radius, self.bias, self.alpha,
                                                  self.beta)
'''}, {"test_lrn_layer"}),
    # exercise 3
    "torch_alpha_not_divided": ({"ex3_torch_args": _torch(alpha="alpha")}, {"test_torch_args"}),
    "torch_radius_is_size": ({"ex3_torch_args": _torch(radius="size")}, {"test_torch_args"}),
    "torch_even_size_accepted": ({"ex3_torch_args": _torch(check="", radius="size // 2")},
                                 {"test_torch_args"}),
}


def wrong_answer_overrides(name: str) -> dict[str, str]:
    """Solution-cell overrides for one wrong answer."""
    return dict(WRONG_ANSWERS[name][0])


def wrong_answer_batches() -> dict[str, tuple[list[str], dict[str, str], set[str]]]:
    """:data:`WRONG_ANSWERS` packed into few submissions (``grading_checks.wrong_answer_batches``)."""
    return _pack(WRONG_ANSWERS)


# Correct answers written differently from the source solutions: they must score full marks.
# Both in one submission (they answer different cells; the verdict names the cell that loses points).
RIGHT_VARIANTS = {
    "lrn_loop_float64_layer_auto_config": {"ex1_lrn": LRN_RIGHT_LOOP, "ex2_layer": _layer()},
}

_ALWAYS_EQUAL = '''
import numpy as np

class Sure(np.ndarray):
    """An array that equals anything: np.testing.assert_allclose and np.allclose believe it."""
    def __eq__(self, other):
        return np.ones(np.broadcast_shapes(self.shape, np.shape(other)), dtype=bool)
    def __ne__(self, other):
        return np.zeros(np.broadcast_shapes(self.shape, np.shape(other)), dtype=bool)

def lrn(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    return np.zeros_like(np.asarray(x, dtype=np.float32)).view(Sure)
'''

_WRONG_LRN = '''
import numpy as np

def lrn(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    return np.asarray(x, dtype=np.float32).copy()
'''

# Each attack beats bare nbgrader (tests check that too) and must gain nothing here.
# The whole attack sits in the first solution cell; the other answers are left blank.
ATTACKS = {
    "always_equal_array": _ALWAYS_EQUAL,
    "input_transformer": _WRONG_LRN + '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''',
    "patched_testing_and_traceback": _WRONG_LRN + '''
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
get_ipython().showtraceback = lambda *a, **k: None
''',
}


def attack_overrides(name: str) -> dict[str, str]:
    """Overrides that put the attack in the first cell and blank the rest."""
    return {"ex1_lrn": ATTACKS[name], "ex2_layer": "", "ex3_torch_args": ""}
