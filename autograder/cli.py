"""The ``cnn-course`` command line: a thin layer over documented functions.

Run it from the course root (the repository root)::

    cnn-course lab                      # JupyterLab on the course, nbgrader extensions on
    cnn-course release [ASSIGNMENT...]  # nbgrader generate_assignment (source/ -> release/)
    cnn-course references ASSIGNMENT    # build the trusted reference records
    cnn-course grade ASSIGNMENT [--student ID] [--jobs N | --cluster local:N | --scheduler ADDR]
                                [--timeout S] [--force]       # autograde, feedback, grades.csv
    cnn-course report ASSIGNMENT        # item analysis + similarity (HTML/CSV, instructors only)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from autograder import batch, grading
from autograder.layout import CourseLayout
from autograder.references import build_reference
from autograder.similarity import DISPLAY_THRESHOLD


def assignments(root: Path) -> list[str]:
    """Assignment ids found in ``source/`` (folders named ``chNN_*``)."""
    return sorted(p.name for p in (root / "source").glob("ch[0-9][0-9]_*") if p.is_dir())


def lab_command(root: Path, extra: list[str]) -> list[str]:
    """The JupyterLab command line for the course root (``--allow-root`` as root)."""
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd + extra


LAB_SETTINGS = {
    # No "official Jupyter news" question over the course on first start, no update checks.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
"""JupyterLab settings the course's Lab starts with (a student can still change them)."""


def ensure_lab_settings(prefix: Path | None = None) -> Path:
    """Merge :data:`LAB_SETTINGS` into the environment's JupyterLab ``overrides.json``; return it.

    JupyterLab reads default overrides from ``PREFIX/share/jupyter/lab/settings/overrides.json``
    (``PREFIX``: this Python's ``sys.prefix``, the course's virtual environment).  Settings
    already there are kept.
    """
    path = Path(prefix or sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    current = json.loads(path.read_text()) if path.is_file() else {}
    merged = {**current}
    for plugin, values in LAB_SETTINGS.items():
        merged[plugin] = {**values, **current.get(plugin, {})}
    if merged != current:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=2) + "\n")
    return path


def _cmd_lab(args) -> int:
    ensure_lab_settings()
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
        layout = CourseLayout.at(args.root)
        for nb in sorted(layout.source_dir(assignment).glob("*.ipynb")):
            out = layout.reference(assignment, nb.stem)
            data = build_reference(nb, out)
            print(f"{assignment}/{nb.name}: {len(data['cells'])} probed cell(s) -> {out}")
    return 0


def _cmd_grade(args) -> int:
    students = args.student or None
    if args.allow_unsandboxed:
        print("cnn-course: WARNING: grading without the sandbox if bubblewrap is unusable; "
              "every affected feedback file says so", file=sys.stderr)
    outcomes = batch.grade_batch(args.root, args.assignment, students, jobs=args.jobs,
                                 force=args.force, progress=not args.quiet,
                                 allow_unsandboxed=args.allow_unsandboxed,
                                 cluster=args.scheduler or args.cluster, gpu=args.gpu,
                                 worker_timeout=args.timeout)
    failed = {s: o.message for s, o in outcomes.items() if o.status == "failed"}
    try:
        grading.generate_feedback(args.root, args.assignment)
    except grading.GradingError as exc:  # feedback of the others is still written
        print(f"cnn-course: some feedback could not be generated: {exc}", file=sys.stderr)
    batch.write_error_notes(args.root, args.assignment, outcomes)
    out = args.root / "grades.csv"
    grading.nbgrader(args.root, "export", "--to", str(out))
    add_flags_column(out, args.root, failed)
    print(summary_table(grading.cell_scores(args.root, args.assignment), outcomes))
    print(f"grades written to {out}")
    return 1 if failed else 0


def _cmd_report(args) -> int:
    from autograder.report import write_report

    path = write_report(args.root, args.assignment, args.out, similarity=not args.no_similarity,
                        threshold=args.similarity_threshold)
    print(f"report written to {path}")
    return 0


def summary_table(scores: dict[str, dict[str, tuple[float, float]]], outcomes: dict) -> str:
    """One line per student: automatic score, and what this run did with the submission."""
    lines = [f"{'student':30s} {'score':>15s}  this run"]
    for student in sorted(set(scores) | set(outcomes)):
        cells = scores.get(student, {})
        got = sum(s for s, _ in cells.values())
        total = sum(m for _, m in cells.values())
        outcome = outcomes.get(student)
        status = "-" if outcome is None else outcome.status
        if outcome is not None and outcome.status == "failed":
            status = f"NOT GRADED: {outcome.message}"
        elif outcome is not None and outcome.status == "graded":
            status = f"graded in {outcome.seconds:.0f} s"
        lines.append(f"{student:30s} {got:7.2f} / {total:5g}  {status}")
    return "\n".join(lines)


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


def _share(text: str) -> float:
    """argparse type: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 (excluded) and 1")
    return value


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
    grade.add_argument("--student", action="append", default=None,
                       help="grade only this student (repeatable); default: every submission")
    grade.add_argument("--jobs", "-j", type=int, default=1,
                       help="parallel grading workers (one process writes the gradebook)")
    where = grade.add_mutually_exclusive_group()
    where.add_argument("--cluster", metavar="local:N",
                       help="grade on a Dask LocalCluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on a running Dask cluster (e.g. tcp://grader:8786); its workers "
                            "need the cnn-course package, bubblewrap and one thread each")
    grade.add_argument("--gpu", action="store_true",
                       help="with a Dask cluster: each task asks for one GPU resource (workers "
                            "started with --resources GPU=1, each pinned to one device)")
    grade.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="deadline of one submission's whole grading run (on a local worker or a "
                            "Dask task); past it the submission is recorded as not graded")
    grade.add_argument("--force", action="store_true", help="regrade already graded submissions")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--allow-unsandboxed", action="store_true",
                       help="where bubblewrap cannot run, grade without the sandbox (each such "
                            "notebook's feedback carries a warning) instead of refusing")
    grade.set_defaults(func=_cmd_grade)
    rep = sub.add_parser("report", help="item analysis and similarity of a graded assignment "
                                        "(HTML + CSV under reports/ASSIGNMENT/, for the instructor)")
    rep.add_argument("assignment")
    rep.add_argument("--out", type=Path, help="folder to write to (default: reports/ASSIGNMENT)")
    rep.add_argument("--no-similarity", action="store_true", help="skip the similarity check")
    rep.add_argument("--similarity-threshold", type=_share, default=DISPLAY_THRESHOLD, metavar="SHARE",
                     help="list pairs whose shared answer code is at least this share of either "
                          f"submission's (0-1, default {DISPLAY_THRESHOLD})")
    rep.set_defaults(func=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cnn-course`` command."""
    parser = build_parser()
    # argparse's REMAINDER misses options that start with "--" (`lab --port=8888`): take
    # whatever it leaves over as JupyterLab's, for `lab` only.
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "lab":
        args.extra = [*args.extra, *rest]
    args.root = args.root.resolve()
    try:
        return args.func(args)
    except grading.GradingError as exc:
        print(f"cnn-course: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
