"""Trusted comparison of probe records with reference records.

Everything here runs in the grader's own process on plain JSON data parsed
from the executed notebook: no object produced by student code is ever
compared, called or unpickled.  See :mod:`course.probe` for the producing
side.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from course.probe import PROBE_MIME

MAX_REPORTED_FAILURES = 5


def values_match(got: Any, want: Any, rtol: float = 0.0, atol: float = 0.0) -> bool:
    """True when the JSON value ``got`` equals the reference ``want``.

    Integers compare exactly (and must be ints) unless a tolerance is given; floats compare with
    ``math.isclose``; ``bool`` never matches a number; lists must have the
    same length and match element-wise.
    """
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, (int, float)):
        if not isinstance(got, (int, float)):
            return False
        if isinstance(want, int) and rtol == 0 and atol == 0:
            return isinstance(got, int) and got == want  # exact counts must be ints
        return math.isclose(float(got), float(want), rel_tol=rtol, abs_tol=atol)
    if isinstance(want, list):
        return (isinstance(got, list) and len(got) == len(want)
                and all(values_match(g, w, rtol, atol) for g, w in zip(got, want)))
    if isinstance(want, dict):
        return (isinstance(got, dict) and got.keys() == want.keys()
                and all(values_match(got[k], want[k], rtol, atol) for k in want))
    if isinstance(want, str) or want is None:
        return type(got) is type(want) and got == want
    return False


@dataclass
class CellScore:
    """The outcome of one grade cell: points and human-readable reasons."""

    points: float
    max_points: float
    passed: float
    total: int
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    """One record per hidden case, for item analysis (:func:`case_record`); never shown to students."""

    @property
    def fraction(self) -> float:
        """Share of hidden cases passed (0 when there were none)."""
        return self.passed / self.total if self.total else 0.0


def probe_payloads(outputs: list) -> list[dict]:
    """Extract well-formed probe payloads from a cell's outputs, in order."""
    payloads = []
    for output in outputs:
        if output.get("output_type") not in ("display_data", "execute_result"):
            continue
        data = output.get("data", {}).get(PROBE_MIME)
        if (isinstance(data, dict) and isinstance(data.get("name"), str)
                and isinstance(data.get("records"), list)):
            payloads.append(data)
    return payloads


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any, limit: int = 160) -> str:
    return _clip(repr(value), limit)


class CaseOutcome(NamedTuple):
    """How one hidden case went (:func:`classify_case`); never holds the reference output.

    ``status`` is ``passed``, ``missing`` (no record), ``altered`` (the hidden input was
    changed before the function saw it), ``error`` (``value``: the exception type,
    ``message``: its message) or ``wrong`` (``value``: the returned value, shortened).
    """

    status: str
    value: str = ""
    message: str = ""


def classify_case(want_rec: dict, got_rec: Any, rtol: float, atol: float) -> CaseOutcome:
    """The outcome of one hidden case: the one place it is decided."""
    if not isinstance(got_rec, dict):
        return CaseOutcome("missing")
    if got_rec.get("input") != want_rec.get("input"):
        return CaseOutcome("altered")
    if "error" in got_rec:
        err = got_rec["error"] if isinstance(got_rec["error"], dict) else {}
        return CaseOutcome("error", str(err.get("type", "an error")), str(err.get("message", "")))
    if "output" not in got_rec:
        return CaseOutcome("missing")
    if not values_match(got_rec["output"], want_rec.get("output"), rtol, atol):
        return CaseOutcome("wrong", _short(got_rec["output"]))
    return CaseOutcome("passed")


def case_failure(name: str, index: int, want_rec: dict, outcome: CaseOutcome) -> str | None:
    """The student's sentence for a classified case, None if it passed."""
    label = f"{name}, hidden case {index + 1}: input {_short(want_rec.get('input'))}"
    return {"passed": None,
            "missing": f"{label}: no result was recorded",
            "altered": f"{label}: the hidden input was altered before your function saw it",
            "error": f"{label}: raised {outcome.value}: {outcome.message}",
            "wrong": f"{label}: returned {outcome.value}, which is not correct"}[outcome.status]


def case_record(name: str, index: int, want_rec: dict, outcome: CaseOutcome) -> dict:
    """What the instructor's item analysis keeps of one classified case (no reference output).

    ``status``: ``passed``, ``wrong`` (with the returned ``value``), ``error`` (with the
    exception type) or ``missing`` (no record, or the input was altered).
    """
    record = {"probe": name, "case": index + 1, "input": _short(want_rec.get("input"), 80)}
    if outcome.status == "error":
        return record | {"status": "error", "value": f"raised {outcome.value}"}
    if outcome.status == "wrong":
        return record | {"status": "wrong", "value": _clip(outcome.value, 80)}
    return record | {"status": "missing" if outcome.status == "altered" else outcome.status}


def score_cell(outputs: list, reference: list[dict], max_points: float,
               model_scorer: Callable[[dict], tuple[float, str]] | None = None) -> CellScore:
    """Score one grade cell's outputs against its reference payloads.

    Each reference case is worth the same share of ``max_points``.  A probe
    missing from the outputs fails all its cases; a probe published twice
    counts only its first publication.  A reference payload of kind
    ``"model"`` is one case whose share (0..1) comes from ``model_scorer``,
    called with the trusted reference payload (never the student's).
    """
    got_by_name: dict[str, dict] = {}
    notes = []
    for payload in probe_payloads(outputs):
        if payload["name"] in got_by_name:
            notes.append(f"probe {payload['name']} was published more than once; "
                         "only the first record counts")
            continue
        got_by_name[payload["name"]] = payload
    passed: float = 0
    total = 0
    failures = []
    cases: list[dict] = []
    for want in reference:
        name = want["name"]
        if want.get("kind") == "model":
            total += 1
            if model_scorer is None:
                failures.append(f"{name}: no model evaluator is configured")
                continue
            share, message = model_scorer(want)
            passed += share
            cases.append({"probe": name, "case": 1, "status": "model", "share": round(share, 4)})
            (notes if share >= 1 else failures).append(f"{name}: {message}")
            continue
        rtol, atol = float(want.get("rtol", 0.0)), float(want.get("atol", 0.0))
        got = got_by_name.get(name)
        got_records = got["records"] if got else []
        for i, want_rec in enumerate(want["records"]):
            total += 1
            got_rec = got_records[i] if i < len(got_records) else None
            outcome = classify_case(want_rec, got_rec, rtol, atol)
            reason = case_failure(name, i, want_rec, outcome)
            cases.append(case_record(name, i, want_rec, outcome))
            if reason is None:
                passed += 1
            else:
                failures.append(reason)
        if got is None:
            notes.append(f"the hidden checks of {name} did not run")
    points = math.floor(max_points * passed / total * 100) / 100 if total else 0.0
    return CellScore(points, max_points, passed, total, failures, notes, cases)


def verdict_outputs(score: CellScore, original_outputs: list) -> list[dict]:
    """The outputs a scored grade cell gets, encoding ``score`` for nbgrader.

    nbgrader's ``determine_grade`` reads: an ``error`` output means 0, an
    ``execute_result`` holding a number means partial credit, anything else
    full credit.  Original stdout is kept (it is the student's own output);
    an original error (a failing visible test) is reported as text.
    """
    lines = []
    for output in original_outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            lines.append(output.get("text", "").rstrip("\n"))
        elif output.get("output_type") == "error":
            lines.append(f"Visible test failed: {output.get('ename')}: {output.get('evalue')}")
    lines.append(f"Hidden checks: {score.passed:g} of {score.total} case(s) passed "
                 f"-> {score.points:g} of {score.max_points:g} point(s).")
    for reason in score.failures[:MAX_REPORTED_FAILURES]:
        lines.append(f"  - {reason}")
    if len(score.failures) > MAX_REPORTED_FAILURES:
        lines.append(f"  ... and {len(score.failures) - MAX_REPORTED_FAILURES} more failing case(s)")
    lines.extend(f"  note: {n}" for n in score.notes)
    outputs: list[dict] = [{"output_type": "stream", "name": "stdout",
                            "text": "\n".join(line for line in lines if line) + "\n"}]
    if score.points <= 0:
        message = f"{score.passed:g} of {score.total} hidden case(s) passed"
        outputs.append({"output_type": "error", "ename": "HiddenChecksFailed",
                        "evalue": message, "traceback": [f"HiddenChecksFailed: {message}"]})
    elif score.points < score.max_points:
        outputs.append({"output_type": "execute_result", "execution_count": None,
                        "metadata": {}, "data": {"text/plain": f"{score.points:g}"}})
    return outputs
