"""The benchmarks measure what the notebooks do."""

from __future__ import annotations

import ast
import textwrap

import nbformat

from bench.ch09_time_to_accuracy import RECIPE, SOURCE


def test_ch09_bench_mirrors_the_notebooks_training_budget():
    nb = nbformat.read(SOURCE, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex3_train")
    values = {}
    for node in ast.parse(textwrap.dedent(cell.source)).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript):
            name = node.targets[0].id
            if name in ("EPOCHS", "WIDTH"):
                values[name] = ast.literal_eval(node.value.value)
    for profile, recipe in RECIPE.items():
        assert values["EPOCHS"][profile] == recipe["epochs"], profile
        assert values["WIDTH"][profile] == recipe["width"], profile
