"""Where student code feeds test data into training: a small taint analysis for review flags.

A graded kernel only ever holds a stand-in test split (see
:mod:`autograder.heldout`), so training on ``x_test`` earns nothing; this
module says *who tried*, for the tamper report.  Test data are the names
bound to the second split of a loader call (``(a, b), (c, d) = load_mnist()``,
``data[1]`` of ``data = load_mnist()``) and every name spelled with ``test``;
any name assigned from an expression that mentions test data is test data
too, cell after cell.  A flag is raised where test data reach the data
arguments of ``fit``/``train_on_batch`` (training) or ``set_weights``/
``assign`` (weights made from it), or ``validation_data`` (model selection on
the test set).
"""

from __future__ import annotations

import ast
import re

__all__ = ["flag_test_data"]

LOADERS = {"load_mnist", "load_fashion_mnist", "load_data"}
TRAIN = {"fit", "train_on_batch", "fit_generator"}
WEIGHTS = {"set_weights", "assign"}
_TESTY = re.compile(r"test", re.IGNORECASE)


def _parse(source: str) -> ast.Module | None:
    """The cell as Python, IPython magics and shell lines blanked; ``None`` if it does not parse."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _is_loader(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in LOADERS


class _Taint:
    def __init__(self):
        self.tainted: set[str] = set()
        self.datasets: set[str] = set()  # names bound to a loader's whole result

    def mentions(self, node: ast.AST | None) -> bool:
        """Whether expression ``node`` mentions test data."""
        if node is None:
            return False
        called = {id(sub.func) for sub in ast.walk(node) if isinstance(sub, ast.Call)}
        for sub in ast.walk(node):
            if id(sub) in called:  # a function's name (train_test_split) is not data
                continue
            if isinstance(sub, ast.Name) and (sub.id in self.tainted or _TESTY.search(sub.id)):
                return True
            if (isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name)
                    and sub.value.id in self.datasets and isinstance(sub.slice, ast.Constant)
                    and sub.slice.value == 1):
                return True
            if isinstance(sub, ast.Subscript) and _is_loader(sub.value) and \
                    isinstance(sub.slice, ast.Constant) and sub.slice.value == 1:
                return True
        return False

    def bind(self, target: ast.AST, value: ast.AST | None) -> None:
        """Record what assigning ``value`` to ``target`` makes test data."""
        if value is not None and _is_loader(value):
            if isinstance(target, ast.Name):
                self.datasets.add(target.id)
            elif isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == 2:
                self.tainted.add("__test_split__")
                self.bind(target.elts[1], ast.Name(id="__test_split__"))
            return
        if value is not None and self.mentions(value):
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    self.tainted.add(sub.id)


def _call_name(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def flag_test_data(cells: list[tuple[int, str]]) -> list[str]:
    """Review flags where the student's code trains on, or builds weights from, test data."""
    taint, flags, seen = _Taint(), [], set()
    for number, source in cells:
        tree = _parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    taint.bind(target, node.value)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                taint.bind(node.target, node.value)
            elif isinstance(node, (ast.For, ast.comprehension)):
                taint.bind(node.target, node.iter)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            data_args = list(node.args) + [k.value for k in node.keywords
                                           if k.arg not in ("validation_data", "callbacks")]
            label = None
            if name in TRAIN and any(taint.mentions(a) for a in data_args):
                label = "trains on the test set"
            elif name in WEIGHTS and any(taint.mentions(a) for a in data_args):
                label = "sets model weights from the test set"
            elif name in TRAIN and any(taint.mentions(k.value) for k in node.keywords
                                       if k.arg == "validation_data"):
                label = "selects the model on the test set (validation_data)"
            if label and label not in seen:
                seen.add(label)
                line = source.splitlines()[node.lineno - 1].strip()[:80]
                flags.append(f"{label}: cell {number}, line {node.lineno}: {line}")
    return flags
