"""autograder.scoring: trusted comparison and nbgrader-compatible verdicts."""

from __future__ import annotations

import nbformat
import pytest
from nbgrader.utils import determine_grade

from autograder.scoring import score_cell, values_match, verdict_outputs
from course.probe import PROBE_MIME


def payload(name, records, rtol=0.0):
    return {"output_type": "display_data", "metadata": {},
            "data": {PROBE_MIME: {"name": name, "rtol": rtol, "atol": 0.0, "records": records},
                     "text/plain": name}}


REF = [{"name": "f", "rtol": 0.01, "atol": 0.0, "records": [
    {"input": [1], "output": 100}, {"input": [2], "output": 200},
    {"input": [3], "output": [1.0, 2.0]}, {"input": [4], "output": 5}]}]


@pytest.mark.parametrize("got, want, rtol, ok", [
    (3, 3, 0, True), (3, 4, 0, False), (3.0, 3, 0, False), (100.5, 100, 0.01, True),
    (True, 1, 0, False), (1, True, 0, False), ([1, 2], [1, 2], 0, True), ([1], [1, 2], 0, False),
    ("same", "same", 0, True), ({"a": 1}, {"a": 1}, 0, True), ({"a": 1, "b": 2}, {"a": 1}, 0, False),
    (None, 0, 0, False),
])
def test_values_match(got, want, rtol, ok):
    assert values_match(got, want, rtol) is ok


def test_all_cases_right_gives_full_points():
    recs = [{"input": [1], "output": 100}, {"input": [2], "output": 200.1},
            {"input": [3], "output": [1.0, 2.0]}, {"input": [4], "output": 5}]
    score = score_cell([payload("f", recs)], REF, 2.0)
    assert (score.points, score.passed, score.total) == (2.0, 4, 4)


def test_partial_credit_and_messages_never_show_reference_values():
    recs = [{"input": [1], "output": 100}, {"input": [2], "output": 999},
            {"input": [99], "output": [1.0, 2.0]},
            {"input": [4], "error": {"type": "ValueError", "message": "boom"}}]
    score = score_cell([payload("f", recs)], REF, 2.0)
    assert (score.passed, score.points) == (1, 0.5)
    text = "\n".join(score.failures)
    assert "returned 999" in text and "altered" in text and "ValueError: boom" in text
    assert "200" not in text


def test_item_analysis_records_match_the_messages():
    """Every case gets one record for the instructor's report, with the same verdict."""
    recs = [{"input": [1], "output": 100}, {"input": [2], "output": "x" * 200},
            {"input": [99], "output": [1.0, 2.0]},
            {"input": [4], "error": {"type": "ValueError", "message": "boom"}}]
    score = score_cell([payload("f", recs)], REF, 2.0)
    assert [c["status"] for c in score.cases] == ["passed", "wrong", "missing", "error"]
    assert score.cases[1]["value"] == repr("x" * 200)[:77] + "..."
    assert score.cases[3]["value"] == "raised ValueError"
    assert all("output" not in c and "200" not in str(c) for c in score.cases)
    assert len(score.failures) == 3
    missing = score_cell([], REF, 2.0)
    assert [c["status"] for c in missing.cases] == ["missing"] * 4
    assert all("no result was recorded" in f for f in missing.failures)


def test_missing_or_duplicated_probes():
    assert score_cell([], REF, 2.0).points == 0
    recs = [{"input": [i], "output": 0} for i in (1, 2, 3, 4)]
    good = [{"input": [1], "output": 100}, {"input": [2], "output": 200},
            {"input": [3], "output": [1.0, 2.0]}, {"input": [4], "output": 5}]
    score = score_cell([payload("f", recs), payload("f", good)], REF, 2.0)
    assert score.points == 0 and any("more than once" in n for n in score.notes)


@pytest.mark.parametrize("records, expected", [
    ([{"input": [i], "output": o} for i, o in ((1, 100), (2, 200), (3, [1.0, 2.0]), (4, 5))], 2.0),
    ([{"input": [i], "output": o} for i, o in ((1, 100), (2, 0), (3, [1.0, 2.0]), (4, 5))], 1.5),
    ([], 0.0),
])
def test_verdicts_are_read_correctly_by_nbgrader(records, expected):
    original = [{"output_type": "stream", "name": "stderr", "text": "noise"},
                payload("f", records)]
    score = score_cell(original, REF, 2.0)
    cell = nbformat.v4.new_code_cell("pass")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "points": 2, "grade_id": "t",
                                 "locked": True, "schema_version": 3}
    cell.outputs = [nbformat.from_dict(o) for o in verdict_outputs(score, original)]
    assert determine_grade(cell)[0] == expected
