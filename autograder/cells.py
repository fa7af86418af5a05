"""Small helpers over nbgrader's cell metadata, so no module re-derives them.

nbgrader keeps a cell's role in ``cell.metadata.nbgrader`` (``grade``,
``solution``, ``locked``, ``grade_id``, ``points``).  A cell without it is an
ordinary cell; malformed metadata (not a mapping) counts as none.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["grade_id", "is_locked_cell", "is_solution_cell", "is_test_cell", "nbgrader_meta"]


def nbgrader_meta(cell: Mapping) -> Mapping:
    """The cell's ``metadata.nbgrader`` mapping (empty when absent or malformed)."""
    meta = (cell.get("metadata") or {}).get("nbgrader")
    return meta if isinstance(meta, Mapping) else {}


def grade_id(cell: Mapping) -> str | None:
    """The cell's nbgrader ``grade_id``, or ``None``."""
    return nbgrader_meta(cell).get("grade_id") or None


def is_test_cell(cell: Mapping) -> bool:
    """An autograder test cell: graded code that is not a solution."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_solution_cell(cell: Mapping) -> bool:
    """A cell the student writes (``solution``)."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_locked_cell(cell: Mapping) -> bool:
    """A cell the student must not change (``locked``)."""
    return bool(nbgrader_meta(cell).get("locked"))
