"""The instructor's report (``cnn-course report``) on a real graded chapter 2 batch.

Six submissions graded by ``cnn-course grade``: two solved (one a verbatim
copy of the other), one blank, two answering the parameter count of
exercise 7 with the figure that circulates online (6,100) and one that also
uses 32-bit instead of 16-bit floats; and one notebook saved half-way, which
cannot be graded.  The figures the report must show are
derived from these by hand in each test.  The page itself is opened in
headless Chromium: its plots render and its tables hold those figures.
"""

from __future__ import annotations

import csv

import pytest

from autograder import cli
from autograder.report import analyse, wrong_answer_sentences
from tests.notebooks import ch02_cases
from tests.notebooks.submissions import make_submission

pytestmark = pytest.mark.slow
A = "ch02_params_and_memory"
FULL = 15.0
STUDENTS = ("alice", "alice_copy", "blank", "p6100_a", "p6100_b", "p6100_f32")


@pytest.fixture(scope="module")
def reported(course_factory):
    course = course_factory("report", [A])
    make_submission(course, A, "alice")
    make_submission(course, A, "alice_copy")
    make_submission(course, A, "blank", solved=False)
    make_submission(course, A, "p6100_a", overrides=ch02_cases.wrong_answer_overrides("params_6100"))
    make_submission(course, A, "p6100_b", overrides=ch02_cases.wrong_answer_overrides("params_6100"))
    both = dict(ch02_cases.RIGHT, params="6_100", predict="inference_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS)",
                train="training_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS, 50)")
    make_submission(course, A, "p6100_f32", overrides={"ex7_answers": ch02_cases.ANSWERS.format(**both)})
    broken = course / "submitted" / "broken" / A
    broken.mkdir(parents=True)
    (broken / f"{A}.ipynb").write_text('{"cells": [')  # saved half-way
    assert cli.main(["--root", str(course), "grade", A, "--jobs", "2", "--quiet"]) == 1  # broken
    assert cli.main(["--root", str(course), "report", A]) == 0
    return course, analyse(course, A)


def test_scores_and_exercise_statistics(reported):
    course, a = reported
    assert a.totals == {"alice": FULL, "alice_copy": FULL, "blank": 0.0, "p6100_a": FULL - 1,
                        "p6100_b": FULL - 1, "p6100_f32": FULL - 3}
    items = {i["cell"]: i for i in a.items}
    assert len(items) == 9 and a.max_total == FULL
    # test_total_params: right for alice, alice_copy; wrong for the three 6,100s and blank.
    assert items["test_total_params"]["mean_share"] == pytest.approx(2 / 6)
    # Upper group (27 % of 6 -> 2): alice, alice_copy; lower: blank, p6100_f32.
    assert items["test_total_params"]["discrimination"] == pytest.approx(1.0)
    assert items["test_conv_params"]["discrimination"] == pytest.approx(0.5)  # only blank misses it
    rows = list(csv.DictReader((course / "reports" / A / "items.csv").open()))
    assert {r["cell"] for r in rows} == set(items)


def test_most_common_wrong_answers_are_grouped_by_value(reported):
    _, a = reported
    top = a.wrong_answers[0]
    assert (top["cell"], top["value"], top["count"]) == ("test_total_params", "6100", 3)
    assert top["share"] == pytest.approx(0.5)  # 3 of the 6 graded students
    assert "50% returned 6100 for test_total_params (total_params, case 1)" in wrong_answer_sentences(a)
    cases = {(c["cell"], c["case"]): c for c in a.cases}
    assert cases[("test_total_params", 1)]["failed_share"] == pytest.approx(4 / 6)


def test_timing_flags_and_similarity(reported):
    _, a = reported
    assert set(a.seconds) == set(STUDENTS) and all(s > 0 for s in a.seconds.values())
    assert list(a.ungraded) == ["broken"] and "is not valid JSON" in a.ungraded["broken"]
    pairs = {(p.first, p.second): p.similarity for p in a.similar}
    assert pairs[("alice", "alice_copy")] == pytest.approx(1.0)
    assert not [p for p in pairs if "blank" in p]  # no answer code at all


def test_similarity_threshold_is_the_instructors(reported, tmp_path, capsys):
    course, a = reported
    assert min(p.similarity for p in a.similar) < 0.99  # the default 50 % lists partial overlaps
    assert cli.main(["--root", str(course), "report", A, "--out", str(tmp_path),
                     "--similarity-threshold", "0.99"]) == 0
    page = (tmp_path / "index.html").read_text()
    assert "pairs sharing\n99% or more" in page
    listed = {p for p in page.split("<h4>")[1:]}
    assert listed and all(": 100%</h4>" in p for p in listed)
    with pytest.raises(SystemExit):
        cli.main(["--root", str(course), "report", A, "--similarity-threshold", "1.5"])
    assert "not a share between 0 (excluded) and 1" in capsys.readouterr().err


def test_report_never_shows_hidden_test_code_or_reference_outputs(reported):
    course, _ = reported
    page = (course / "reports" / A / "index.html").read_text()
    assert "BEGIN HIDDEN TESTS" not in page and "_probe" not in page
    assert "903400" not in page.replace(",", "")  # the reference answer of total_params


@pytest.mark.browser
def test_report_page_renders_in_chromium(reported, page):
    from playwright.sync_api import expect

    course, _ = reported
    page.goto((course / "reports" / A / "index.html").as_uri())
    for image in ("#distribution", "#items"):
        width = page.eval_on_selector(image, "img => img.complete ? img.naturalWidth : 0")
        assert width > 100, image
    expect(page.locator("table.wrong tr").nth(1)).to_contain_text("6100")
    expect(page.locator("table.wrong tr").nth(1)).to_contain_text("50%")
    expect(page.locator("table.items")).to_contain_text("test_total_params")
    expect(page.locator("div.pair h4", has_text="alice ↔ alice_copy: 100%")).to_have_count(1)
    expect(page.locator("div.pair h4", has_text="blank")).to_have_count(0)
