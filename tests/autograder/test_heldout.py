"""The grader's evaluation data never reaches a graded kernel (autograder.heldout).

A sandboxed kernel given ``withheld_paths`` and ``graded_data_dir``, as
``RobustExecute`` gives them for chapter 9, must find no copy of the MNIST
test set (not through ``course.data``, not in the packaged file, not in the
Keras cache) and get the official training split with a stand-in test split.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder import heldout
from autograder.sandbox import GRADED_DATA_MOUNT, bwrap_usable, mask_args
from course import data
from course.graded_data import GRADED_DATA_ENV, STANDIN, standin_notice
from tests.autograder.test_sandbox import run_cells

USABLE, WHY = bwrap_usable()


@pytest.fixture(scope="module")
def graded_dir(tmp_path_factory):
    return heldout.prepare_graded_data(["mnist"], tmp_path_factory.mktemp("graded"))


def test_graded_data_holds_the_training_split_and_a_standin(graded_dir):
    (x_train, y_train), (x_test, _) = data.load_mnist()
    with np.load(graded_dir / "mnist.npz") as npz:
        assert np.array_equal(npz["x_train"], x_train) and np.array_equal(npz["y_train"], y_train)
        assert np.array_equal(npz["x_test"], x_train[STANDIN])
        assert np.array_equal(npz["y_test"], y_train[STANDIN])
        assert not np.array_equal(npz["x_test"], x_test)
    before = (graded_dir / "mnist.npz").stat().st_mtime_ns
    heldout.prepare_graded_data(["mnist"], graded_dir)  # reused, not rewritten
    assert (graded_dir / "mnist.npz").stat().st_mtime_ns == before


def test_withheld_paths_name_every_copy_the_loader_reads():
    data.load_mnist()
    paths = heldout.withheld_paths(["mnist"])
    assert data.last_source["mnist"]["location"] in paths
    with pytest.raises(ValueError, match="cannot hold out"):
        heldout.withheld_paths(["imagenet"])


def test_loader_in_a_graded_run_returns_the_standin(graded_dir, monkeypatch, capsys):
    monkeypatch.setenv(GRADED_DATA_ENV, str(graded_dir))
    monkeypatch.setattr("course.graded_data._announced", set())
    (x_train, _), (x_test, _y_test) = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.array_equal(x_test, x_train[STANDIN])
    assert data.last_source["mnist"]["source"] == "graded-run"
    assert standin_notice("mnist") in capsys.readouterr().out
    data.load_mnist()
    assert capsys.readouterr().out == ""  # said once


def test_mask_args_cover_file_and_cache_spellings(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "mnist.npz").write_bytes(b"x")
    args = mask_args([str(cache / "mnist.npz"), str(tmp_path / "missing")], str(tmp_path), str(cache))
    targets = args[2::3]
    assert str(cache / "mnist.npz") in targets and "/tmp/keras/datasets/mnist.npz" in targets
    assert all(a == "--ro-bind" for a in args[0::3])
    assert (tmp_path / "withheld").stat().st_size == 0


@pytest.mark.skipif(not USABLE, reason=f"bubblewrap sandbox unusable here: {WHY}")
def test_graded_kernel_cannot_read_the_test_set(graded_dir, tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    withheld = heldout.withheld_paths(["mnist"])
    code = f"""
import json, os, hashlib
from course import data
(x, y), (xt, yt) = data.load_mnist()
found = {{}}
for p in {withheld!r} + ["/tmp/keras/datasets/mnist.npz"]:
    if os.path.exists(p):
        found[p] = os.path.getsize(p)
real = {{}}
for source in ("keras-cache", "package"):  # the loaders' own sources, past the graded-run one
    try:
        data._LOADERS["mnist"][source]()
        real[source] = "loaded"
    except Exception as exc:
        real[source] = type(exc).__name__
print(json.dumps({{"standin": bool((xt == x[50000:]).all()), "env": os.environ.get("{GRADED_DATA_ENV}"),
                  "sizes": found, "real": real}}))
"""
    (result,), _ = run_cells([code], workdir, withheld_paths=withheld, graded_data_dir=str(graded_dir))
    assert result is not None, "the graded kernel could not load its data"
    assert result["standin"] and result["env"] == GRADED_DATA_MOUNT
    assert set(result["sizes"].values()) <= {0}, result
    assert "loaded" not in result["real"].values(), result
