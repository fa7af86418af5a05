"""Known wrong answers and attacks on chapter 2, as solution-cell overrides."""

ANSWERS = """
from course.ch02 import QUESTION_INPUT, QUESTION_LAYERS
total_params = {params}
predict_ram_bytes = {predict}
train_ram_bytes_50 = {train}
"""

RIGHT = {"params": 903_400, "predict": 12_613_600, "train": 565_613_600}

# Figures that circulate online, each wrong; the cells they answer must lose their points.
WRONG_ANSWERS = {
    "params_6100": ({"params": 6_100}, {"test_total_params"}),
    "params_8006700": ({"params": 8_006_700}, {"test_total_params"}),
    "ram_9.6MB_480MB": ({"predict": 9_600_000, "train": 480_000_000},
                        {"test_predict_ram", "test_train_ram"}),
    "ram_7.72MB_386MB": ({"predict": 7_720_000, "train": 386_000_000},
                         {"test_predict_ram", "test_train_ram"}),
    "ram_30.8MB_1.54GB": ({"predict": 30_800_000, "train": 1_540_000_000},
                          {"test_predict_ram", "test_train_ram"}),
}


def wrong_answer_overrides(name: str) -> dict[str, str]:
    """Solution-cell overrides for one wrong-answer submission."""
    values = dict(RIGHT, **WRONG_ANSWERS[name][0])
    return {"ex7_answers": ANSWERS.format(**values)}


_ALWAYS_EQUAL = '''
class Sure(int):
    """An int that equals (and exceeds) anything."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    __hash__ = int.__hash__

def conv_output_size(n, kernel_size, strides=1, padding="valid"): return Sure(7)
def conv_params(kernel_size, in_channels, filters, use_bias=True): return Sure(7)
def cnn_output_shapes(input_shape, layers): return Sure(7)
def cnn_params(input_shape, layers): return Sure(7)
def inference_ram_bytes(input_shape, layers, dtype_bytes=4): return Sure(10**9)
def training_ram_bytes(input_shape, layers, batch_size, dtype_bytes=4): return Sure(10**10)
'''

_WRONG_FUNCS = '''
def conv_output_size(n, kernel_size, strides=1, padding="valid"): return 0
def conv_params(kernel_size, in_channels, filters, use_bias=True): return 0
def cnn_output_shapes(input_shape, layers): return []
def cnn_params(input_shape, layers): return 0
def inference_ram_bytes(input_shape, layers, dtype_bytes=4): return 0
def training_ram_bytes(input_shape, layers, batch_size, dtype_bytes=4): return 0
'''

# Each attack would beat bare nbgrader (tests check that too) and must gain
# nothing here.  The whole attack sits in the first solution cell.
ATTACKS = {
    "always_equal": _ALWAYS_EQUAL + '''
total_params = Sure(1)
predict_ram_bytes = Sure(10**9)
train_ram_bytes_50 = Sure(10**10)
''',
    "input_transformer": _WRONG_FUNCS + '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''',
    "patched_testing_and_traceback": _WRONG_FUNCS + '''
import numpy as np
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
np.testing.assert_equal = lambda *a, **k: None
get_ipython().showtraceback = lambda *a, **k: None
total_params = predict_ram_bytes = train_ram_bytes_50 = 0
''',
}


def attack_overrides(name: str) -> dict[str, str]:
    """Overrides that put the attack in the first cell and blank the rest."""
    return {"ex1_conv_output_size": ATTACKS[name], "ex2_conv_params": "", "ex3_cnn_output_shapes": "",
            "ex4_cnn_params": "", "ex5_inference_ram": "", "ex6_training_ram": "", "ex7_answers": ""}
