"""Chapter sources: ``chapters/ASSIGNMENT/ASSIGNMENT.py`` (jupytext percent) -> ``source/``.

Each chapter is written as a jupytext *percent* script: one ``# %%`` header
per cell, markdown cells as comments, nbgrader's cell metadata in the header
(``# %% nbgrader={"grade": true, "grade_id": "test_x", ...}``), the notebook
metadata the course needs (``kernelspec``, ``cnn_course``) in the YAML header.
It is plain Python, so ruff lints every code cell and reviews read real
diffs.  The instructor notebook ``source/ASSIGNMENT/ASSIGNMENT.ipynb`` that
nbgrader uses is derived from it and committed: :func:`sync` rewrites its
cells from the script with jupytext, keeping the id (and any outputs) of every
cell that is still there, so inserting a cell changes no other cell's id.

The pairing is declared in ``jupytext.toml``, so an instructor can also edit
the ``.ipynb`` in JupyterLab (nbgrader's create-assignment toolbar works as
usual) and jupytext writes the script beside it on save; ``python -m
tools.chapters`` then brings everything in line.  ``--check`` (run by the
test suite) fails when a derived notebook is stale.

    python -m tools.chapters            # chapters/*.py -> source/*.ipynb
    python -m tools.chapters --check    # exit 1 and name the stale notebooks
    python -m tools.chapters --from-notebook ASSIGNMENT  # after editing the .ipynb in Lab
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import jupytext.config
import nbformat
from jupytext.combine import combine_inputs_with_outputs

ROOT = Path(__file__).resolve().parents[1]
FORMAT = "py:percent"
NOTEBOOK_METADATA = ("kernelspec", "cnn_course")
"""Notebook metadata kept in the script's header (everything else is left out)."""
LANGUAGE_INFO = {"name": "python"}

__all__ = ["chapter_script", "derived_notebook", "from_notebook", "render", "sources", "stale", "sync"]


def sources(root: Path = ROOT) -> list[Path]:
    """Every chapter script, ``chapters/ASSIGNMENT/ASSIGNMENT.py``."""
    return sorted(p for p in (Path(root) / "chapters").glob("ch[0-9][0-9]_*/*.py")
                  if p.stem == p.parent.name)


def derived_notebook(script: Path) -> Path:
    """``source/ASSIGNMENT/ASSIGNMENT.ipynb`` for a chapter script."""
    script = Path(script)
    return script.parents[2] / "source" / script.parent.name / f"{script.stem}.ipynb"


def chapter_script(root: Path, assignment: str) -> Path:
    """``chapters/ASSIGNMENT/ASSIGNMENT.py``."""
    return Path(root) / "chapters" / assignment / f"{assignment}.py"


def _clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as committed: course metadata only, validated."""
    nb.metadata = nbformat.from_dict({k: nb.metadata[k] for k in sorted(nb.metadata)
                                      if k in NOTEBOOK_METADATA})
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    nbformat.validate(nb)
    return nb


def render(script: Path) -> nbformat.NotebookNode:
    """The notebook ``script`` defines, ids and outputs taken from the committed notebook."""
    text = jupytext.read(script, fmt=FORMAT)
    target = derived_notebook(script)
    if target.exists():
        text = combine_inputs_with_outputs(text, nbformat.read(target, as_version=4), fmt=FORMAT)
    return _clean(text)


def _key(nb: nbformat.NotebookNode) -> list:
    return [dict(nb.metadata)] + [(c.get("id"), c.cell_type, c.source, dict(c.metadata)) for c in nb.cells]


def stale(script: Path) -> str | None:
    """Why the committed notebook of ``script`` is not what it defines, or ``None``."""
    target = derived_notebook(script)
    if not target.exists():
        return f"{target} is missing"
    if _key(render(script)) != _key(nbformat.read(target, as_version=4)):
        return f"{target} is stale: run `python -m tools.chapters`"
    return None


def sync(script: Path) -> bool:
    """Rewrite the notebook of ``script``; return whether it changed."""
    target = derived_notebook(script)
    nb = render(script)
    before = target.read_text() if target.exists() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target.read_text() != before


def from_notebook(root: Path, assignment: str) -> Path:
    """Rewrite the chapter script from ``source/ASSIGNMENT/ASSIGNMENT.ipynb`` (edited in Lab)."""
    script = chapter_script(root, assignment)
    nb = nbformat.read(derived_notebook(script), as_version=4)
    script.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(nb, script, fmt=FORMAT, config=jupytext.config.load_jupytext_config(str(root)))
    return script


def main(argv: list[str] | None = None) -> int:
    """Command line: sync every chapter, check them, or rewrite one script from its notebook."""
    parser = argparse.ArgumentParser(prog="python -m tools.chapters", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks (exit 1)")
    parser.add_argument("--from-notebook", metavar="ASSIGNMENT",
                        help="rewrite chapters/ASSIGNMENT/ASSIGNMENT.py from its source notebook")
    args = parser.parse_args(argv)
    if args.from_notebook:
        print(f"wrote {from_notebook(ROOT, args.from_notebook).relative_to(ROOT)}")
        return 0
    problems = []
    for script in sources():
        if args.check:
            why = stale(script)
            if why:
                problems.append(why)
        elif sync(script):
            print(f"updated {derived_notebook(script).relative_to(ROOT)}")
    for why in problems:
        print(why, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
