"""Chapter 9 through the real grading path: the saved model is what is graded.

Graded by ``cnn-course grade --jobs 2``, in two runs on one course. In the
``cpu`` profile: the instructor's source notebook (its recipe must reach the
cpu profile's full marks, 99.5 % test accuracy, inside this test). Then, in the
``smoke`` profile (seconds-long lessons; the model grading and its tiers are
the cpu profile's), everything not graded yet: the seed-style tutorial CNN
trained for 2 epochs on the 60,000 training images (partial credit), the
blank release, the attacks on the model grading (nothing saved but a printed
accuracy, a Lambda layer, a dense-only model, a symbolic link, an oversized
model) and the attempts to buy model credit that the graded run blocks
(``ch09_cases.BLOCKED``: memorizing or training on the test set, reading the
data files, models submitted beside the notebook, pasted weights, a model
file made before the training cell, reading the notebook file). The second
run must skip what the first graded: a source notebook regraded in the smoke
profile would miss the 99.5 % that the reference test below asserts.
"""

from __future__ import annotations

import csv
import re

import nbformat
import pytest

from autograder import cli, grading
from autograder.models import model_credit
from autograder.tamper import read_flags
from course.thresholds import tiers
from tests.notebooks import ch09_cases
from tests.notebooks.grading_checks import cell_text
from tests.notebooks.submissions import ROOT, make_submission, solved_sources

pytestmark = pytest.mark.slow

A = "ch09_mnist"
AUTOGRADED = {"test_preprocess", "test_build_model", "test_model_file"}


@pytest.fixture(scope="module")
def beside_model(tmp_path_factory) -> bytes:
    """The memorizing model of the *real* test set, trained nowhere (``ch09_cases.MEMORIZE``)."""
    import keras

    from course.data import load_mnist

    _, (x_test, y_test) = load_mnist()
    scope = {"keras": keras, "x_real": x_test, "y_real": y_test}
    exec(ch09_cases.memorizer("x_real", "y_real"), scope)  # noqa: S102 - the test's own code
    path = tmp_path_factory.mktemp("beside") / "best.keras"
    scope["model"].save(path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def graded(course_factory, beside_model):
    course = course_factory("ch09", [A])
    make_submission(course, A, "source", raw=ROOT / "source" / A / f"{A}.ipynb")
    make_submission(course, A, "blank", solved=False)
    make_submission(course, A, "tutorial", overrides={"ex2_build_model": ch09_cases.TUTORIAL_MODEL,
                                                      "ex3_train": ch09_cases.TUTORIAL_TRAIN})
    for name, (overrides, _) in ch09_cases.ATTACKS.items():
        make_submission(course, A, f"attack_{name}", overrides=overrides)
    for name, (overrides, files, *_) in ch09_cases.BLOCKED.items():
        files = {k: beside_model if v == "BESIDE" else v for k, v in (files or {}).items()}
        make_submission(course, A, f"blocked_{name}", overrides=overrides, files=files)
    grade = ["--root", str(course), "grade", A, "--jobs", "2", "--quiet"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNN_COURSE_PROFILE", "cpu")
        rc_cpu = cli.main([*grade, "--student", "source"])
        mp.setenv("CNN_COURSE_PROFILE", "smoke")
        rc_smoke = cli.main(grade)  # the rest: the source is skipped, already graded
    return course, (rc_cpu, rc_smoke), grading.cell_scores(course, A)


def auto(scores, student):
    return {k: v[0] for k, v in scores[student].items() if k in AUTOGRADED}


def model_message(course, student) -> str:
    """The verdict text of the model cell in the autograded notebook."""
    return cell_text(course, A, student, "test_model_file")


def test_every_submission_is_graded(graded):
    course, rcs, _ = graded
    assert rcs == (0, 0)
    rows = {r["student_id"] for r in csv.DictReader((course / "grades.csv").open())}
    assert rows == {"source", "blank", "tutorial", *(f"attack_{n}" for n in ch09_cases.ATTACKS),
                    *(f"blocked_{n}" for n in ch09_cases.BLOCKED)}


def test_reference_recipe_reaches_full_marks_in_the_cpu_profile(graded):
    course, _, scores = graded
    message = model_message(course, "source")
    print(f"\nreference model: {message}")
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", message).group(1)) / 100
    assert accuracy >= tiers(A, "cpu")["full"], message
    assert auto(scores, "source") == {k: scores["source"][k][1] for k in AUTOGRADED}


def test_blank_release_scores_zero(graded):
    _, _, scores = graded
    assert auto(scores, "blank") == dict.fromkeys(AUTOGRADED, 0.0)


def test_tutorial_cnn_earns_partial_credit(graded):
    course, _, scores = graded
    message = model_message(course, "tutorial")
    print(f"\ntutorial CNN, 2 epochs: {message}")
    score, max_score = scores["tutorial"]["test_model_file"]
    assert 0 < score < max_score, message
    assert scores["tutorial"]["test_preprocess"][0] == scores["tutorial"]["test_preprocess"][1]


@pytest.mark.parametrize("name", sorted(ch09_cases.ATTACKS))
def test_model_attacks_score_zero_with_a_precise_message(graded, name):
    course, _, scores = graded
    assert scores[f"attack_{name}"]["test_model_file"][0] == 0.0
    assert ch09_cases.ATTACKS[name][1] in model_message(course, f"attack_{name}")


def notice(course, student) -> str:
    """The grader's notice cell at the top of the autograded notebook ('' when there is none)."""
    nb = nbformat.read(course / "autograded" / student / A / f"{A}.ipynb", as_version=4)
    first = nb.cells[0]
    return first.source if first.cell_type == "markdown" and "**Graded run.**" in first.source else ""


def test_the_model_brought_beside_the_notebook_would_earn_full_marks(beside_model, tmp_path):
    """Control: the file the blocked attacks bring is worth 10 of 10 if the grader took it."""
    (tmp_path / "mnist_model.keras").write_bytes(beside_model)
    verdict = model_credit("mnist_model.keras", A, "cpu", tmp_path)
    assert verdict.share == 1.0 and verdict.score >= 0.999, verdict.message


@pytest.mark.parametrize("name", sorted(ch09_cases.BLOCKED))
def test_bought_model_credit_is_blocked_flagged_and_explained(graded, name):
    course, _, scores = graded
    student = f"blocked_{name}"
    _, _, verdict, flag, explained = ch09_cases.BLOCKED[name]
    message = model_message(course, student)
    assert scores[student]["test_model_file"][0] == 0.0, message
    assert verdict in message
    if flag:
        assert any(flag in f for f in read_flags(course, A, student)), read_flags(course, A, student)
    if explained:
        assert explained in notice(course, student)


def test_honest_runs_use_the_standin_and_raise_no_new_flag(graded):
    course, _, _ = graded
    for student in ("source", "tutorial"):
        assert "The grader holds the MNIST test set" in notice(course, student)
        new = ("test set", "submitted beside", "oversized", "model file", "loads a saved", "decodes",
               "data set file")
        assert not [f for f in read_flags(course, A, student) if any(n in f for n in new)]
    nb = nbformat.read(course / "autograded" / "source" / A / f"{A}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "x_test/y_test here are a stand-in" in text and "stand-in (graded run) accuracy" in text


def test_solution_cells_used_by_the_cases_exist():
    assert {"ex1_preprocess", "ex2_build_model", "ex3_train"} <= set(solved_sources(A))
