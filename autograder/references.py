"""Reference probe records, built by executing the ``source/`` solutions.

The reference of an assignment notebook is what the hidden probes publish
when the instructor's own notebook (solutions included) runs top to bottom.
It is built in the grader's trusted environment, stored under the course
root in ``.grading/references/`` (never committed, never released, never
mounted into a student's sandbox) and rebuilt automatically whenever the
source notebook changes (its SHA-256 is stored alongside).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.cells import grade_id, is_test_cell
from autograder.scoring import probe_payloads

FORMAT_VERSION = 1


class ReferenceError(RuntimeError):
    """The reference run of a source notebook failed."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def grade_cell_payloads(nb) -> dict[str, list[dict]]:
    """Probe payloads of every autograder-test cell, keyed by ``grade_id``."""
    cells = {}
    for cell in nb.cells:
        if is_test_cell(cell):
            payloads = probe_payloads(cell.get("outputs", []))
            if payloads:
                cells[grade_id(cell)] = payloads
    return cells


def execute_notebook(path: Path, timeout: int = 1800, kernel_name: str = "python3"):
    """Execute a trusted notebook in a scratch copy of its folder; return it.

    Raises :class:`ReferenceError` naming the first failing cell.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="cnn-course-ref-") as tmp:
        work = Path(tmp) / path.parent.name
        shutil.copytree(path.parent, work)
        profile = reference_profile(nb)
        env_profile = profile or os.environ.get("CNN_COURSE_PROFILE")
        client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                                resources={"metadata": {"path": str(work)}})
        client.widget_registry = {}  # no Output-widget emulation (see RobustExecute)
        saved = os.environ.get("CNN_COURSE_PROFILE")
        try:
            if profile:  # the kernel inherits this process's environment
                os.environ["CNN_COURSE_PROFILE"] = profile
            client.execute()
        except (CellExecutionError, CellTimeoutError) as exc:
            raise ReferenceError(f"the source notebook {path} failed while building "
                                 f"references (profile {env_profile or 'auto'}): {exc}") from exc
        finally:
            if profile:
                if saved is None:
                    os.environ.pop("CNN_COURSE_PROFILE", None)
                else:
                    os.environ["CNN_COURSE_PROFILE"] = saved
    return nb


def reference_profile(nb) -> str | None:
    """The profile a source notebook asks its references to be built in, if any.

    A notebook whose probes do not depend on training length (chapter 9 grades
    the saved model itself, never a reference value) sets
    ``metadata.cnn_course.reference_profile = "smoke"`` so that building its
    references takes seconds instead of a full training run.
    """
    return nb.metadata.get("cnn_course", {}).get("reference_profile")


def build_reference(source_notebook: Path, out_path: Path, timeout: int = 1800) -> dict:
    """Execute ``source_notebook`` and write its probe payloads to ``out_path``."""
    nb = execute_notebook(source_notebook, timeout=timeout)
    cells = grade_cell_payloads(nb)
    for gid, payloads in cells.items():
        for payload in payloads:
            bad = [r for r in payload["records"] if "error" in r]
            if bad:
                raise ReferenceError(f"reference solution of {gid} ({payload['name']}) "
                                     f"raised on a hidden case: {bad[0]['error']}")
    data = {"format": FORMAT_VERSION, "source": str(source_notebook),
            "source_sha256": sha256_file(source_notebook), "cells": cells}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.chmod(tmp, 0o600)
    tmp.replace(out_path)
    return data


def build_reference_in_subprocess(source_notebook: Path, out_path: Path, timeout: int = 1800) -> dict:
    """:func:`build_reference` in a fresh Python process.

    The grader calls this from inside nbgrader's own execution pipeline, whose
    event loop and kernel-manager state must not be shared with the reference
    run (an in-process nested run can hang).
    """
    cmd = [sys.executable, "-m", "autograder.references", str(source_notebook), str(out_path),
           "--timeout", str(timeout)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ReferenceError(f"building the reference of {source_notebook} failed:\n{tail}")
    return json.loads(Path(out_path).read_text())


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.references SOURCE.ipynb OUT.json [--timeout S]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Build the reference probe records of a notebook.")
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--timeout", type=int, default=1800)
    args = parser.parse_args(argv)
    data = build_reference(args.source, args.out, timeout=args.timeout)
    print(f"{len(data['cells'])} probed cell(s) -> {args.out}")
    return 0


def load_reference(source_notebook: Path, out_path: Path, build_missing: bool = True,
                   timeout: int = 1800) -> dict:
    """Load the reference for ``source_notebook``, (re)building it when stale."""
    out_path = Path(out_path)
    if out_path.exists():
        data = json.loads(out_path.read_text())
        if (data.get("format") == FORMAT_VERSION
                and data.get("source_sha256") == sha256_file(source_notebook)):
            return data
    if not build_missing:
        raise ReferenceError(f"no up-to-date reference for {source_notebook}; "
                             f"run `cnn-course references` first")
    return build_reference_in_subprocess(source_notebook, out_path, timeout=timeout)


if __name__ == "__main__":
    sys.exit(main())
