"""Checks made before a submission is handed to a worker (and the references built once)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from autograder.batch.ledger import released_notebooks, submitted_links
from autograder.layout import CourseLayout
from autograder.references import load_reference


def preflight(root: Path, assignment: str, student: str) -> tuple[str | None, list[str]]:
    """Check one submission before a worker is spent on it.

    Returns ``(fatal, notes)``: ``fatal`` is a precise reason why nbgrader
    cannot grade the submission at all (a notebook that is not valid JSON,
    not a notebook, or unreadable), else None; ``notes`` are problems that
    still allow grading (a missing notebook scores 0 for its cells).
    """
    folder = CourseLayout.at(root).submitted_dir(assignment, student)
    notes = [f"the symbolic link {link} was left out: submissions may not contain links"
             for link in submitted_links(root, assignment, student)]
    for name in released_notebooks(root, assignment):
        path = folder / f"{name}.ipynb"
        if path.is_symlink():
            continue  # reported above; never read
        if not path.exists():
            notes.append(f"{name}.ipynb is missing from the submission: its cells score 0")
            continue
        try:
            text = path.read_bytes().decode("utf-8")
            json.loads(text)
        except OSError as exc:
            return f"{name}.ipynb could not be read: {exc.strerror}", notes
        except UnicodeDecodeError as exc:
            return f"{name}.ipynb is not UTF-8 text (byte {exc.start}); it is not a notebook", notes
        except json.JSONDecodeError as exc:
            return (f"{name}.ipynb is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg}); was it saved completely?"), notes
        try:
            nbformat.validate(nbformat.reads(text, as_version=4))
        except nbformat.ValidationError as exc:
            return f"{name}.ipynb is not a valid Jupyter notebook: {exc.message}", notes
        except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for foreign JSON
            return f"{name}.ipynb is not a valid Jupyter notebook: {exc}", notes
    names = released_notebooks(root, assignment)
    if names and all((folder / f"{n}.ipynb").is_symlink() or not (folder / f"{n}.ipynb").exists()
                     for n in names):
        return (f"the submission contains none of the assignment's notebooks "
                f"({', '.join(n + '.ipynb' for n in names)})"), notes
    return None, notes


def ensure_references(root: Path, assignment: str) -> None:
    """Build stale or missing reference records once, before any worker starts."""
    layout = CourseLayout.at(root)
    for source in sorted(layout.source_dir(assignment).glob("*.ipynb")):
        load_reference(source, layout.reference(assignment, source.stem))
