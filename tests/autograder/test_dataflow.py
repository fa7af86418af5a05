"""Review flags for test data fed into training (autograder.dataflow)."""

from __future__ import annotations

import nbformat
import pytest

from autograder.dataflow import flag_test_data
from tests.notebooks.submissions import ROOT

CASES = {
    "renamed split": ([(1, "(a, b), (c, d) = load_mnist()\nprep = c / 255.0"),
                       (2, "model.fit(prep[..., None], d, epochs=1)")], "trains on the test set: cell 2"),
    "indexed result": ([(1, "data = load_mnist()\nimgs, labs = data[1]"),
                        (3, "m.fit(x=imgs, y=labs)")], "trains on the test set: cell 3"),
    "weights from test images": ([(4, "w = [x_test.reshape(-1, 784).T]\nmodel.layers[1].set_weights(w)")],
                                 "sets model weights from the test set: cell 4"),
    "selection on test": ([(5, "model.fit(x_train, y_train, validation_data=(x_test, y_test))")],
                          "selects the model on the test set"),
    "train_on_batch": ([(2, "for xb in np.array_split(x_test, 10):\n    model.train_on_batch(xb, yb)")],
                       "trains on the test set: cell 2, line 2"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_flags_name_the_cell(name):
    cells, expected = CASES[name]
    flags = flag_test_data(cells)
    assert len(flags) == 1 and flags[0].startswith(expected), flags


def test_honest_code_is_not_flagged():
    cells = [(1, ("(x_train, y_train), (x_test, y_test) = load_mnist()\n"
                 "x_tr, x_val, y_tr, y_val = train_test_split(x_train, y_train, test_size=0.1)")),
             (2, ("%time model.fit(x_tr, y_tr, validation_data=(x_val, y_val))\n"
                 "model.fit(x_tr, y_tr)\nacc = model.evaluate(x_test, y_test)")),
             (3, "this is not python (")]
    assert flag_test_data(cells) == []


@pytest.mark.parametrize("chapter", sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()))
def test_no_source_cell_is_flagged(chapter):
    nb = nbformat.read(ROOT / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    cells = [(i + 1, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    assert flag_test_data(cells) == []
