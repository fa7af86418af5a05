"""Chapter 9 runs unchanged on Keras's torch backend.

The whole source notebook (solutions included) is executed with
``KERAS_BACKEND=torch`` in the ``smoke`` profile (one short epoch of every
training run on a subset): the live-training callback, the ablation, the
recipe's layers, schedule and loss.  The model it saves is then graded by the
trusted evaluator on the TensorFlow backend, so the ``.keras`` file also
crosses backends.
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from autograder.models import model_credit
from autograder.references import execute_notebook
from tests.notebooks.submissions import ROOT

pytestmark = pytest.mark.slow
A = "ch09_mnist"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed "
                    "(pip install torch==2.13.0, the `torch` extra)")
def test_the_notebook_runs_on_the_torch_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.setenv("CNN_COURSE_PROFILE", "smoke")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    folder = tmp_path / A
    shutil.copytree(ROOT / "source" / A, folder)
    keep = tmp_path / "kept"
    keep.mkdir()
    nb_path = folder / f"{A}.ipynb"
    nb = nbformat_with_save(nb_path, keep)
    nb_path.write_text(nb)
    executed = execute_notebook(nb_path, timeout=600)  # raises on the first failing cell
    texts = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code"
                    for o in c.get("outputs", []))
    assert "keras 3" in texts and "(torch" in texts, texts[:300]
    assert "saved mnist_model.keras" in texts
    monkeypatch.delenv("KERAS_BACKEND")
    verdict = model_credit("mnist_model.keras", "ch09_mnist", "cpu", keep)
    assert verdict.score is not None, verdict.message
    assert "10,000 images" in verdict.message


def nbformat_with_save(path, keep) -> str:
    """The notebook's JSON with one extra cell that copies the saved model to ``keep``."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        f"import shutil\nshutil.copy('mnist_model.keras', {str(keep)!r})"))
    return nbformat.writes(nb)
