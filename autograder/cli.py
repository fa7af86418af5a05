"""The ``cnn-course`` command line: a thin layer over documented functions.

Run it from the course root (the repository root)::

    cnn-course lab                      # JupyterLab on the course, nbgrader extensions on
    cnn-course release [ASSIGNMENT...]  # nbgrader generate_assignment (source/ -> release/)
    cnn-course references ASSIGNMENT    # build the trusted reference records
    cnn-course grade ASSIGNMENT [--student ID]  # autograde, feedback, grades.csv
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder import grading
from autograder.references import build_reference, reference_path


def assignments(root: Path) -> list[str]:
    """Assignment ids found in ``source/`` (folders named ``chNN_*``)."""
    return sorted(p.name for p in (root / "source").glob("ch[0-9][0-9]_*") if p.is_dir())


def lab_command(root: Path, extra: list[str]) -> list[str]:
    """The JupyterLab command line for the course root (``--allow-root`` as root)."""
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd + extra


def _cmd_lab(args) -> int:
    cmd = lab_command(args.root, args.extra)
    print("+", " ".join(cmd), flush=True)
    os.chdir(args.root)  # formgrader reads nbgrader_config.py from the working directory
    os.execv(cmd[0], cmd)
    return 0  # not reached


def _cmd_release(args) -> int:
    for assignment in args.assignments or assignments(args.root):
        grading.generate_assignment(args.root, assignment)
        print(f"released {assignment}")
    return 0


def _cmd_references(args) -> int:
    for assignment in args.assignments or assignments(args.root):
        for nb in sorted((args.root / "source" / assignment).glob("*.ipynb")):
            out = reference_path(args.root / ".grading" / "references", assignment, nb.stem)
            data = build_reference(nb, out)
            print(f"{assignment}/{nb.name}: {len(data['cells'])} probed cell(s) -> {out}")
    return 0


def _cmd_grade(args) -> int:
    students = [args.student] if args.student else None
    failed = {s: e for s, e in grading.grade_batch(args.root, args.assignment, students,
                                                   force=args.force).items() if e}
    try:
        grading.generate_feedback(args.root, args.assignment, args.student)
    except grading.GradingError as exc:  # feedback of the others is still written
        print(f"cnn-course: some feedback could not be generated: {exc}", file=sys.stderr)
    out = args.root / "grades.csv"
    grading.nbgrader(args.root, "export", "--to", str(out))
    add_flags_column(out, args.root, failed)
    scores = grading.cell_scores(args.root, args.assignment)
    for student in sorted(scores):
        got = sum(s for s, _ in scores[student].values())
        total = sum(m for _, m in scores[student].values())
        print(f"{student:30s} {got:6.2f} / {total:g}")
    for student, error in sorted(failed.items()):
        print(f"{student:30s} NOT GRADED: {error.splitlines()[0]}")
    print(f"grades written to {out}")
    return 1 if failed else 0


def add_flags_column(csv_path: Path, root: Path, failed: dict[str, str]) -> None:
    """Add a ``flags`` column to nbgrader's export: tamper flags and grading failures."""
    import csv

    from autograder.tamper import read_flags

    with csv_path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        flags = read_flags(root, row["assignment"], row["student_id"])
        if row["student_id"] in failed:
            flags = ["not graded: " + failed[row["student_id"]].splitlines()[0], *flags]
        row["flags"] = " | ".join(flags)
    fields = list(rows[0].keys()) if rows else ["flags"]
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``cnn-course``."""
    parser = argparse.ArgumentParser(prog="cnn-course", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="course root (default: the current directory)")
    sub = parser.add_subparsers(dest="command", required=True)
    lab = sub.add_parser("lab", help="start JupyterLab on the course")
    lab.add_argument("extra", nargs=argparse.REMAINDER, help="extra JupyterLab arguments")
    lab.set_defaults(func=_cmd_lab)
    rel = sub.add_parser("release", help="generate student versions into release/")
    rel.add_argument("assignments", nargs="*")
    rel.set_defaults(func=_cmd_release)
    ref = sub.add_parser("references", help="build reference probe records from source/")
    ref.add_argument("assignments", nargs="*")
    ref.set_defaults(func=_cmd_references)
    grade = sub.add_parser("grade", help="autograde submitted/ and write feedback and grades.csv")
    grade.add_argument("assignment")
    grade.add_argument("--student", default=None)
    grade.add_argument("--force", action="store_true", help="regrade already graded submissions")
    grade.set_defaults(func=_cmd_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cnn-course`` command."""
    args = build_parser().parse_args(argv)
    args.root = args.root.resolve()
    try:
        return args.func(args)
    except grading.GradingError as exc:
        print(f"cnn-course: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
