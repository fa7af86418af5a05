"""course.ch06: the builders match their papers and the cost counters match Keras."""

from __future__ import annotations

import keras
import pytest

from course import ch06


def test_lenet5_and_alexnet_have_their_known_sizes():
    assert ch06.lenet5().count_params() == 61_706
    alex = ch06.alexnet()
    assert alex.count_params() == 60_965_224          # the paper's "60 million parameters"
    assert ch06.depth(alex) == 8 and ch06.depth(ch06.lenet5()) == 5


def test_googlenet_is_22_layers_deep_and_about_1_5_billion_multiply_adds():
    google = ch06.googlenet()
    assert ch06.depth(google) == 22                   # "22 layers deep" (Szegedy et al. 2015)
    assert 1.5e9 < ch06.multiply_adds(google) < 1.6e9
    assert google.get_layer("inception_3a_concat").output.shape[-1] == 256


def test_depth_follows_the_longest_path_not_the_layer_count():
    resnet = ch06.keras_applications(["ResNet50"])["ResNet50"]
    convs = sum(isinstance(layer, keras.layers.Conv2D) for layer in resnet.layers)
    assert convs == 53 and ch06.depth(resnet) == 50   # 4 projection shortcuts lie on shorter paths


@pytest.mark.parametrize("layer, shape", [
    (keras.layers.Conv2D(8, 3, groups=2, strides=2, padding="same"), (9, 9, 4)),
    (keras.layers.DepthwiseConv2D(5, depth_multiplier=3), (12, 10, 2)),
    (keras.layers.SeparableConv2D(7, 3, depth_multiplier=2, strides=2), (11, 11, 3)),
    (keras.layers.Dense(5), (4, 6)),
])
def test_multiply_adds_count_one_multiply_per_weight_use(layer, shape):
    """Each kind of layer follows its documented formula, on the real output shape."""
    import numpy as np

    model = keras.Sequential([keras.Input(shape), layer])
    out = layer.output.shape[1:]
    positions = int(np.prod(out[:-1]))
    if isinstance(layer, keras.layers.SeparableConv2D):
        kh, kw = layer.kernel_size
        mid = shape[-1] * layer.depth_multiplier
        want = positions * mid * kh * kw + positions * mid * out[-1]
    elif isinstance(layer, keras.layers.DepthwiseConv2D):
        want = positions * out[-1] * layer.kernel_size[0] * layer.kernel_size[1]
    elif isinstance(layer, keras.layers.Conv2D):
        want = positions * out[-1] * 9 * shape[-1] // layer.groups
    else:
        want = positions * shape[-1] * layer.units
    assert ch06.multiply_adds(model) == want


def test_residual_and_plain_stacks_differ_only_by_their_shortcuts():
    plain, residual = ch06.deep_stack(6, skips=False), ch06.deep_stack(6, skips=True)
    assert plain.count_params() == residual.count_params()
    assert sum(isinstance(layer, keras.layers.Add) for layer in residual.layers) == 3
    assert ch06.depth(plain) == ch06.depth(residual) == 8
    with pytest.raises(ValueError, match="even depth"):
        ch06.deep_stack(5, skips=True)


def test_se_block_recalibrates_each_channel_by_one_factor():
    import numpy as np

    block = ch06.se_model((4, 5, 32), ratio=8)
    assert block.count_params() == 32 * 4 + 4 + 4 * 32 + 32
    x = np.random.default_rng(0).normal(size=(2, 4, 5, 32)).astype("float32")
    scale = keras.ops.convert_to_numpy(block(x)) / x
    assert np.allclose(scale, scale[:, :1, :1, :], atol=1e-5) and (scale > 0).all() and (scale < 1).all()


def test_quoted_results_name_their_sources():
    assert all(source for *_, source in ch06.ILSVRC_TOP5)
    years = [year for year, *_ in ch06.ILSVRC_TOP5]
    assert years == sorted(years)
