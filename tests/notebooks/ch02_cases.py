"""Known wrong answers and attacks on chapter 2, as solution-cell overrides."""

ANSWERS = """
from course.ch02 import DTYPE_BYTES, QUESTION_INPUT, QUESTION_LAYERS, VARIANT_DTYPE, VARIANT_INPUT, VARIANT_LAYERS
B = DTYPE_BYTES[VARIANT_DTYPE]
total_params = {params}
predict_ram_bytes = {predict}
train_ram_bytes_50 = {train}
"""

# Exercise 7 (the follow-up question), answered right with the student's own functions.
RIGHT = {"params": "cnn_params(VARIANT_INPUT, VARIANT_LAYERS)",
         "predict": "inference_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS, B)",
         "train": "training_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS, 50, B)"}

# Mistakes on exercise 7; the cells they answer must lose their points.
WRONG_ANSWERS = {
    # The question's own figures, worked out in the lesson, copied instead of the follow-up's.
    "copied_question_totals": ({"params": "903_400", "predict": "12_613_600", "train": "565_613_600"},
                               {"test_total_params", "test_predict_ram", "test_train_ram"}),
    # A parameter count that circulates online for the question.
    "params_6100": ({"params": "6_100"}, {"test_total_params"}),
    # 32-bit floats although the follow-up asks for 16-bit ones: both RAM figures doubled.
    "float32_not_float16": ({"predict": "inference_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS)",
                             "train": "training_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS, 50)"},
                            {"test_predict_ram", "test_train_ram"}),
    # Training memory of one image instead of the mini-batch of 50.
    "train_batch_of_one": ({"train": "training_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS, 1, B)"},
                           {"test_train_ram"}),
    # Megabytes where bytes are asked for.
    "ram_in_megabytes": ({"predict": "inference_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS, B) / 1e6"},
                         {"test_predict_ram"}),
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
