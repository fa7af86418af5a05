"""Hidden test code: which lines of the trusted ``source/`` notebook must never be shown.

:class:`HiddenCode` holds the normalized lines of the ``### BEGIN HIDDEN
TESTS`` regions of an assignment's source notebook (:func:`source_notebook`)
that are worth looking for; :func:`normalize` is how they are compared with
an output (whitespace, backslashes, quote style, ANSI colours, HTML entities
and invisible characters ignored).  Used by :mod:`autograder.outputs`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode

from autograder.layout import CourseLayout

__all__ = ["HiddenCode", "normalize", "source_notebook"]

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_IGNORED = re.compile(r"[\s\\\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]+")


def normalize(text: str) -> str:
    """``text`` as hidden code is looked for in it.

    HTML entities decoded, ANSI escape sequences and invisible characters
    removed, Unicode compatibility forms folded (NFKC), then every whitespace
    character and backslash dropped (so ``repr``/JSON escapes and re-indented
    or re-spaced code still match) and ``'`` written ``"``.
    """
    if "&" in text:
        text = html.unescape(text)
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _IGNORED.sub("", text).replace("'", '"')


@dataclass(frozen=True)
class HiddenCode:
    """The normalized hidden-test lines of one notebook (see :func:`normalize`)."""

    patterns: tuple[str, ...] = ()

    @classmethod
    def from_source(cls, source: NotebookNode, begin: str = "BEGIN HIDDEN TESTS",
                    end: str = "END HIDDEN TESTS", min_chars: int = 12) -> HiddenCode:
        """Lines of the hidden regions of ``source`` worth looking for.

        A line counts when its normalized form has at least ``min_chars``
        characters and does not also occur outside the hidden regions (then it
        is public).  The two marker texts themselves count too: an output that
        shows them shows a hidden region.
        """
        inside: set[str] = set()
        outside: set[str] = set()
        for cell in source.cells:
            in_region = False
            for line in cell.get("source", "").splitlines():
                if begin in line:
                    in_region = True
                elif end in line:
                    in_region = False
                else:
                    (inside if in_region else outside).add(normalize(line))
        if not inside:
            return cls(())
        found = {line for line in inside - outside if len(line) >= min_chars}
        found |= {normalize(begin), normalize(end)}
        return cls(tuple(sorted(found, key=lambda s: (-len(s), s))))

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def found_in(self, text: str) -> bool:
        """Whether ``text`` shows one of the hidden lines."""
        if not self.patterns or not text:
            return False
        norm = normalize(text)
        return any(p in norm for p in self.patterns)


def source_notebook(config, resources: ResourcesDict) -> NotebookNode:
    """The assignment's trusted ``source/`` notebook, found as ``ScoreProbes`` finds it."""
    info = resources["nbgrader"]
    path = CourseLayout.from_config(config).source_notebook(info["assignment"], info["notebook"])
    if not path.is_file():
        raise FileNotFoundError(f"no source notebook at {path}: cannot tell hidden test code "
                                "from student output")
    return nbformat.read(path, as_version=4)
