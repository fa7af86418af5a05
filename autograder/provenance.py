"""What a graded run may start from: model credit is earned by the run itself.

The grader measures a saved model's accuracy, so that figure must come from
code the student wrote, trained in the graded run on training data only.
Three rules, applied by :class:`autograder.execute.RobustExecute` (the grader's
process, outside the sandbox) and checked again when the model is scored:

* **Nothing but the notebook comes in.**  :func:`withhold_submission_files`
  deletes every file the submission put beside its notebook (models, weights,
  arrays, anything) from the graded copy, and moves the notebook files
  themselves out of the kernel's reach while it runs (a notebook can carry
  data in markdown cells, attachments or metadata); files of the assignment's
  ``source/`` folder, which nbgrader copied in, stay.
* **A cell carries code, not data.**  :class:`CellBudget` refuses to run a
  cell the student wrote (a code cell that is not verbatim a cell of the
  release) above ``max_cell_kb``, or once the student's cells together pass
  ``max_authored_kb``: honest answers take a few kB, a pasted model far more.
* **The model is written by the training cell.**  :class:`ModelGuard` deletes
  the model file before the cell that must train it runs (a file that
  already exists then is not the graded one) and fingerprints what that cell
  leaves; a file changed afterwards earns nothing (:func:`model_problem`).

Each event is a tamper flag naming the cell and one sentence of feedback.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CellBudget", "Findings", "ModelGuard", "model_problem", "withhold_submission_files"]


@dataclass
class Findings:
    """What the grader did to a graded run: flags for the report, notices for the feedback.

    Lives in ``resources["cnn_course"]`` so that later preprocessors (scoring,
    tamper report) see it; ``models`` maps a model file to the SHA-256 its
    training cell left (``None``: the cell saved no regular file), ``trained_by``
    each such file to the grade id of its training cell.
    """

    flags: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    models: dict[str, str | None] = field(default_factory=dict)
    trained_by: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, resources) -> Findings:
        """The findings of this notebook's run (created on first use)."""
        found = resources.setdefault("cnn_course", {}).get("findings")
        if found is None:
            found = resources["cnn_course"]["findings"] = cls()
        return found


def _files(root: Path) -> list[Path]:
    """Every entry under ``root`` that is not a folder (links not followed), deepest first."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        out += [Path(dirpath, n) for n in filenames]
        out += [Path(dirpath, n) for n in dirnames if Path(dirpath, n).is_symlink()]
    return sorted(out, key=lambda p: -len(p.parts))


def withhold_submission_files(workdir: Path, source_dir: Path, holding: Path) -> tuple[list[str], list[Path]]:
    """Clear the graded copy ``workdir`` of everything but the assignment's own files.

    nbgrader copies a submission's extra files with ``shutil.copy``, which
    follows links (a link to ``source/`` would hand the kernel the solutions);
    whatever it copied is deleted here, links included, and only nbgrader's
    master copies of the assignment's own files stay.

    Returns ``(deleted, held)``: the relative paths of the submission's extra
    files, now deleted (the originals stay in ``submitted/``), and the notebook
    files moved into ``holding`` (give them back with :func:`restore_notebooks`).
    """
    workdir, source_dir = Path(workdir), Path(source_dir)
    deleted, held = [], []
    for path in _files(workdir):
        rel = path.relative_to(workdir)
        if path.suffix == ".ipynb" and not path.is_symlink():
            target = Path(holding, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            held.append(rel)
            continue
        master = source_dir / rel
        if master.is_file() and not master.is_symlink() and not path.is_symlink():
            continue  # nbgrader's copy of the assignment's own file
        path.unlink()
        deleted.append(str(rel))
    for dirpath, _, _ in sorted(os.walk(workdir), key=lambda e: -len(e[0])):
        if Path(dirpath) != workdir and not os.listdir(dirpath) and not (
                source_dir / Path(dirpath).relative_to(workdir)).is_dir():
            os.rmdir(dirpath)
    return sorted(deleted), held


def restore_notebooks(workdir: Path, holding: Path, held: list[Path]) -> None:
    """Put the notebooks moved aside by :func:`withhold_submission_files` back."""
    for rel in held:
        target = Path(workdir, rel)
        if target.is_symlink() or target.is_file():
            target.unlink()  # the kernel wrote one in its place: the grader's copy wins
        elif target.is_dir():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(Path(holding, rel), target)


def holding_folder() -> Path:
    """A private folder of the grader's for notebooks held out of a run."""
    return Path(tempfile.mkdtemp(prefix="cnn-course-held-"))


class CellBudget:
    """Size limits of the code a student wrote into a notebook.

    ``released`` holds the code-cell sources of the release notebook: a cell
    equal to one of them (whitespace at the ends aside) is instructor code and
    costs nothing.
    """

    def __init__(self, released: set[str], max_cell_kb: float, max_authored_kb: float):
        self.released = {s.strip() for s in released}
        self.max_cell = max_cell_kb * 1024
        self.max_total = max_authored_kb * 1024
        self.spent = 0

    def refuse(self, source: str, where: str) -> str | None:
        """Why the cell ``where`` with ``source`` must not run, or ``None`` (then it is counted)."""
        if source.strip() in self.released or self.max_cell <= 0:
            return None
        size = len(source.encode())
        if size > self.max_cell:
            return (f"{where} holds {size / 1024:.1f} kB of code you wrote, more than the "
                    f"{self.max_cell / 1024:.0f} kB a cell may hold in a graded run (honest answers "
                    f"take a few kB), so it was not run: a model must be trained by the notebook, "
                    f"not pasted into it")
        if self.max_total > 0 and self.spent + size > self.max_total:
            return (f"{where} would bring the code you wrote in this notebook to "
                    f"{(self.spent + size) / 1024:.1f} kB, more than the {self.max_total / 1024:.0f} kB "
                    f"allowed in a graded run, so it was not run")
        self.spent += size
        return None


def fingerprint(path: Path) -> str | None:
    """SHA-256 of the regular file at ``path``; ``None`` when there is none (or a link)."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelGuard:
    """Model files that must be written by a given cell: ``{file: training cell's grade id}``."""

    def __init__(self, workdir: Path, trained_by: dict[str, str], findings: Findings):
        self.workdir, self.trained_by, self.findings = Path(workdir), dict(trained_by), findings

    def before(self, grade_id: str | None, where: str) -> None:
        """Delete the files this cell must write, if they exist already (flagged)."""
        for name, cell_id in self.trained_by.items():
            path = self.workdir / name
            if cell_id == grade_id and (path.exists() or path.is_symlink()):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                self.findings.flags.append(f"model file before training: {name} existed before "
                                           f"{where} ran; it was deleted")
                self.findings.notices.append(
                    f"`{name}` already existed before {where}, the cell that must train and save it, "
                    f"ran: it was deleted, because only a model saved by that cell is graded.")

    def after(self, grade_id: str | None) -> None:
        """Fingerprint what the training cell ``grade_id`` left."""
        for name, cell_id in self.trained_by.items():
            if cell_id == grade_id:
                self.findings.models[name] = fingerprint(self.workdir / name)


def model_problem(findings: Findings | None, workdir: Path, name: str, trained_by: str | None) -> str | None:
    """Why the model file ``name`` earns nothing by provenance, or ``None``.

    Only a regular file that differs from what its training cell left is
    refused here (a missing file or a link gets the file checks' own message).
    """
    if findings is None or trained_by is None:
        return None
    now = fingerprint(Path(workdir, name))
    if now is None:
        return None
    if name not in findings.models:
        return (f"{name} was not saved by the training cell (grade id {trained_by}), which did not "
                f"run to the end; it earns nothing")
    if findings.models[name] != now:
        findings.flags.append(f"model file replaced: {name} changed after the training cell "
                              f"(grade id {trained_by}) ran")
        return (f"{name} is not the file the training cell (grade id {trained_by}) saved: it was "
                f"written or changed by a later cell, and only the model that cell trained is graded")
    return None
