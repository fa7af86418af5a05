"""Make nbgrader region markers written by students inert.

:class:`DisableRegionMarkers` (same pipeline, after ``SanitizeOutputs``)
rewrites nbgrader's region markers (``BEGIN/END HIDDEN TESTS``,
``BEGIN/END SOLUTION``, ``BEGIN/END MARK SCHEME``, as configured) in every
cell that is not one of the assignment's autograder test cells, i.e. in what
the student wrote.  ``generate_feedback``'s ``ClearHiddenTests`` matches the
marker text anywhere in a line; a student's unclosed ``### BEGIN HIDDEN
TESTS`` made it raise, and no feedback was written for that student.
``### BEGIN HIDDEN TESTS`` becomes ``### BEGIN_HIDDEN_TESTS [disabled by the
grader]``.
"""

from __future__ import annotations

from collections.abc import Iterable

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions, NbGraderPreprocessor

from autograder.cells import grade_id, is_test_cell
from autograder.hidden import source_notebook

__all__ = ["DisableRegionMarkers", "disable_markers"]


def _broken(delimiter: str) -> str:
    """``delimiter`` rewritten so that no substring test finds it any more."""
    words = delimiter.split()
    joined = "_".join(words) if len(words) > 1 else f"{delimiter[:1]}_{delimiter[1:]}"
    return f"{joined} [disabled by the grader]"


def disable_markers(text: str, delimiters: Iterable[str]) -> str:
    """``text`` with every nbgrader region marker in ``delimiters`` made inert."""
    delimiters = sorted({d for d in delimiters if d}, key=len, reverse=True)
    if not any(d in text for d in delimiters):
        return text
    lines = []
    for line in text.split("\n"):
        if any(d in line for d in delimiters):
            for d in delimiters:
                line = line.replace(d, _broken(d))
            if any(d in line for d in delimiters):  # only with odd delimiters: drop the line
                line = "# [line removed by the grader: it held an nbgrader region marker]"
        lines.append(line)
    return "\n".join(lines)


class DisableRegionMarkers(NbGraderPreprocessor):
    """Make nbgrader region markers in student-written cells inert (module docstring)."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        """Learn the assignment's test cells and the configured markers, then rewrite cells."""
        source = source_notebook(self.config, resources)
        self._tests = {grade_id(c) for c in source.cells if is_test_cell(c)}
        hiding, solutions = ClearHiddenTests(config=self.config), ClearSolutions(config=self.config)
        scheme = ClearMarkScheme(config=self.config)
        self._markers = [hiding.begin_test_delimeter, hiding.end_test_delimeter,
                         solutions.begin_solution_delimeter, solutions.end_solution_delimeter,
                         scheme.begin_mark_scheme_delimeter, scheme.end_mark_scheme_delimeter]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, cell_index: int):
        """Rewrite the markers of any cell but the assignment's own test cells."""
        if is_test_cell(cell) and grade_id(cell) in self._tests:
            return cell, resources
        new = disable_markers(cell.get("source", ""), self._markers)
        if new != cell.get("source", ""):
            self.log.warning("cell %d: nbgrader region marker written by the student disabled",
                             cell_index + 1)
            cell.source = new
        return cell, resources

