"""The course layout and the nbgrader cell helpers every module uses."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell
from traitlets.config import Config

from autograder.cells import grade_id, is_locked_cell, is_solution_cell, is_test_cell, nbgrader_meta
from autograder.layout import CourseLayout


def test_layout_names_every_folder_and_record(tmp_path):
    layout = CourseLayout.at(tmp_path)
    assert layout.source_notebook("ch01", "ch01") == tmp_path / "source" / "ch01" / "ch01.ipynb"
    assert layout.release_dir("ch01") == tmp_path / "release" / "ch01"
    assert layout.submitted_notebook("ch01", "ann", "ch01") == tmp_path / "submitted/ann/ch01/ch01.ipynb"
    assert layout.autograded_dir("ch01", "ann") == tmp_path / "autograded" / "ann" / "ch01"
    assert layout.reference("ch01", "nb") == tmp_path / ".grading/references/ch01/nb.json"
    assert layout.report("ch01", "ann") == tmp_path / ".grading/reports/ch01/ann.json"
    assert layout.done_marker("ch01", "ann") == tmp_path / ".grading/done/ch01/ann.json"
    assert layout.log("ch01", "ann") == tmp_path / ".grading/logs/ch01/ann.log"
    assert layout.gradebook == tmp_path / "gradebook.db"


def test_layout_follows_nbgrader_course_directory_settings(tmp_path):
    config = Config({"CourseDirectory": {"root": str(tmp_path), "submitted_directory": "handed_in"}})
    layout = CourseLayout.from_config(config)
    assert layout.submitted_dir("ch01", "ann") == tmp_path / "handed_in" / "ann" / "ch01"
    assert layout.reference("ch01", "nb").parent.parent == tmp_path / ".grading" / "references"


def test_cell_helpers_read_nbgrader_metadata():
    test = new_code_cell("assert f() == 1", metadata={"nbgrader": {"grade": True, "solution": False,
                                                                    "grade_id": "t1", "locked": True}})
    answer = new_code_cell("x = 1", metadata={"nbgrader": {"grade": True, "solution": True, "grade_id": "a1"}})
    plain = new_code_cell("print(1)")
    broken = new_code_cell("print(2)", metadata={"nbgrader": "not a mapping"})
    graded_text = new_markdown_cell("text", metadata={"nbgrader": {"grade": True, "grade_id": "m"}})
    assert [is_test_cell(c) for c in (test, answer, plain, broken, graded_text)] == [True, False, False,
                                                                                    False, False]
    assert [grade_id(c) for c in (test, answer, plain, broken)] == ["t1", "a1", None, None]
    assert is_solution_cell(answer) and not is_solution_cell(test)
    assert is_locked_cell(test) and not is_locked_cell(answer)
    assert nbgrader_meta(broken) == {} and nbgrader_meta(plain) == {}
