"""Tiny authoring helpers for writing nbgrader source notebooks from Python.

Chapter notebooks are edited in JupyterLab like any nbgrader course; these
helpers exist so a maintainer can also (re)generate a chapter from a
reviewed Python script (``tools/chapters/chNN.py``) and keep the cell
metadata that nbgrader expects exact.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def md(text: str):
    """A plain markdown cell."""
    return new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str):
    """A plain (ungraded) code cell."""
    return new_code_cell(textwrap.dedent(text).strip())


def cell_metadata(grade_id: str, *, grade: bool, solution: bool, locked: bool, points=None, task=False):
    """nbgrader cell metadata (schema 3); ``points`` only when given."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": task}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def solution(grade_id: str, text: str):
    """An autograded-answer cell (student code between solution markers)."""
    cell = new_code_cell(textwrap.dedent(text).strip())
    cell.metadata.update(cell_metadata(grade_id, grade=False, solution=True, locked=False))
    return cell


def tests(grade_id: str, points: float, text: str):
    """An autograder-test cell (visible asserts, then hidden probes)."""
    cell = new_code_cell(textwrap.dedent(text).strip())
    cell.metadata.update(cell_metadata(grade_id, grade=True, solution=False, locked=True, points=points))
    return cell


def written(grade_id: str, points: float, text: str):
    """A manually graded markdown answer cell."""
    cell = new_markdown_cell(textwrap.dedent(text).strip())
    cell.metadata.update(cell_metadata(grade_id, grade=True, solution=True, locked=False, points=points))
    return cell


def locked_md(grade_id: str, text: str):
    """A read-only markdown cell (instructions students must not edit)."""
    cell = new_markdown_cell(textwrap.dedent(text).strip())
    cell.metadata.update(cell_metadata(grade_id, grade=False, solution=False, locked=True))
    return cell


def write(path, cells, metadata: dict | None = None) -> None:
    """Write ``cells`` as a Python 3 notebook at ``path`` (extra notebook ``metadata`` merged in)."""
    nb = new_notebook(cells=cells)
    nb.metadata.update(metadata or {})
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    nbformat.validate(nb)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
