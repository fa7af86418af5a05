"""autograder.outputs: outputs safe to show the student (no kernel: notebooks built in memory)."""

from __future__ import annotations

import base64
import html
import json
import logging

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import determine_grade
from traitlets.config import Config

from autograder.hidden import HiddenCode, normalize
from autograder.markers import DisableRegionMarkers, disable_markers
from autograder.outputs import HIDDEN_NOTE, Limits, OutputSanitizer, SanitizeOutputs
from autograder.scoring import CellScore, verdict_outputs
from tests.notebooks.submissions import ROOT

A = "synthetic"
SEED_LINE = "_rng = _random.Random(424242)"
PROBE_LINE = '_probe("area", area, _cases)'
HIDDEN = f"""### BEGIN HIDDEN TESTS
import random as _random
from course.probe import probe as _probe
{SEED_LINE}
_cases = [(_rng.randint(1, 99), _rng.randint(1, 99)) for _ in range(20)]
else:
)
{PROBE_LINE}
### END HIDDEN TESTS"""
TEST_SOURCE = 'assert area(2, 3) == 6, "area(2, 3) should be 6"\n' + HIDDEN
LEAK = TEST_SOURCE  # what `print(get_ipython().user_ns["In"][-1])` prints in that cell


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float = 0) -> dict:
    return {"nbgrader": {"grade_id": grade_id, "grade": grade, "solution": solution,
                         "locked": locked, "points": points, "schema_version": 3}}


def source_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# Areas\n\nelse: the narrative is public"),
        new_code_cell("import random as _random\nprint(_random.random())"),  # public
        new_code_cell("def area(w, h):\n    ### BEGIN SOLUTION\n    return w * h\n    ### END SOLUTION",
                      metadata=_meta("ex_area", grade=False, solution=True, locked=False)),
        new_code_cell(TEST_SOURCE, metadata=_meta("test_area", grade=True, solution=False,
                                                  locked=True, points=2)),
    ])


@pytest.fixture
def hidden() -> HiddenCode:
    return HiddenCode.from_source(source_notebook())


@pytest.fixture
def course(tmp_path):
    """A course folder holding only the trusted source notebook, and its nbgrader config."""
    (tmp_path / "source" / A).mkdir(parents=True)
    nbformat.write(source_notebook(), tmp_path / "source" / A / f"{A}.ipynb")
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    return config


def resources() -> dict:
    return {"nbgrader": {"assignment": A, "notebook": A, "student": "s1"}}


def stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def grade_of(outputs: list[dict]) -> float | str | None:
    """What nbgrader records for a 2-point test cell with these outputs."""
    cell = new_code_cell("pass", metadata=_meta("test_area", grade=True, solution=False,
                                                locked=True, points=2))
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    try:
        return determine_grade(cell)[0]
    except ValueError as exc:  # e.g. partial credit above the cell's points
        return f"ValueError: {exc}"


def test_hidden_lines_are_looked_for_public_and_trivial_lines_are_not(hidden):
    patterns = set(hidden.patterns)
    assert normalize(SEED_LINE) in patterns and normalize(PROBE_LINE) in patterns
    assert normalize("BEGIN HIDDEN TESTS") in patterns  # the marker itself shows a hidden region
    assert normalize("import random as _random") not in patterns  # also in the narrative
    assert normalize("else:") not in patterns and normalize(")") not in patterns  # too short
    assert all(len(p) >= 12 for p in patterns)
    assert not HiddenCode.from_source(new_notebook(cells=[new_code_cell("x = 1")]))


@pytest.mark.parametrize("shown", [
    LEAK,
    repr(LEAK),                                   # a repr: newlines escaped, one line
    json.dumps({"code": LEAK}),                   # JSON: quotes and newlines escaped
    html.escape(LEAK),                            # HTML entities
    SEED_LINE.replace(" ", "") + " # squeezed",   # whitespace removed
    "\x1b[0;32m_rng\x1b[0m = _random.Random(\x1b[1m424242\x1b[0m)",  # ANSI colours
    "_rng\u200b = _random.Random(424242)",       # zero-width space
    "＿rng = ＿random.Random(４２４２４２)",            # full-width forms (NFKC)
    PROBE_LINE.replace('"', "'"),                 # other quotes
])
def test_hidden_code_is_found_however_it_is_printed(hidden, shown):
    assert hidden.found_in(shown)


@pytest.mark.parametrize("shown", [
    "area(2, 3) = 6", "import random", "else:", "Random(42)", "the cases are [(3, 4), (5, 6)]", ""])
def test_honest_output_is_not_taken_for_hidden_code(hidden, shown):
    assert not hidden.found_in(shown)


def test_a_printed_test_cell_is_removed_from_any_cell_and_streams_keep_their_name(hidden):
    sanitizer = OutputSanitizer(hidden)
    for name in ("stdout", "stderr"):
        out = sanitizer.cell([stream("before\n" + LEAK + "\nafter\n", name)])
        assert out == [stream(HIDDEN_NOTE + "\n", name)]
    assert sanitizer.hidden_removed == 2


def _verdict(student_stdout: str, failures: list[str], points: float) -> list[dict]:
    score = CellScore(points, 2.0, 1 if points else 0, 2, failures, ["the hidden checks of x did not run"])
    return verdict_outputs(score, [stream(student_stdout),
                                   {"output_type": "error", "ename": "AssertionError",
                                    "evalue": "area(2, 3) should be 6", "traceback": []}])


@pytest.mark.parametrize("points", [0.0, 1.0, 2.0])
def test_in_a_test_cell_the_verdict_survives_a_leak_and_the_grade_does_not_move(hidden, points):
    failures = ["area, hidden case 1: input [17, 4]: returned 21, which is not correct",
                f"area, hidden case 2: input [3, 9]: raised ValueError: {SEED_LINE} (line 4)"]
    outputs = _verdict("hello\n" + LEAK, failures, points)
    clean = OutputSanitizer(hidden).cell(outputs, test_cell=True)
    assert grade_of(clean) == grade_of(outputs)
    text = clean[0]["text"]
    assert not hidden.found_in(text) and "hello" not in text
    assert text.splitlines() == [
        HIDDEN_NOTE, "Visible test failed: AssertionError: area(2, 3) should be 6",
        f"Hidden checks: {1 if points else 0} of 2 case(s) passed -> {points:g} of 2 point(s).",
        "  - area, hidden case 1: input [17, 4]: returned 21, which is not correct",
        "  note: the hidden checks of x did not run"]
    assert clean[1:] == outputs[1:]  # the error (0 points) or the partial credit, untouched


def test_scoreprobes_verdicts_without_leak_are_left_as_they_are():
    """Every kind of verdict line, on the real chapter 2 hidden code and hidden-like inputs."""
    real = HiddenCode.from_source(nbformat.read(
        ROOT / "source" / "ch02_params_and_memory" / "ch02_params_and_memory.ipynb", as_version=4))
    layers = [{"filters": 32, "kernel_size": 3, "strides": 2, "padding": "same"}]
    failures = [f"cnn_params, hidden case {i}: input {[[64, 48, 3], layers]!r}: returned 123, which "
                "is not correct" for i in range(1, 8)]
    failures += [
        ("conv_output_size, hidden case 9: input [200, 3, 2, 'same']: raised NotImplementedError:  "
         "(line 3)"),
        ("conv_params, hidden case 2: input [3, 100, 200, True]: the hidden input was altered before "
         "your function saw it"),
        "total_params, hidden case 1: input []: no result was recorded",
    ]
    for points in (0.0, 1.5, 2.0):
        outputs = _verdict("my own print\n", failures, points)
        assert OutputSanitizer(real).cell(outputs, test_cell=True) == outputs


def test_errors_stay_errors(hidden):
    leak = {"output_type": "error", "ename": "ValueError", "evalue": LEAK,
            "traceback": ["\x1b[0;31mValueError\x1b[0m: boom"]}
    named = {"output_type": "error", "ename": SEED_LINE, "evalue": "x", "traceback": []}
    traced = {"output_type": "error", "ename": "KeyError", "evalue": "'k'",
              "traceback": ["Cell In[7], line 4", f"----> 4 \x1b[0;32m{SEED_LINE}\x1b[0m"]}
    out = OutputSanitizer(hidden).cell([leak, named, traced])
    assert [o["output_type"] for o in out] == ["error"] * 3
    assert [o["ename"] for o in out] == ["ValueError", "OutputRemoved", "KeyError"]
    assert all(o["evalue"] == HIDDEN_NOTE and not hidden.found_in(json.dumps(o)) for o in out)
    assert grade_of(out) == grade_of([leak]) == 0


def test_display_entries_with_hidden_code_are_dropped(hidden):
    png = base64.b64encode(b"\x89PNG fake image").decode()
    shown = {"output_type": "display_data", "metadata": {"note": LEAK},
             "data": {"text/plain": "<Leak>", "text/html": f"<pre>{html.escape(LEAK)}</pre>",
                      "application/json": {"code": LEAK.splitlines()}, "image/png": png,
                      "image/jpeg": LEAK}}  # raw text in an image payload: the page embeds it as is
    out = OutputSanitizer(hidden).cell([shown])
    assert out[0] == stream(HIDDEN_NOTE + "\n")
    assert out[1] == {"output_type": "display_data", "metadata": {},
                      "data": {"text/plain": "<Leak>", "image/png": png}}
    only = OutputSanitizer(hidden).cell([{"output_type": "display_data", "metadata": {},
                                          "data": {"text/plain": LEAK}}])
    assert only == [stream(HIDDEN_NOTE + "\n")]


@pytest.mark.parametrize("text_plain", ["0.5", "1", " 2.0\n", LEAK, "'some repr'"])
def test_execute_results_keep_the_partial_credit_nbgrader_reads(hidden, text_plain):
    result = {"output_type": "execute_result", "execution_count": 3, "metadata": {},
              "data": {"text/plain": text_plain, "text/html": LEAK}}
    out = OutputSanitizer(hidden).cell([result])
    assert out[-1]["output_type"] == "execute_result" and "text/html" not in out[-1]["data"]
    assert grade_of(out) == grade_of([result])
    assert not hidden.found_in(json.dumps(out))


def test_widget_state_with_hidden_code_leaves_the_notebook(course, hidden):
    nb = new_notebook(cells=[new_code_cell("w = Text(value=In[-1])")])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"m1": {"state": {"value": LEAK}}}, "version_major": 2, "version_minor": 0}}
    nb, _ = SanitizeOutputs(config=course).preprocess(nb, resources())
    assert "widgets" not in nb.metadata
    honest = new_notebook(cells=[])
    honest.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    honest, _ = SanitizeOutputs(config=course).preprocess(honest, resources())
    assert "widgets" in honest.metadata


# ---------------------------------------------------------------- sizes

def test_a_flood_keeps_its_head_and_tail():
    flood = "".join(f"line {i:07d} " + "x" * 100 + "\n" for i in range(20_000))  # 2.3 MB
    out = OutputSanitizer(HiddenCode(), Limits(output_chars=20_000)).cell([stream(flood)])
    text = out[0]["text"]
    assert len(text) < 20_200 and text.startswith("line 0000000") and text.endswith(flood[-500:])
    assert "characters removed by the grader: output too long" in text


def test_large_payloads_are_dropped_with_a_note_and_plain_text_is_cut():
    big_png = "A" * 3_000_000
    big_html = "<table>" + "<tr><td>1</td></tr>" * 5_000 + "</table>"
    shown = {"output_type": "display_data", "metadata": {},
             "data": {"image/png": big_png, "text/html": big_html, "text/plain": "y" * 50_000}}
    out = OutputSanitizer(HiddenCode()).cell([shown])
    note = out[0]["text"]
    assert "image/png output of 3,000,000 bytes removed" in note and "text/html output" in note
    assert set(out[1]["data"]) == {"text/plain"} and len(out[1]["data"]["text/plain"]) < 20_200
    small = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "A" * 100_000}}
    assert OutputSanitizer(HiddenCode()).cell([small]) == [small]


def test_cell_budget_keeps_what_decides_the_grade():
    limits = Limits(output_chars=1_000, cell_chars=5_000)
    many = [stream("z" * 1_000) for _ in range(30)]
    for decisive in ([stream("warning\n", "stderr")],
                     [{"output_type": "error", "ename": "AssertionError", "evalue": "e" * 900,
                       "traceback": ["t" * 900]}],
                     [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                       "data": {"text/plain": "0.25"}}],
                     []):
        outputs = many + decisive + [stream("after\n", "stderr")]
        out = OutputSanitizer(HiddenCode(), limits).cell(outputs)
        assert sum(len(json.dumps(o)) for o in out) < 8_000
        assert grade_of(out) == grade_of(outputs)
        assert "more output(s) removed by the grader" in out[-1]["text"]


def test_notebook_budget_spans_cells():
    sanitizer = OutputSanitizer(HiddenCode(), Limits(notebook_bytes=50_000))
    kept = [sanitizer.cell([stream("q" * 15_000)]) for _ in range(6)]
    assert [len(k[0]["text"]) for k in kept[:3]] == [15_000] * 3
    assert all("removed by the grader" in k[-1]["text"] for k in kept[3:])


def test_sanitizing_never_changes_a_grade(hidden):
    cases = [
        [stream(LEAK), stream("x" * 30_000, "stderr")],
        [stream("ok\n"), {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                          "data": {"text/plain": "1.5"}}],
        [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": LEAK}},
         {"output_type": "error", "ename": "E", "evalue": LEAK, "traceback": [LEAK]}],
        [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
          "data": {"text/plain": "9" * 200}}],
        [stream(LEAK * 50)] * 40,
    ]
    for outputs in cases:
        for limits in (Limits(), Limits(output_chars=100, cell_chars=300, cell_bytes=500)):
            out = OutputSanitizer(hidden, limits).cell(outputs, test_cell=True)
            assert grade_of(out) == grade_of(outputs)
            assert not hidden.found_in(json.dumps(out))


# ---------------------------------------------------------------- the preprocessors

def graded_notebook() -> nbformat.NotebookNode:
    """A graded notebook: the test cell restored with its hidden tests, outputs leaking them."""
    answer = new_code_cell("def area(w, h):\n    return w * h\n### BEGIN HIDDEN TESTS\n# mine",
                           metadata=_meta("ex_area", grade=False, solution=True, locked=False))
    answer.outputs = [new_output("stream", name="stdout", text="area ready\n")]
    test = new_code_cell(TEST_SOURCE, metadata=_meta("test_area", grade=True, solution=False,
                                                     locked=True, points=2))
    test.outputs = [nbformat.from_dict(o) for o in _verdict(LEAK, [], 2.0)]
    later = new_code_cell("print(_seen)")
    later.outputs = [new_output("stream", name="stdout", text=f"cell code:\n{LEAK}")]
    return new_notebook(cells=[new_markdown_cell("### END SOLUTION (a stray marker)"),
                               answer, test, later])


def test_sanitize_outputs_cleans_every_cell_of_a_graded_notebook(course, caplog):
    nb = graded_notebook()
    grades = [determine_grade(c)[0] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    with caplog.at_level(logging.WARNING):
        nb, _ = SanitizeOutputs(config=course).preprocess(nb, resources())
    hidden = HiddenCode.from_source(source_notebook())
    assert not any(hidden.found_in(json.dumps(c.get("outputs", []))) for c in nb.cells)
    assert nb.cells[1].outputs[0]["text"] == "area ready\n"
    assert nb.cells[2].outputs[0]["text"].splitlines()[::2] == [
        HIDDEN_NOTE, "Hidden checks: 1 of 2 case(s) passed -> 2 of 2 point(s)."]
    assert nb.cells[3].outputs[0]["text"] == HIDDEN_NOTE + "\n"
    assert [determine_grade(c)[0] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")] == grades
    assert "2 output(s) removed for showing hidden test code" in caplog.text
    nbformat.validate(nb)


def test_sanitize_outputs_needs_the_source_notebook(tmp_path):
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    with pytest.raises(FileNotFoundError, match="no source notebook"):
        SanitizeOutputs(config=config).preprocess(graded_notebook(), resources())


def test_student_markers_are_disabled_so_feedback_can_strip_hidden_tests(course):
    nb = graded_notebook()
    forged = new_code_cell("### BEGIN HIDDEN TESTS\nprint('mine')",
                           metadata=_meta("test_mine", grade=True, solution=False, locked=True))
    nb.cells.append(forged)
    with pytest.raises(RuntimeError, match="No end hidden tests"):  # what generate_feedback did
        _clear_hidden_tests(nbformat.from_dict(json.loads(json.dumps(nb))))
    nb, _ = DisableRegionMarkers(config=course).preprocess(nb, resources())
    assert nb.cells[0].source == "### END_SOLUTION [disabled by the grader] (a stray marker)"
    assert nb.cells[1].source.splitlines()[2] == "### BEGIN_HIDDEN_TESTS [disabled by the grader]"
    assert nb.cells[2].source == TEST_SOURCE  # the assignment's own test cell keeps its markers
    assert forged.source.startswith("### BEGIN_HIDDEN_TESTS [disabled")  # unknown id: not a test
    nb = _clear_hidden_tests(nb)
    assert "_random" not in nb.cells[2].source and nb.cells[2].source.startswith("assert area(2, 3)")
    assert "# mine" in nb.cells[1].source


def _clear_hidden_tests(nb):
    clear = ClearHiddenTests(enforce_metadata=False)
    return clear.preprocess(nb, {})[0]


@pytest.mark.parametrize("text, expected", [
    ("x = 1", "x = 1"),
    ("  ### BEGIN SOLUTION\ny", "  ### BEGIN_SOLUTION [disabled by the grader]\ny"),
    ('s = "END HIDDEN TESTS"', 's = "END_HIDDEN_TESTS [disabled by the grader]"'),
    ("MARK", "M_ARK [disabled by the grader]"),
])
def test_disable_markers(text, expected):
    markers = ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION", "MARK"]
    assert disable_markers(text, markers) == expected
    assert not any(m in disable_markers(text, markers) for m in markers)
