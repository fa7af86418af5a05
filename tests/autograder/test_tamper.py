"""autograder.tamper: code patterns and cell numbers of the tamper report (no kernel)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.tamper import locked_cell_flags, scan_code, student_code
from tests.notebooks.submissions import ROOT, solved_sources

A = "ch02_params_and_memory"


def labels(code: str) -> list[str]:
    return [flag.split(":")[0] for flag in scan_code([(1, code)])]


@pytest.mark.parametrize("code, label", [
    ("get_ipython().ast_transformers.append(_Nothing())", "IPython input transformer"),
    ("exit()", "exit hook or hard exit"),
    ("if done:\n    quit(0)", "exit hook or hard exit"),
    ("get_ipython().ask_exit()", "exit hook or hard exit"),
    ("raise SystemExit('stop')", "exit hook or hard exit"),
    ("from IPython.display import publish_display_data", "probe imitation"),
    ("display({'application/vnd.cnn-course.probe+json': p}, raw=True)", "probe imitation"),
    ("from course.probe import PROBE_MIME", "probe imitation"),
    ('print(json.dumps({"name": n, "records": [{"input": a, "output": v}]}))', "probe imitation"),
    ("os.symlink('../../../source', 'notes')", "symbolic link"),
    ("Path('notes.txt').symlink_to(target)", "symbolic link"),
    ("print(In[-1])", "reads the cell history"),
    ('print(get_ipython().user_ns["In"][-1])', "reads the cell history"),
    ("code = _ih[-1]", "reads the cell history"),
    ("print(_i3)", "reads the cell history"),
    ("def show(info):\n    print(info.raw_cell)", "reads the cell history"),
    ("get_ipython().history_manager.get_range()", "reads the cell history"),
    ("import linecache", "reads the cell history"),
])
def test_new_patterns_are_flagged(code, label):
    assert label in labels(code)


@pytest.mark.parametrize("code", [
    "exit_code = 0\nsys_exit_requested = False",
    "model.exit_training()\nself.quit_after = 3",
    "records = [r for r in rows]\nhistory = model.fit(x, y)",
    "print('Input shape:', x.shape)\nIndex = 3\nfor _i in range(3): pass",
    "def symlinks_are_bad(): return 'no'",
    "conv_output_size(200, 3, 2, 'same')",
])
def test_honest_code_is_not_flagged(code):
    assert scan_code([(1, code)]) == []


def test_flags_give_the_cell_number_in_the_notebook():
    nb = new_notebook(cells=[new_markdown_cell("# title"), new_code_cell("x = 1"),
                             new_markdown_cell("text"), new_code_cell("y = 2\nexit()")])
    assert scan_code(student_code(nb, None)) == ["exit hook or hard exit: cell 4, line 2: exit()"]


def test_only_code_the_student_wrote_is_scanned():
    release = nbformat.read(ROOT / "release" / A / f"{A}.ipynb", as_version=4)
    nb = nbformat.read(ROOT / "release" / A / f"{A}.ipynb", as_version=4)
    numbers = [n for n, _ in student_code(nb, release)]
    locked = [i + 1 for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("locked")]
    assert numbers and not set(numbers) & set(locked)
    test = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("locked")
                and c.cell_type == "code")
    nb.cells[test].source += "\nprint(In[-1])"  # an edited locked cell (or a pasted copy) counts
    nb.cells[test].metadata["nbgrader"]["locked"] = False
    line = nb.cells[test].source.count("\n") + 1
    assert scan_code(student_code(nb, release)) == [
        f"reads the cell history: cell {test + 1}, line {line}: print(In[-1])"]
    hidden = new_code_cell("exit()", metadata={"nbgrader": {"locked": True}})  # self-declared lock
    nb.cells.append(hidden)
    assert any(f"cell {len(nb.cells)}," in f for f in scan_code(student_code(nb, release)))


def test_honest_chapter_2_raises_no_code_flag():
    release = nbformat.read(ROOT / "release" / A / f"{A}.ipynb", as_version=4)
    solved = nbformat.read(ROOT / "release" / A / f"{A}.ipynb", as_version=4)
    answers = solved_sources(A)
    for cell in solved.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers and cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[gid]
    assert scan_code(student_code(release, release)) == []
    assert scan_code(student_code(solved, release)) == []


def test_duplicated_and_deleted_grade_cells_are_flagged():
    import copy

    release = nbformat.read(ROOT / "release" / A / f"{A}.ipynb", as_version=4)
    assert locked_cell_flags(release, release) == []
    nb = copy.deepcopy(release)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    nb.cells.append(copy.deepcopy(answer))  # JupyterLab's copy and paste keeps the metadata
    nb.cells.remove(test)
    gid, test_id = answer.metadata.nbgrader.grade_id, test.metadata.nbgrader.grade_id
    assert locked_cell_flags(nb, release) == [
        f"cell {gid} appears 2 times: one copy is graded, the others run as ordinary cells",
        f"cell {test_id} was deleted"]
