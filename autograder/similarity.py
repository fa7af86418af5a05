"""Similarity of the code students wrote, with copydetect (winnowing fingerprints, as MOSS).

Only the answer cells count: from each submitted notebook the code of its
solution cells (nbgrader ``solution: true``), and the release notebook's
code in those cells is given to copydetect as boilerplate, so the scaffolding
every student starts from never makes two submissions look alike.  The result
is a list of pairs for the instructor to look at; it is a flag, never a score.
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.cells import is_solution_cell
from autograder.layout import CourseLayout

__all__ = ["DISPLAY_THRESHOLD", "SimilarPair", "answer_code", "similar_pairs"]

DISPLAY_THRESHOLD = 0.5
"""Share of a submission's answer code found in another's, from which a pair is listed."""


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions whose answer code overlaps (``similarity``: the larger of the two shares)."""

    first: str
    second: str
    similarity: float
    first_html: str  # the first student's answer code, shared lines highlighted
    second_html: str


def answer_code(notebook: Path) -> str:
    """The code of the solution cells of ``notebook``, one block per cell ('' if unreadable)."""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # noqa: BLE001 - a corrupt submission simply has no code to compare
        return ""
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "code" and is_solution_cell(c))


def similar_pairs(root: Path, assignment: str, students: list[str],
                  threshold: float = DISPLAY_THRESHOLD) -> list[SimilarPair]:
    """Pairs of ``students`` whose answer code for ``assignment`` overlaps by ``threshold`` or more."""
    from copydetect import CopyDetector

    layout = CourseLayout.at(root)
    with tempfile.TemporaryDirectory(prefix="cnn-course-similarity-") as tmp:
        code_dir, boiler_dir = Path(tmp, "code"), Path(tmp, "boilerplate")
        code_dir.mkdir()
        boiler_dir.mkdir()
        for notebook in sorted(layout.release_dir(assignment).glob("*.ipynb")):
            (boiler_dir / f"{notebook.stem}.py").write_text(answer_code(notebook))
            for student in students:
                code = answer_code(layout.submitted_notebook(assignment, student, notebook.stem))
                if code.strip():
                    with (code_dir / f"{student}.py").open("a") as out:
                        out.write(code + "\n")
        if len(list(code_dir.iterdir())) < 2:
            return []
        detector = CopyDetector(test_dirs=[str(code_dir)], boilerplate_dirs=[str(boiler_dir)],
                                extensions=["py"], display_t=threshold, autoopen=False, silent=True,
                                out_file=str(Path(tmp, "copydetect.html")))
        detector.run()
        pairs = {}
        for test_sim, ref_sim, test_file, ref_file, test_html, ref_html, _ in detector.get_copied_code_list():
            a, b = Path(test_file).stem, Path(ref_file).stem
            key = tuple(sorted((a, b)))
            if key not in pairs:
                first_html, second_html = (test_html, ref_html) if a == key[0] else (ref_html, test_html)
                pairs[key] = SimilarPair(key[0], key[1], float(max(test_sim, ref_sim)),
                                         first_html, second_html)
    return sorted(pairs.values(), key=lambda p: -p.similarity)


def pair_html(pair: SimilarPair) -> str:
    """Both students' code side by side, shared parts highlighted (copydetect's markup)."""
    return (f"<div class='pair'><h4>{html.escape(pair.first)} &harr; {html.escape(pair.second)}: "
            f"{pair.similarity:.0%}</h4><table><tr><td><pre>{pair.first_html}</pre></td>"
            f"<td><pre>{pair.second_html}</pre></td></tr></table></div>")
