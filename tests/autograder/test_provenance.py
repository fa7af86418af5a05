"""What a graded run may start from (autograder.provenance): no files, no blobs, no old models."""

from __future__ import annotations

from pathlib import Path

from autograder.provenance import (
    CellBudget,
    Findings,
    ModelGuard,
    fingerprint,
    model_problem,
    restore_notebooks,
    withhold_submission_files,
)


def test_submission_files_are_withheld_and_notebooks_held_aside(tmp_path):
    source, work, holding = tmp_path / "source", tmp_path / "work", tmp_path / "holding"
    (source / "data").mkdir(parents=True)
    (source / "data" / "table.csv").write_text("master")
    (work / "data").mkdir(parents=True)
    (work / "data" / "table.csv").write_text("master")  # nbgrader's copy of the master file
    (work / "my_best.keras").write_bytes(b"PK weights")
    (work / "extra").mkdir()
    (work / "extra" / "w.npy").write_bytes(b"w")
    (work / "ch09.ipynb").write_text("{}")
    (work / "link").symlink_to("/etc/hostname")
    deleted, held = withhold_submission_files(work, source, holding)
    assert deleted == ["extra/w.npy", "link", "my_best.keras"]
    assert held == [Path("ch09.ipynb")]
    assert sorted(p.name for p in work.rglob("*")) == ["data", "table.csv"]
    (work / "ch09.ipynb").mkdir()  # what a kernel could put in the notebook's place
    restore_notebooks(work, holding, held)
    assert (work / "ch09.ipynb").read_text() == "{}"


def test_cell_budget_counts_only_what_the_student_wrote():
    budget = CellBudget({"print('instructor')\n" * 600}, max_cell_kb=1, max_authored_kb=2)
    assert budget.refuse("print('instructor')\n" * 600, "cell 2") is None  # release code: free
    assert budget.refuse("x = 1\n" * 100, "cell 3") is None
    big = "blob = '" + "A" * 1500 + "'"
    assert "cell 4 holds 1.5 kB of code you wrote, more than the 1 kB" in budget.refuse(big, "cell 4")
    assert budget.refuse("y = 2\n" * 150, "cell 5") is None
    assert "would bring the code you wrote" in budget.refuse("z = 3\n" * 150, "cell 6")


def test_model_guard_deletes_a_premade_model_and_fingerprints_the_trained_one(tmp_path):
    found = Findings()
    guard = ModelGuard(tmp_path, {"m.keras": "train"}, found)
    (tmp_path / "m.keras").write_bytes(b"premade")
    guard.before("other", "cell 3")
    assert (tmp_path / "m.keras").exists()  # only the training cell's turn deletes it
    guard.before("train", "cell 9 (grade id train)")
    assert not (tmp_path / "m.keras").exists()
    assert "m.keras existed before cell 9 (grade id train) ran" in found.flags[0]
    (tmp_path / "m.keras").write_bytes(b"trained")
    guard.after("train")
    assert found.models == {"m.keras": fingerprint(tmp_path / "m.keras")}
    assert model_problem(found, tmp_path, "m.keras", "train") is None
    (tmp_path / "m.keras").write_bytes(b"replaced later")
    assert "not the file the training cell (grade id train) saved" in model_problem(
        found, tmp_path, "m.keras", "train")
    assert model_problem(Findings(), tmp_path, "m.keras", "train").startswith(
        "m.keras was not saved by the training cell")
    (tmp_path / "m.keras").unlink()
    assert model_problem(found, tmp_path, "m.keras", "train") is None  # the file checks say why
