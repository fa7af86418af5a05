"""Tamper report: what a submission changed or tried, for manual review.

Scores never depend on this report (the probe protocol already makes these
tricks worthless); it tells the instructor who tried what.  Two sources:

* cells compared with the course's ``release/`` copy (deleted or edited
  locked cells, changed metadata such as points or grade ids), the cells
  nbgrader restores from its gradebook before grading;
* student code scanned for patterns that tamper with the kernel or the
  grader: monkeypatching modules, builtins or test helpers, IPython input and
  AST transformers and event hooks, tracing and exit hooks, hard exits
  (IPython's ``exit()`` included), signal handlers, network and subprocess
  use, paths outside the submission, symbolic links, imitations of probe
  records and reading the cell history (where hidden test code can be read).

Only code the student wrote is scanned: every code cell of the submitted
notebook but the release's locked cells as released (instructor code).  Flags name the cell by its
number in the submitted notebook (1 = its first cell, markdown included).

:class:`ReportTampering` is an nbgrader preprocessor for the autograde
pipeline (after ``SaveAutoGrades``): it writes
``.grading/reports/ASSIGNMENT/STUDENT.json`` and puts the flags in the
formgrader comment of the notebook's first answer cell.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.cells import grade_id, is_locked_cell, is_solution_cell, nbgrader_meta
from autograder.dataflow import flag_test_data
from autograder.layout import CourseLayout

PATTERNS: list[tuple[str, str]] = [
    ("IPython input transformer",
     r"input_transformers_(cleanup|post)|input_transformer_manager|ast_transformers"),
    ("IPython event hook", r"events\.register|register_magic|set_custom_exc|showtraceback\s*="),
    ("tracing or profiling hook", r"sys\.(settrace|setprofile)|threading\.(settrace|setprofile)"),
    ("exit hook or hard exit", (r"atexit\.|os\._exit|sys\.exit|os\.kill|signal\.(signal|alarm)"
                                r"|(?m:^)[ \t]*(exit|quit)[ \t]*\(|\bask_exit\b|raise\s+SystemExit")),
    ("builtins patched", r"(__builtins__|builtins)\s*(\.\w+|\[[^\]]+\])\s*=|setattr\(\s*builtins"),
    ("module attribute patched", (r"\b(np|numpy|math|keras|tf|course|json|IPython|sys|os)"
                                 r"(\.\w+)+\s*=[^=]")),
    ("setattr on a module", r"setattr\(\s*(np|numpy|math|keras|tf|course|json|sys|os)\b"),
    ("comparison override", r"def\s+__(eq|ne|lt|gt|le|ge|hash|bool|float|int)__"),
    ("network or subprocess", (r"\b(socket|urllib|requests|http\.client|subprocess|os\.system|"
                              r"os\.popen|pty)\b")),
    # An absolute path with at least one name in it, or a parent reference ('/' alone is a separator).
    ("path outside the submission", r"['\"](/(?!tmp\b)[\w.-]|\.\./)[^'\"]*['\"]"),
    ("grader files", r"gradebook|\.grading|source/|autograder"),
    ("fork", r"os\.fork|multiprocessing"),
    ("probe imitation", (r"publish_display_data|vnd\.cnn-course\.probe|\bPROBE_MIME\b"
                         r"|['\"]records['\"]\s*:")),
    ("symbolic link", r"\bos\.symlink\b|\.symlink_to\s*\("),
    ("loads a saved model or data file",
     (r"\b(load_model|load_weights)\s*\(|\bsaving\.load|\b(np|numpy)\.load\s*\(|\bpickle\.loads?\s*\("
     r"|\btorch\.load\b|\bjoblib\b")),
    ("decodes embedded data", (r"\bb(64|32|16|85)decode\b|\ba85decode\b|\bbase64\b|\bzlib\.decompress"
                               r"|\blzma\.|\bbz2\.|\bbytes\.fromhex|\bfrombuffer\s*\(")),
    ("reads a data set file directly", (r"mnist\.(pkl|npz)|t10k-|train-images|/usr/share/datasets"
                                        r"|fashion-mnist/|keras/datasets|find_spec\(\s*['\"]mnist")),
    ("reads the cell history", (r"\bIn\s*\[|['\"](In|_ih)['\"]|\b(_ih|_ii|_iii|_i\d+)\b|\braw_cell\b"
                                r"|history_manager|\blinecache\b")),
]


def scan_code(cells: list[tuple[int, str]]) -> list[str]:
    """Pattern flags found in student code, each with its cell number, line and an excerpt.

    ``cells`` holds ``(cell number, source)`` pairs (see :func:`student_code`);
    each pattern is reported once, at its first match.
    """
    flags = []
    for label, pattern in PATTERNS:
        for number, source in cells:
            match = re.search(pattern, source)
            if match:
                line = source[: match.start()].count("\n") + 1
                excerpt = source.splitlines()[line - 1].strip()[:80]
                flags.append(f"{label}: cell {number}, line {line}: {excerpt}")
                break
    return flags


def student_code(submitted: NotebookNode, released: NotebookNode | None) -> list[tuple[int, str]]:
    """``(cell number, source)`` of the code cells of ``submitted`` that the student wrote.

    Cell numbers count every cell of ``submitted`` from 1.  Left out: the
    release's locked cells as released (same grade id, same code), which hold
    instructor code.  A locked cell the student edited is kept (its edit is
    also reported by :func:`locked_cell_flags`), and so is a copy of one.
    Without a release copy, cells the submission marks as locked are left out.
    """
    locked = {}
    if released is not None:
        locked = {grade_id(c): c.source.strip() for c in released.cells if is_locked_cell(c)}

    def instructors(cell) -> bool:
        if released is None:
            return is_locked_cell(cell)
        gid = grade_id(cell)
        return gid in locked and cell.source.strip() == locked[gid]

    return [(i + 1, c.source) for i, c in enumerate(submitted.cells)
            if c.cell_type == "code" and not instructors(c)]


def locked_cell_flags(submitted: NotebookNode, released: NotebookNode) -> list[str]:
    """Deleted, edited or duplicated grade cells and changed grade metadata, against the release."""
    by_id, copies = {}, Counter()
    for cell in submitted.cells:
        gid = grade_id(cell)
        if gid:
            by_id[gid] = cell
            copies[gid] += 1
    flags = [f"cell {gid} appears {n} times: one copy is graded, the others run as ordinary cells"
             for gid, n in copies.items() if n > 1]
    for ref in released.cells:
        ref_meta = nbgrader_meta(ref)
        gid = ref_meta.get("grade_id")
        if not gid:
            continue
        cell = by_id.get(gid)
        if cell is None:
            if ref_meta.get("locked") or ref_meta.get("grade"):
                flags.append(f"cell {gid} was deleted")
            continue
        meta = nbgrader_meta(cell)
        if ref_meta.get("locked") and cell.source.strip() != ref.source.strip():
            flags.append(f"locked cell {gid} was edited")
        for key in ("points", "grade", "solution", "locked", "task"):
            if meta.get(key) != ref_meta.get(key):
                flags.append(f"metadata of {gid} changed: {key} {ref_meta.get(key)!r} -> "
                             f"{meta.get(key)!r}")
        if cell.cell_type != ref.cell_type:
            flags.append(f"cell {gid} changed type to {cell.cell_type}")
    return flags


def read_flags(course_root: Path, assignment: str, student: str) -> list[str]:
    """Flags of one submission ([] when none were reported)."""
    path = CourseLayout.at(course_root).report(assignment, student)
    return json.loads(path.read_text())["flags"] if path.exists() else []


class ReportTampering(NbGraderPreprocessor):
    """Write each submission's tamper flags to a report and a formgrader comment."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        """Scan the *submitted* notebook (before nbgrader restored anything)."""
        info = resources["nbgrader"]
        layout = CourseLayout.from_config(self.config)
        student, assignment, notebook = info["student"], info["assignment"], info["notebook"]
        submitted = layout.submitted_notebook(assignment, student, notebook)
        try:
            original = nbformat.read(submitted, as_version=4)
        except Exception as exc:  # noqa: BLE001 - any unreadable notebook is itself a flag
            flags = [f"submitted notebook unreadable: {exc}"]
        else:
            release = layout.release_notebook(assignment, notebook)
            released = nbformat.read(release, as_version=4) if release.exists() else None
            code = student_code(original, released)
            flags = scan_code(code) + flag_test_data(code)
            if released is not None:
                flags += locked_cell_flags(original, released)
            else:
                flags.append(f"no release copy at {release} to compare locked cells with")
            found = resources.get("cnn_course", {}).get("findings")
            flags += list(getattr(found, "flags", []))
            with Gradebook(layout.coursedir.db_url) as gb:
                self._comment(gb, nb, notebook, assignment, student, flags)
        path = layout.report(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The hidden cases' outcomes (ScoreProbes) go along for the instructor's item analysis.
        cases = resources.get("cnn_course", {}).get("cases", {})
        path.write_text(json.dumps({"student": student, "notebook": notebook, "flags": flags,
                                    "cases": cases}, indent=1))
        for flag in flags:
            self.log.warning("tamper flag for %s: %s", student, flag)
        return nb, resources

    @staticmethod
    def _comment(gb, nb, notebook, assignment, student, flags) -> None:
        """Put the flags in the auto comment of the first answer cell (seen in formgrader)."""
        if not flags:
            return
        for cell in nb.cells:
            if is_solution_cell(cell):
                comment = gb.find_comment(grade_id(cell), notebook, assignment, student)
                note = "Review flags (automatic): " + "; ".join(flags)
                comment.auto_comment = (f"{comment.auto_comment}\n{note}" if comment.auto_comment
                                        else note)
                gb.db.commit()
                return
