"""Well-formed grade metadata before nbgrader compares a submission with its gradebook.

nbgrader trusts the nbgrader metadata of the submitted cells, which students
can change without meaning to: JupyterLab's copy and paste keeps a cell's
metadata, so a pasted answer or test cell carries the same ``grade_id`` twice.
nbgrader 0.9.6 then fails on the whole submission (``DeduplicateIds`` leaves
the earlier copy an empty ``nbgrader`` dict, and ``OverwriteCells`` with
``add_missing_cells`` reads its ``grade_id``: ``KeyError``), as it does on
other edited metadata (a renamed grade id, a solution cell marked as graded:
``MissingEntry``, a test cell marked as a solution: ``Inconsistent
checksums``).

:class:`NormalizeGradeCells` goes into ``Autograde.sanitize_preprocessors``
before ``DeduplicateIds`` and ``OverwriteCells``.  Against the gradebook (the
instructor's version of every grade, solution, locked and task cell):

* one copy of each known ``grade_id`` keeps its grade metadata: for a locked
  cell the first copy that is unedited (the gradebook's source, or its
  release version without hidden tests), for an answer cell the first copy
  that differs from the blank release version (of its own cell type first),
  else the first copy;
* the other copies, and cells whose ``grade_id`` is unknown, missing or
  malformed, lose their nbgrader metadata: they still run, as ordinary
  cells, but nothing grades them;
* the kept copy's metadata is rewritten from the gradebook (grade, solution,
  locked, task, points, cell type), so flags a student changed count for
  nothing and its cell type is put back.

nbgrader's own steps then see a well-formed notebook.  :class:`OverwriteGradeCells`
(nbgrader's ``OverwriteCells``, which restores locked sources, with
``add_missing_cells`` fixed) puts back grade cells that are missing, also where
nbgrader 0.9.6 fails (a written answer cell deleted below its locked prompt:
``KeyError``); a restored test cell counts 0 (see
:class:`autograder.preprocessors.ScoreProbes`).
The tamper report reads the submitted file itself, so what a student changed
is still reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode, from_dict
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells

from autograder import compat

compat.require()  # the private library hooks overridden below exist

SCHEMA_VERSION = 3
"""nbgrader's cell metadata schema (0.9.6)."""


@dataclass(frozen=True)
class GradeCellSpec:
    """The instructor's version of one nbgrader cell, as the gradebook holds it."""

    grade_id: str
    cell_type: str
    grade: bool
    solution: bool
    locked: bool
    task: bool
    points: float | None
    checksum: str | None
    unedited: frozenset[str]
    """Sources (stripped) of an unedited copy: the gradebook's and its release version."""

    def metadata(self) -> dict:
        """nbgrader metadata of a well-formed copy of this cell."""
        meta = {"schema_version": SCHEMA_VERSION, "grade": self.grade, "grade_id": self.grade_id,
                "locked": self.locked, "solution": self.solution, "task": self.task,
                "cell_type": self.cell_type}
        if self.grade or self.task:
            meta["points"] = self.points or 0.0
        if self.checksum:
            meta["checksum"] = self.checksum
        return meta


def gradebook_specs(db_url: str, notebook: str, assignment: str,
                    release_version: Callable[[str], str] | None = None) -> dict[str, GradeCellSpec]:
    """``{grade_id: spec}`` of every nbgrader cell of ``notebook`` in the gradebook.

    ``release_version(source)`` gives what students received of a locked
    source (hidden tests removed); by default the source itself.
    """
    release_version = release_version or (lambda source: source)
    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        points = {c.name: float(c.max_score) for c in nb.grade_cells}
        tasks = {c.name: float(c.max_score) for c in nb.task_cells}
        solutions = {c.name for c in nb.solution_cells}
        specs = {}
        for cell in nb.source_cells:
            name = cell.name
            specs[name] = GradeCellSpec(
                grade_id=name, cell_type=cell.cell_type, grade=name in points,
                solution=name in solutions, locked=bool(cell.locked), task=name in tasks,
                points=points.get(name, tasks.get(name)), checksum=cell.checksum,
                unedited=frozenset({cell.source.strip(), release_version(cell.source).strip()}))
    return specs


def normalize_grade_cells(nb: NotebookNode, specs: dict[str, GradeCellSpec]) -> list[str]:
    """Make the nbgrader metadata of ``nb`` well-formed in place; return what was changed.

    See the module docstring for the rules.
    """
    notes: list[str] = []
    copies: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if "nbgrader" not in cell.get("metadata", {}):
            continue
        meta = cell.metadata["nbgrader"]
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if isinstance(grade_id, str) and grade_id in specs:
            copies.setdefault(grade_id, []).append(index)
            continue
        del cell.metadata["nbgrader"]
        if _is_nbgrader_cell(meta):
            why = "no grade_id" if grade_id is None else f"unknown grade_id {grade_id!r}"
            notes.append(f"cell {index + 1}: {why}; graded as an ordinary cell")

    for grade_id, indices in copies.items():
        spec = specs[grade_id]
        keep = _pick(nb.cells, indices, spec)
        if len(indices) > 1:
            others = [i for i in indices if i != keep]
            notes.append(f"{grade_id} appears {len(indices)} times (cells "
                         f"{', '.join(str(i + 1) for i in indices)}): cell {keep + 1} is graded, "
                         f"the other copies run as ordinary cells")
            for i in others:
                del nb.cells[i].metadata["nbgrader"]
        cell = nb.cells[keep]
        changed = sorted(k for k in ("grade", "solution", "locked", "task", "points")
                         if _as_dict(cell.metadata["nbgrader"]).get(k) != spec.metadata().get(k))
        if changed:
            notes.append(f"{grade_id}: nbgrader metadata {', '.join(changed)} reset from the gradebook")
        if cell.cell_type != spec.cell_type:
            notes.append(f"{grade_id}: cell type {cell.cell_type} changed back to {spec.cell_type}")
            _set_cell_type(cell, spec.cell_type)
        cell.metadata["nbgrader"] = from_dict(spec.metadata())
    return notes


def _as_dict(meta) -> dict:
    return meta if isinstance(meta, dict) else {}


def _is_nbgrader_cell(meta) -> bool:
    """Whether stripped metadata made a grade, answer, locked or task cell (worth a note)."""
    return any(_as_dict(meta).get(k) for k in ("grade", "solution", "locked", "task", "grade_id"))


def _pick(cells: list, indices: list[int], spec: GradeCellSpec) -> int:
    """Which copy of a cell keeps its grade metadata (see the module docstring)."""
    if spec.locked and not spec.solution:
        for i in indices:
            if cells[i].cell_type == spec.cell_type and cells[i].source.strip() in spec.unedited:
                return i
    elif spec.solution:
        answered = [i for i in indices if cells[i].source.strip() not in spec.unedited]
        same_type = [i for i in answered if cells[i].cell_type == spec.cell_type]
        if same_type or answered:
            return (same_type or answered)[0]
    return indices[0]


def _set_cell_type(cell: NotebookNode, cell_type: str) -> None:
    """Turn ``cell`` into a valid cell of ``cell_type``, source and metadata kept."""
    cell.cell_type = cell_type
    if cell_type == "code":
        cell.pop("attachments", None)
        cell.outputs = []
        cell.execution_count = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


class NormalizeGradeCells(NbGraderPreprocessor):
    """Keep one well-formed copy of each gradebook cell; the rest become ordinary cells."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        info = resources["nbgrader"]
        hidden = ClearHiddenTests(config=self.config)
        specs = gradebook_specs(info["db_url"], info["notebook"], info["assignment"],
                                release_version=lambda source: _without_hidden_tests(hidden, source))
        for note in normalize_grade_cells(nb, specs):
            self.log.warning("%s: %s", info["notebook"], note)
        return nb, resources


def _without_hidden_tests(hidden: ClearHiddenTests, source: str) -> str:
    """``source`` as released to students (``### BEGIN/END HIDDEN TESTS`` region removed)."""
    cell = from_dict({"cell_type": "code", "source": source, "metadata": {}})
    try:
        hidden._remove_hidden_test_region(cell)
    except RuntimeError:  # unbalanced markers: nbgrader would not have released it either
        return source
    return cell.source


class OverwriteGradeCells(OverwriteCells):
    """nbgrader's ``OverwriteCells`` with deleted grade cells put back where they were.

    nbgrader 0.9.6 (``add_missing_cells``) inserts a deleted grade cell after the
    previous *source* cell of the gradebook, but looks that cell up among the
    submission's grade and answer cells only: when it is an ordinary locked cell (the
    prompt above a written answer) the whole submission fails with ``KeyError``.  Here
    the deleted cell goes after the nearest earlier gradebook cell the notebook holds
    (any kind; else before the nearest later one; else at the end), built by nbgrader's
    own ``missing_cell_transform`` (so a restored test cell still counts 0).
    """

    def add_missing_grade_cells(self, nb: NotebookNode, resources: ResourcesDict):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source = {c.name: c for c in source_nb.source_cells}
        order = list(source)
        points = {c.name: c.max_score for c in source_nb.grade_cells}
        solutions = {c.name for c in source_nb.solution_cells}
        for k, name in enumerate(order):
            if name not in points or name in _grade_ids(nb):
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", name)
            cell = self.missing_cell_transform(source[name], points[name], is_solution=name in solutions)
            nb.cells.insert(_insertion_index(nb, order, k), cell)
        return nb, resources


def _grade_ids(nb: NotebookNode) -> dict[str, int]:
    """``{grade_id: index}`` of the cells with nbgrader metadata."""
    out = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id"):
            out.setdefault(meta["grade_id"], index)
    return out


def _insertion_index(nb: NotebookNode, order: list[str], k: int) -> int:
    """Where gradebook cell ``order[k]`` belongs among the cells ``nb`` holds."""
    where = _grade_ids(nb)
    for name in reversed(order[:k]):
        if name in where:
            return where[name] + 1
    for name in order[k + 1:]:
        if name in where:
            return where[name]
    return len(nb.cells)
