"""The instructor's item-analysis report of one assignment: ``cnn-course report ASSIGNMENT``.

Built from what grading recorded: the gradebook (every autograded cell's
score), the per-submission reports (``.grading/reports/``: tamper flags and
the outcome of every hidden case, :func:`autograder.scoring.case_record`),
the completion markers (time to grade) and the submitted notebooks
(similarity, :mod:`autograder.similarity`).  It writes, under
``reports/ASSIGNMENT/`` of the course (never released, never in feedback):

* ``index.html``: one self-contained page (plots as embedded PNG images):
  score distribution; per exercise the mean share and the discrimination
  (mean share of the top 27 % of students by total minus that of the bottom
  27 %); per hidden case the share of students who failed it; the most common
  wrong answers grouped by value; time to grade; tamper flags; submissions
  not graded; the most similar pairs of answer code;
* ``items.csv`` (one row per exercise), ``cases.csv`` (one row per hidden
  case) and ``wrong_answers.csv``.

Hidden-test code never appears: the report shows each case's input and what
students returned, not the reference output or the test source.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from autograder import grading
from autograder.batch.ledger import GRADING_ERROR_FILE
from autograder.layout import CourseLayout
from autograder.similarity import DISPLAY_THRESHOLD, SimilarPair, pair_html, similar_pairs

__all__ = ["ItemAnalysis", "analyse", "write_report"]

GROUP_SHARE = 0.27
"""Share of students in the upper and lower groups of the discrimination index (Kelley's 27 %)."""


@dataclass
class ItemAnalysis:
    """Everything the report shows, computed from the course's records."""

    assignment: str
    totals: dict[str, float]  # student -> autograded points
    max_total: float
    items: list[dict]  # per autograded cell: grade_id, max, mean share, discrimination
    cases: list[dict]  # per hidden case: cell, probe, case, input, failed share, n
    wrong_answers: list[dict]  # per (case, value): count and share of the students who answered it
    seconds: dict[str, float]  # student -> time to grade
    flags: dict[str, list[str]]  # student -> tamper flags
    ungraded: dict[str, str]  # submitted but without a grade: student -> why
    similar: list[SimilarPair] = field(default_factory=list)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def analyse(root: Path, assignment: str, similarity: bool = True,
            threshold: float = DISPLAY_THRESHOLD) -> ItemAnalysis:
    """Compute the item analysis of ``assignment`` in the course at ``root``.

    ``threshold``: the similarity from which a pair is listed (:func:`similar_pairs`).
    """
    layout = CourseLayout.at(root)
    scores = grading.cell_scores(root, assignment)
    records = {}
    for student in scores:
        path = layout.report(assignment, student)
        records[student] = json.loads(path.read_text()) if path.exists() else {}
    autograded = sorted(probed_cells(root, assignment))
    graded = sorted(s for s in scores if layout.done_marker(assignment, s).exists())
    totals = {s: sum(scores[s].get(c, (0.0, 0.0))[0] for c in autograded) for s in graded}
    max_total = sum(next((scores[s][c][1] for s in graded if c in scores[s]), 0.0) for c in autograded)

    ranked = sorted(graded, key=lambda s: totals[s])
    k = max(1, round(GROUP_SHARE * len(ranked))) if ranked else 0
    lower, upper = ranked[:k], ranked[-k:] if k else []
    items = []
    for cell in autograded:
        maximum = next((scores[s][cell][1] for s in graded if cell in scores[s]), 0.0)
        share = {s: scores[s][cell][0] / maximum for s in graded if cell in scores[s] and maximum}
        items.append({"cell": cell, "max_points": maximum, "mean_share": _mean(list(share.values())),
                      "discrimination": _mean([share[s] for s in upper if s in share])
                      - _mean([share[s] for s in lower if s in share]), "students": len(share)})

    failed, seen, inputs, wrong = Counter(), Counter(), {}, Counter()
    for student in graded:
        for cell, cases in records[student].get("cases", {}).items():
            for case in cases:
                if case.get("status") == "model":
                    continue
                key = (cell, case["probe"], case["case"])
                seen[key] += 1
                inputs[key] = case.get("input", "")
                if case["status"] != "passed":
                    failed[key] += 1
                if case["status"] in ("wrong", "error"):
                    wrong[(*key, case.get("value", ""))] += 1
    cases = [{"cell": c, "probe": p, "case": n, "input": inputs[(c, p, n)], "students": seen[(c, p, n)],
              "failed_share": failed[(c, p, n)] / seen[(c, p, n)]} for (c, p, n) in sorted(seen)]
    cases.sort(key=lambda r: -r["failed_share"])
    wrong_answers = [{"cell": c, "probe": p, "case": n, "input": inputs[(c, p, n)], "value": v, "count": m,
                      "share": m / seen[(c, p, n)]} for (c, p, n, v), m in wrong.items()]
    wrong_answers.sort(key=lambda r: (-r["count"], r["cell"], r["case"]))

    seconds, ungraded = {}, {}
    for student in graded:
        marker = json.loads(layout.done_marker(assignment, student).read_text())
        if marker.get("seconds") is not None:
            seconds[student] = float(marker["seconds"])
    for student in grading.submitted_students(root, assignment):
        if student not in graded:
            note = layout.feedback_dir(assignment, student) / GRADING_ERROR_FILE
            reasons = [line[len("Reason: "):] for line in (note.read_text().splitlines() if note.exists()
                                                            else []) if line.startswith("Reason: ")]
            ungraded[student] = reasons[0] if reasons else "not graded yet"
    flags = {s: r.get("flags", []) for s, r in records.items() if r.get("flags")}
    pairs = similar_pairs(root, assignment, graded, threshold) if similarity else []
    return ItemAnalysis(assignment, totals, max_total, items, cases, wrong_answers, seconds, flags,
                        ungraded, pairs)


def probed_cells(root: Path, assignment: str) -> set[str]:
    """The autograded cells of ``assignment``: those with hidden probes in its trusted references."""
    layout = CourseLayout.at(root)
    cells: set[str] = set()
    for notebook in layout.release_dir(assignment).glob("*.ipynb"):
        path = layout.reference(assignment, notebook.stem)
        if path.exists():
            cells |= set(json.loads(path.read_text()).get("cells", {}))
    return cells


# ------------------------------------------------------------------------------------ output

def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _plots(a: ItemAnalysis) -> dict[str, str]:
    """The report's figures as data URLs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(list(a.totals.values()), bins=min(20, max(5, len(a.totals))), range=(0, a.max_total or 1),
            color="#4477aa")
    ax.set_xlabel(f"autograded points (of {a.max_total:g})")
    ax.set_ylabel("students")
    ax.set_title("score distribution")
    out["distribution"] = _png(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(a.items) + 1))
    names = [i["cell"] for i in a.items]
    ax.barh(names, [i["mean_share"] for i in a.items], color="#228833", label="mean share")
    ax.barh(names, [i["discrimination"] for i in a.items], color="#ccbb44", height=0.3,
            label="discrimination")
    ax.set_xlim(-1, 1)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("exercises")
    out["items"] = _png(fig)
    plt.close(fig)
    return out


def _table(rows: list[dict], columns: list[str], cls: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r[c]))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table class='{cls}'><tr>{head}</tr>{body}</table>"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


ITEM_COLUMNS = ["cell", "max_points", "mean_share", "discrimination", "students"]
CASE_COLUMNS = ["cell", "probe", "case", "input", "students", "failed_share"]
WRONG_COLUMNS = ["cell", "probe", "case", "input", "value", "count", "share"]


def write_report(root: Path, assignment: str, out_dir: Path | None = None,
                 similarity: bool = True, threshold: float = DISPLAY_THRESHOLD) -> Path:
    """Write the report (HTML + CSV) of ``assignment``; return the HTML file's path."""
    a = analyse(root, assignment, similarity=similarity, threshold=threshold)
    out = Path(out_dir) if out_dir else Path(root) / "reports" / assignment
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(out / "items.csv", a.items, ITEM_COLUMNS)
    _write_csv(out / "cases.csv", a.cases, CASE_COLUMNS)
    _write_csv(out / "wrong_answers.csv", a.wrong_answers, WRONG_COLUMNS)
    plots = _plots(a)
    times = sorted(a.seconds.values())
    timing = (f"median {times[len(times) // 2]:.0f} s, longest {times[-1]:.0f} s over {len(times)} "
              f"submissions" if times else "no timings recorded")
    wrong = [dict(r, share=f"{r['share']:.0%}") for r in a.wrong_answers[:30]]
    failed = [c for c in a.cases if c["failed_share"] > 0]
    flags = [{"student": s, "flag": f} for s, fs in sorted(a.flags.items()) for f in fs]
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{html.escape(assignment)}: item analysis</title><style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; font-size: 90%; vertical-align: top; }}
pre {{ font-size: 80%; }} .highlight-red {{ background: #fbb; }} .highlight-green {{ background: #bfb; }}
</style></head><body>
<h1>{html.escape(assignment)}: item analysis</h1>
<p>For the instructor only. {len(a.totals)} graded submission(s), {len(a.ungraded)} not graded;
time to grade: {timing}.</p>
<h2>Scores</h2><img id="distribution" alt="score distribution" src="{plots['distribution']}">
<h2>Exercises</h2><img id="items" alt="exercises" src="{plots['items']}">
{_table(a.items, ITEM_COLUMNS, "items")}
<h2>Hidden cases, most often failed first</h2><p>The {len(failed)} case(s) some student failed, of
{len(a.cases)} (all of them in <code>cases.csv</code>).</p>{_table(failed[:50], CASE_COLUMNS, "cases")}
<h2>Most common wrong answers</h2>{_table(wrong, WRONG_COLUMNS, "wrong")}
<h2>Tamper flags</h2>{_table(flags, ["student", "flag"], "flags")}
<h2>Not graded</h2>{_table([{"student": s, "reason": r} for s, r in sorted(a.ungraded.items())],
                           ["student", "reason"], "ungraded")}
<h2>Similar answer code</h2><p>copydetect over the answer cells, release code removed; pairs sharing
{threshold:.0%} or more; a flag to look at, never a score.</p>{"".join(pair_html(p) for p in a.similar)
                                                              or "<p>no such pair</p>"}
</body></html>"""
    path = out / "index.html"
    path.write_text(page)
    return path


def wrong_answer_sentences(a: ItemAnalysis, limit: int = 5) -> list[str]:
    """The most common wrong answers as sentences, e.g. '23 % returned 6100 for test_total_params case 1'."""
    by_cell = defaultdict(int)
    lines = []
    for row in a.wrong_answers:
        if by_cell[row["cell"]] >= limit:
            continue
        by_cell[row["cell"]] += 1
        lines.append(f"{row['share']:.0%} returned {row['value']} for {row['cell']} "
                     f"({row['probe']}, case {row['case']})")
    return lines
