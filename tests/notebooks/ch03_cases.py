"""Known wrong answers and attacks on chapter 3, as solution-cell overrides.

A wrong answer is the source solution with one typical mistake edited in (each edit is
checked to apply, so the cases fail loudly if the solution text changes).  It lists the
autograded cells that must lose all their points; every other cell keeps full marks.
"""

from __future__ import annotations

from tests.notebooks.submissions import solved_sources

A = "ch03_gpu_memory"

TM = {"test_training_memory", "test_memory_dense_head", "test_memory_mixed_precision",
      "test_memory_dtypes_optimizers", "test_memory_checkpointing"}
EX3 = {"test_remedy_totals", "test_remedy_batches"}

# name: (solution cell, [(old, new), ...], cells that must score 0)
WRONG_ANSWERS = {
    # Chapter 2's bound: gradients forgotten.
    "forget_gradients": ("ex1_training_memory",
                         [('"gradients": param_bytes,', '"gradients": 0,')], TM | EX3),
    # Activations counted for one image instead of the whole batch.
    "activations_for_one_image": ("ex1_training_memory",
                                  [('"activations": batch_size * per_image * act_bytes',
                                    '"activations": per_image * act_bytes')], TM | EX3),
    # "16-bit" read as "every number in 16 bits": mixed precision halving the weights too.
    "mixed_precision_halves_weights": ("ex1_training_memory",
                                       [('"mixed_float16": (4, 2), "mixed_bfloat16": (4, 2)',
                                         '"mixed_float16": (2, 2), "mixed_bfloat16": (2, 2)')],
                                       {"test_memory_mixed_precision"} | EX3),
    # The dtype argument ignored: always 4 bytes.
    "dtype_ignored": ("ex1_training_memory",
                      [("var_bytes, act_bytes = sizes[dtype]", "var_bytes, act_bytes = 4, 4")],
                      {"test_memory_mixed_precision", "test_memory_dtypes_optimizers"} | EX3),
    # Every optimizer treated like Adam.
    "optimizer_ignored": ("ex1_training_memory",
                          [('"optimizer_state": slots[optimizer] * param_bytes',
                            '"optimizer_state": 2 * param_bytes')],
                          {"test_memory_dtypes_optimizers"}),
    # The Flatten output counted as one more activation.
    "flatten_counted": ("ex1_training_memory",
                        [("    fan_in = h * w * c\n",
                          ("    fan_in = h * w * c\n    if dense_units:\n"
                           "        outputs.append(fan_in)\n"))],
                        {"test_memory_dense_head"} | EX3),
    # checkpointing=True ignored.
    "checkpointing_ignored": ("ex1_training_memory", [("if checkpointing:", "if False:")],
                              {"test_memory_checkpointing"} | EX3),
    # Only the checkpoints counted, not the segment being recomputed.
    "checkpoints_without_segment": ("ex1_training_memory",
                                    [("per_image = kept + max(segments)", "per_image = kept")],
                                    {"test_memory_checkpointing"} | EX3),
    # The first batch that does NOT fit.
    "largest_batch_off_by_one": ("ex2_largest_batch",
                                 [("return int((budget_bytes - fixed) // per_image)",
                                   "return int((budget_bytes - fixed) // per_image) + 1")],
                                 {"test_largest_batch", "test_remedy_batches"}),
    # Two GPUs, but each holding the whole batch.
    "two_gpus_full_batch": ("ex3_remedies",
                            [('"two_gpus": _variant(batch_size=SCENARIO["batch_size"] // 2),',
                              '"two_gpus": _variant(),')],
                            {"test_remedy_totals"}),
}


def wrong_answer_overrides(name: str) -> dict[str, str]:
    """Solution-cell overrides for one wrong-answer submission."""
    cell, edits, _ = WRONG_ANSWERS[name]
    text = solved_sources(A)[cell]
    for old, new in edits:
        assert text.count(old) == 1, f"{name}: {old!r} is not in the solution of {cell} exactly once"
        text = text.replace(old, new)
    return {cell: text}


_ALWAYS_EQUAL = '''
class Sure(int):
    """An int that equals, exceeds and undercuts anything."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    __hash__ = int.__hash__

class SureDict(dict):
    """A dict that equals anything."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False

_KEYS = ("params", "gradients", "optimizer_state", "activations", "inputs", "total")

def training_memory(input_shape, layers, batch_size, dense_units=(), dtype="float32",
                    optimizer="adam", checkpointing=False):
    return SureDict({k: Sure(7) for k in _KEYS})

def largest_batch(budget_bytes, estimator, **spec):
    return Sure(7)

from course.ch03 import REMEDIES, SCENARIO
remedy_totals = SureDict({k: Sure(1) for k in REMEDIES})
remedy_batches = SureDict({k: Sure(1) for k in REMEDIES if k != "halve_batch"})
'''

_WRONG_FUNCS = '''
def training_memory(input_shape, layers, batch_size, dense_units=(), dtype="float32",
                    optimizer="adam", checkpointing=False):
    return {}
def largest_batch(budget_bytes, estimator, **spec):
    return 0
from course.ch03 import SCENARIO
remedy_totals, remedy_batches = {}, {}
'''

# Each attack would beat bare nbgrader (tests check that too) and must gain
# nothing here.  The whole attack sits in the first solution cell.
ATTACKS = {
    "always_equal": _ALWAYS_EQUAL,
    "input_transformer": _WRONG_FUNCS + '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''',
    # Answers the visible tests by lookup, anything else with nonsense.
    "hardcoded_visible_answers": _WRONG_FUNCS + '''
_SEEN = {(8 * 10**9, 420_446_880, 14_854_184): 510, (10**6, 420_446_880, 14_854_184): 0,
         (1000, 100, 300): 3, (999, 100, 300): 2}
def largest_batch(budget_bytes, estimator, **spec):
    return _SEEN.get((budget_bytes, spec.get("fixed"), spec.get("per_image")), -1)
''',
}


def attack_overrides(name: str) -> dict[str, str]:
    """Overrides that put the attack in the first cell and blank the rest."""
    return {"ex1_training_memory": ATTACKS[name], "ex2_largest_batch": "", "ex3_remedies": ""}
