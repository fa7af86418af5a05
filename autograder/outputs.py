"""Make every output of a graded notebook safe to show the student.

nbgrader keeps hidden tests out of the feedback by deleting them from cell
*sources* (``ClearHiddenTests``) and bounds outputs by their number of lines
(``LimitOutput``).  Neither looks at what the outputs say or how much they
weigh, and student code runs in the kernel that runs the hidden tests: a
function called by a hidden test can print ``get_ipython().user_ns["In"][-1]``
(the hidden test's code), a ``pre_run_cell`` hook can print ``info.raw_cell``
at once or cells later, an exception message, an HTML display or a widget's
state can carry it; and one ``print`` can weigh 120 MB, which then sits in
the graded notebook and in the feedback page.

:class:`SanitizeOutputs` goes into ``Autograde.autograde_preprocessors`` after
``ScoreProbes`` and before ``SaveAutoGrades`` (so the graded notebook that
formgrader and ``generate_feedback`` read is already safe).  For every code
cell it:

1. **removes hidden test code**.  The lines inside ``### BEGIN HIDDEN TESTS``
   ... ``### END HIDDEN TESTS`` regions of the assignment's trusted
   ``source/`` notebook (found like ``ScoreProbes`` finds it) are compared,
   whitespace, backslashes, quote style, ANSI colours, HTML entities and
   invisible characters ignored, with every output: stream text, error
   name/value/traceback, every MIME entry of a display (``text/plain``,
   ``text/html``, JSON, even image payloads, which the page embeds as text),
   output metadata and the notebook's widget state.  An output holding one
   of them is replaced by a short note.  Lines shorter than
   :attr:`SanitizeOutputs.min_hidden_line_chars` (12 characters once
   whitespace is removed) are not looked for: ``)``, ``else:``,
   ``continue``, ``return cases``, ``cases = []`` occur in any program and
   would remove honest output, while what a hidden test must keep secret
   (seeds, hidden inputs, probe calls) is longer; lines that also occur
   outside the hidden regions of the source (narrative, visible tests,
   solutions) are public and not looked for either.  In an autograder test
   cell the lines of ``ScoreProbes``' verdict (``Hidden checks: ...``,
   ``  - ...``, ``  note: ...``) that are themselves clean are kept after
   the note, so the student still reads why the cell scored what it did.
2. **caps sizes**: each text (stream, error, ``text/plain``) keeps its first
   and last :attr:`~SanitizeOutputs.max_output_chars` / 2 characters around a
   note; any other textual MIME entry above that size (HTML, JSON, ... which
   cannot be cut safely) and any image or binary payload above
   :attr:`~SanitizeOutputs.max_binary_bytes` is dropped with a note; a
   cell's outputs beyond :attr:`~SanitizeOutputs.max_cell_chars` of text or
   :attr:`~SanitizeOutputs.max_cell_bytes` in all, and the notebook's beyond
   :attr:`~SanitizeOutputs.max_notebook_bytes`, are dropped with a note.

Grades never change: what nbgrader's ``determine_grade`` reads is kept.  An
error stays an error, a ``stderr`` stream stays ``stderr``, an
``execute_result`` keeps a numeric ``text/plain`` (partial credit) with the
same value and a non-numeric one stays non-numeric; when a cell's outputs
are cut, the first of those deciding outputs is kept in a short form.

A text filter cannot recognise hidden code that student code re-encodes
(base64, reversed, one character per line): the tamper report flags reading
the cell history (``In[``, ``_ih``, ``raw_cell``, ``linecache``), which such
a leak starts with.

Hidden-code detection lives in :mod:`autograder.hidden`; nbgrader region markers
written by students are made inert by :mod:`autograder.markers`.
"""


from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode, from_dict
from nbgrader.preprocessors import (
    ClearHiddenTests,
    NbGraderPreprocessor,
)
from traitlets import Integer

from autograder.cells import is_test_cell
from autograder.hidden import HiddenCode, source_notebook

__all__ = ["HIDDEN_NOTE", "Limits", "OutputSanitizer", "SanitizeOutputs"]

HIDDEN_NOTE = "[output removed by the grader: it contained hidden test code]"
"""What replaces an output (or a stream's text) that showed hidden test code."""

REMOVED_ENAME = "OutputRemoved"
"""``ename`` of an error output whose own name showed hidden test code."""

# Lines ScoreProbes writes into a test cell's stdout (autograder.scoring.verdict_outputs).
VERDICT_LINE = re.compile(
    r"Hidden checks: [\d.e+]+ of \d+ case\(s\) passed -> [\d.e+]+ of [\d.e+]+ point\(s\)\."
    r"|  - .+|  \.\.\. and \d+ more failing case\(s\)|  note: .+|Visible test failed: .+")

_BINARY_MIMES = ("application/pdf", "application/octet-stream", "application/zip")


@dataclass(frozen=True)
class Limits:
    """Size limits, in characters as stored in the notebook (base64 for binary payloads)."""

    output_chars: int = 20_000
    cell_chars: int = 100_000
    binary_bytes: int = 2_000_000
    cell_bytes: int = 5_000_000
    notebook_bytes: int = 20_000_000


def _as_text(value: Any) -> str:
    """A MIME value or stream text as one string (lists of lines joined, JSON dumped)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _is_binary(mime: str) -> bool:
    """Images (SVG included), audio, video and other payloads: dropped when too large, never cut."""
    return mime.startswith(("image/", "audio/", "video/", "font/")) or mime in _BINARY_MIMES


def _number(text: str) -> float | None:
    """``text`` as nbgrader's partial-credit rule reads it (``float(text)``), or None."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _stream(name: str, text: str) -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def _decisive(output: dict) -> bool:
    """Whether nbgrader's ``determine_grade`` stops at this output (error, stderr, execute_result)."""
    kind = output.get("output_type")
    return kind in ("error", "execute_result") or (kind == "stream" and output.get("name") == "stderr")


def cap_text(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters: its head and tail around a note."""
    if len(text) <= limit:
        return text
    head = limit // 2
    tail = limit - head
    removed = len(text) - head - tail
    return (f"{text[:head]}\n... [{removed:,} characters removed by the grader: output too long] "
            f"...\n{text[len(text) - tail:]}")


def _sizes(output: dict) -> tuple[int, int]:
    """(text characters, all characters) an output holds."""
    kind = output.get("output_type")
    if kind == "stream":
        n = len(_as_text(output.get("text", "")))
        return n, n
    if kind == "error":
        n = (len(str(output.get("ename", ""))) + len(str(output.get("evalue", "")))
             + sum(len(str(t)) for t in output.get("traceback", [])))
        return n, n
    text = total = len(_as_text(output.get("metadata", {}))) if output.get("metadata") else 0
    for mime, value in output.get("data", {}).items():
        n = len(_as_text(value))
        total += n
        if not _is_binary(mime):
            text += n
    return text, total


class OutputSanitizer:
    """Sanitize the outputs of one notebook, cell by cell (see the module docstring)."""

    def __init__(self, hidden: HiddenCode, limits: Limits | None = None):
        self.hidden = hidden
        self.limits = limits or Limits()
        self.notebook_used = 0
        self.hidden_removed = 0
        self.size_removed = 0

    # ---------------------------------------------------------------- one output

    def output(self, output: dict, test_cell: bool = False) -> list[dict]:
        """The outputs that replace ``output`` (one, or a note stream then one)."""
        kind = output.get("output_type")
        if kind == "stream":
            return [self._stream(output, test_cell)]
        if kind == "error":
            return [self._error(output)]
        if kind in ("display_data", "execute_result"):
            return self._display(output)
        self.size_removed += 1
        return [_stream("stdout", f"[an output of unknown type {str(kind)[:40]!r} was removed by "
                                  "the grader]\n")]

    def _stream(self, output: dict, test_cell: bool) -> dict:
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        raw = _as_text(output.get("text", ""))
        text = cap_text(raw, self.limits.output_chars)
        if text is not raw:
            self.size_removed += 1
        if self.hidden.found_in(text):
            self.hidden_removed += 1
            kept = [line for line in text.splitlines() if test_cell and VERDICT_LINE.fullmatch(line)
                    and not self.hidden.found_in(line)]
            text = "\n".join([HIDDEN_NOTE, *kept]) + "\n"
        return _stream(name, text)

    def _error(self, output: dict) -> dict:
        limit = self.limits.output_chars
        ename = str(output.get("ename", ""))[:200]
        evalue = cap_text(str(output.get("evalue", "")), limit)
        lines = [str(t) for t in output.get("traceback", [])]
        joined = "\n".join(lines)
        traceback = cap_text(joined, limit)
        if any(self.hidden.found_in(t) for t in (ename, evalue, traceback)):
            self.hidden_removed += 1
            if self.hidden.found_in(ename) or not ename.isidentifier():
                ename = REMOVED_ENAME
            return {"output_type": "error", "ename": ename, "evalue": HIDDEN_NOTE,
                    "traceback": [f"{ename}: {HIDDEN_NOTE}"]}
        if evalue is not output.get("evalue") or traceback is not joined:
            self.size_removed += 1
        return {"output_type": "error", "ename": ename, "evalue": evalue,
                "traceback": lines if traceback is joined else [traceback]}

    def _display(self, output: dict) -> list[dict]:
        limit, notes, hidden = self.limits.output_chars, [], False
        kind = output.get("output_type")
        data: dict[str, Any] = {}
        for mime, value in output.get("data", {}).items():
            text = _as_text(value)
            if kind == "execute_result" and mime == "text/plain" and _number(text) is not None:
                # nbgrader's partial credit: keep the number (the same value when shortened)
                data[mime] = text if len(text) <= 100 else repr(float(text))
                continue
            if _is_binary(mime) and len(text) > self.limits.binary_bytes:
                notes.append(f"[{mime} output of {len(text):,} bytes removed by the grader: "
                             f"larger than {self.limits.binary_bytes:,} bytes]")
                continue
            if not _is_binary(mime) and len(text) > limit:
                if mime != "text/plain":  # HTML, JSON, JavaScript... cannot be cut safely
                    notes.append(f"[{mime} output of {len(text):,} characters removed by the "
                                 f"grader: longer than {limit:,}]")
                    continue
                value = text = cap_text(text, limit)
                self.size_removed += 1
            if self.hidden.found_in(text):
                hidden = True
                continue
            data[mime] = value
        if hidden:
            self.hidden_removed += 1
            notes.insert(0, HIDDEN_NOTE)
            if kind == "execute_result" and "text/plain" in output.get("data", {}):
                data.setdefault("text/plain", HIDDEN_NOTE)  # not a number, as before
        self.size_removed += len(notes) - hidden
        metadata = output.get("metadata") or {}
        if metadata:
            meta_text = _as_text(metadata)
            if len(meta_text) > limit or self.hidden.found_in(meta_text):
                metadata = {}
        result = [_stream("stdout", "\n".join(notes) + "\n")] if notes else []
        if kind == "execute_result":
            result.append({"output_type": "execute_result", "data": data, "metadata": metadata,
                           "execution_count": output.get("execution_count")})
        elif data:
            result.append({"output_type": "display_data", "data": data, "metadata": metadata})
        return result

    # ---------------------------------------------------------------- one cell

    def cell(self, outputs: Iterable[dict], test_cell: bool = False) -> list[dict]:
        """The sanitized outputs of one code cell, within the cell and notebook budgets."""
        cleaned = [new for output in outputs for new in self.output(output, test_cell)]
        kept: list[dict] = []
        text_used = bytes_used = dropped = 0
        decided = False
        for i, output in enumerate(cleaned):
            text, total = _sizes(output)
            if (text_used + text <= self.limits.cell_chars
                    and bytes_used + total <= self.limits.cell_bytes
                    and self.notebook_used + total <= self.limits.notebook_bytes):
                kept.append(output)
                text_used, bytes_used = text_used + text, bytes_used + total
                self.notebook_used += total
                decided = decided or _decisive(output)
                continue
            for rest in cleaned[i:]:  # over budget: keep only what decides the grade
                if _decisive(rest) and not decided:
                    kept.append(self._short(rest))
                    decided = True
                else:
                    dropped += 1
            break
        if dropped:
            self.size_removed += dropped
            kept.append(_stream("stdout", f"[{dropped} more output(s) removed by the grader: the "
                                          "outputs of this cell (or notebook) were too large]\n"))
        return kept

    @staticmethod
    def _short(output: dict) -> dict:
        """A few hundred characters that decide the grade as ``output`` does."""
        kind = output.get("output_type")
        if kind == "error":
            ename = str(output.get("ename", ""))[:100]
            evalue = cap_text(str(output.get("evalue", "")), 500)
            return {"output_type": "error", "ename": ename, "evalue": evalue,
                    "traceback": [f"{ename}: {evalue}"]}
        if kind == "stream":
            return _stream("stderr", "[error output removed by the grader: the outputs of this "
                                     "cell were too large]\n")
        data = output.get("data", {})
        text = _as_text(data.get("text/plain", ""))
        number = _number(text)
        short = {} if "text/plain" not in data else {
            "text/plain": ((text if len(text) <= 100 else repr(number)) if number is not None
                           else "[output removed by the grader: too large]")}
        return {"output_type": "execute_result", "data": short, "metadata": {},
                "execution_count": output.get("execution_count")}

    # ---------------------------------------------------------------- widget state

    def widget_state(self, state: Any) -> bool:
        """Whether the notebook's widget state may stay (no hidden code, within the budgets)."""
        text = _as_text(state)
        if self.hidden.found_in(text):
            self.hidden_removed += 1
            return False
        if len(text) > self.limits.cell_bytes or self.notebook_used + len(text) > self.limits.notebook_bytes:
            self.size_removed += 1
            return False
        self.notebook_used += len(text)
        return True


class SanitizeOutputs(NbGraderPreprocessor):
    """Remove hidden test code from every output and bound output sizes (module docstring)."""

    min_hidden_line_chars = Integer(
        12, help="Shortest hidden-test line looked for in outputs, in characters once whitespace "
                 "is removed (shorter lines, such as `)` or `continue`, are in any program).",
    ).tag(config=True)
    max_output_chars = Integer(
        20_000, help="Characters kept of one text output (head and tail); other textual MIME "
                     "entries (HTML, JSON...) above this size are dropped.",
    ).tag(config=True)
    max_cell_chars = Integer(
        100_000, help="Characters of text kept over all outputs of one cell.").tag(config=True)
    max_binary_bytes = Integer(
        2_000_000, help="Largest image or other binary payload kept, as stored (base64).",
    ).tag(config=True)
    max_cell_bytes = Integer(
        5_000_000, help="Largest total size of one cell's outputs, binary payloads included.",
    ).tag(config=True)
    max_notebook_bytes = Integer(
        20_000_000, help="Largest total size of all outputs and the widget state of a notebook.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        """Sanitize every code cell, then the widget state stored in the notebook metadata."""
        hiding = ClearHiddenTests(config=self.config)
        hidden = HiddenCode.from_source(source_notebook(self.config, resources),
                                        hiding.begin_test_delimeter, hiding.end_test_delimeter,
                                        self.min_hidden_line_chars)
        limits = Limits(self.max_output_chars, self.max_cell_chars, self.max_binary_bytes,
                        self.max_cell_bytes, self.max_notebook_bytes)
        self._sanitizer = OutputSanitizer(hidden, limits)
        nb, resources = super().preprocess(nb, resources)
        widgets = nb.get("metadata", {}).get("widgets")
        if widgets is not None and not self._sanitizer.widget_state(widgets):
            self.log.warning("widget state removed from the graded notebook (hidden test code or "
                             "too large)")
            del nb.metadata["widgets"]
        done = self._sanitizer
        if done.hidden_removed or done.size_removed:
            self.log.warning("%s: %d output(s) removed for showing hidden test code, %d cut or "
                             "removed for size", resources["nbgrader"].get("student"),
                             done.hidden_removed, done.size_removed)
        return nb, resources

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, cell_index: int):
        """Replace one code cell's outputs by their sanitized version."""
        if cell.get("cell_type") == "code" and cell.get("outputs"):
            cell.outputs = [from_dict(o) for o in self._sanitizer.cell(cell.outputs,
                                                                       is_test_cell(cell))]
        return cell, resources
