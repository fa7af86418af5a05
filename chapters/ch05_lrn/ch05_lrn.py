# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 5 — When would you add a local response normalization layer?
#
# **The question.** AlexNet (2012) and GoogLeNet (2014) contain *local response normalization*
# (LRN) layers. What does such a layer do, what was it supposed to buy, and when would you add one
# to your own network?
#
# **The short answer**, which this notebook demonstrates piece by piece: LRN makes the most
# strongly activated neurons *inhibit* the neurons at the same position in neighbouring feature
# maps (lateral inhibition, borrowed from biology). This pushes neighbouring feature maps to
# specialize in different features, so the network explores a wider range of features. AlexNet's
# authors reported that it lowered their ImageNet error rates a little; later work found that it
# did not help deeper networks, and batch normalization (2015) replaced it. Today you add an LRN
# layer mainly when you rebuild or port a network that was trained with one — and then the exact
# convention of its `alpha` matters.
#
# **How this notebook works.** Read and run the lesson cells in order. The exercises at the end are
# autograded: each has visible tests you can run now, and hidden tests the grader runs on other
# inputs. The last exercise is a short written answer graded by your instructor.

# %%
from course.env import setup

info = setup("ch05")

# %% [markdown]
# ## 1. The formula
#
# LRN works on the output of a convolutional layer (after its ReLU), shape (batch, height, width,
# channels). At every pixel it divides each channel's activation by a power of the sum of squares of
# the activations of the nearby channels **at the same pixel**. TensorFlow's
# `tf.nn.local_response_normalization(input, depth_radius, bias, alpha, beta)` documents it as
#
# ```
# sqr_sum[a, b, c, d] = sum(input[a, b, c, d - depth_radius : d + depth_radius + 1] ** 2)
# output = input / (bias + alpha * sqr_sum) ** beta
# ```
#
# * the window covers channel $d$ itself and `depth_radius` channels on each side: $n =
#   2\,\text{depth\_radius} + 1$ channels in all. At the first and last channels it is simply
#   shorter (the slice is clipped; it does not wrap around);
# * `bias` ($k$) keeps the divisor away from zero, `alpha` ($\alpha$) scales the sum, `beta`
#   ($\beta$) is the exponent. There is nothing to learn: these are hyperparameters.
#
# In the AlexNet paper's notation, $b^i_{x,y} = a^i_{x,y} \big/ \big(k + \alpha
# \sum_{j=\max(0,\,i-n/2)}^{\min(N-1,\,i+n/2)} (a^j_{x,y})^2\big)^{\beta}$ with $k = 2$, $n = 5$,
# $\alpha = 10^{-4}$, $\beta = 0.75$. Let's compute one channel at one pixel by hand and compare
# with TensorFlow:

# %%
import keras
import numpy as np
import tensorflow as tf

pixel = np.array([0.5, 1.0, 8.0, 1.0, 0.5, 2.0, 0.2], dtype=np.float32)  # 7 channels, one pixel
r, bias, alpha, beta = 2, 1.0, 0.1, 0.75
tf_out = tf.nn.local_response_normalization(pixel.reshape(1, 1, 1, -1), r, bias, alpha,
                                            beta).numpy().reshape(-1)

c = 3                                            # a weak channel next to the strong channel 2
window = pixel[c - r:c + r + 1]                  # channels 1..5
by_hand = pixel[c] / (bias + alpha * np.sum(window ** 2)) ** beta
edge = pixel[0] / (bias + alpha * np.sum(pixel[0:r + 1] ** 2)) ** beta   # channel 0: window 0..2
print(f"channel {c}: by hand {by_hand:.6f}, TensorFlow {tf_out[c]:.6f}")
print(f"channel 0 (clipped window): by hand {edge:.6f}, TensorFlow {tf_out[0]:.6f}")
assert np.isclose(by_hand, tf_out[c], rtol=1e-6) and np.isclose(edge, tf_out[0], rtol=1e-6)

print("normalization layers in keras.layers:", [n for n in dir(keras.layers) if n.endswith("Normalization")])
print("LRN-like names in keras.ops:", [n for n in dir(keras.ops) if "lrn" in n.lower() or "response" in n.lower()])
assert not hasattr(keras.layers, "LocalResponseNormalization")

# %% [markdown]
# Keras 3 has no LRN layer and `keras.ops` has no LRN function; TensorFlow keeps the op
# (`tf.nn.local_response_normalization`, alias `tf.nn.lrn`). In the exercises you will write it in
# numpy and then as a backend-independent Keras layer.
#
# ## 2. Lateral inhibition on real feature maps
#
# In the visual cortex, neurons that respond to similar orientations sit next to each other, and a
# strongly excited neuron inhibits its neighbours (*lateral inhibition*), which sharpens what the
# population as a whole reports. To see the same effect in a CNN, we need feature maps where
# neighbouring channels detect related features. The convolutional layer below is a real
# `keras.layers.Conv2D` (5×5, ReLU) whose 8 filters we set to oriented edge detectors, ordered by
# the direction they respond to (0°, 45°, …, 315°), so channel 1 is the neighbour of channels 0 and
# 2 in orientation too. Like AlexNet, we feed raw 0–255 pixels and apply LRN with AlexNet's
# hyperparameters ($k=2$, $n=5$, i.e. `depth_radius=2`, $\alpha=10^{-4}$, $\beta=0.75$) after the
# ReLU.

# %%
from course.ch05 import ALEXNET_LRN, edge_detector, orientation_labels, plot_feature_maps
from course.data import load_mnist

(_, _), (x_test, y_test) = load_mnist()
digit = x_test[0].astype("float32")                   # raw pixels, 0..255
edges = edge_detector()                               # Conv2D: 8 oriented edge detectors + ReLU
maps = edges(digit[None, ..., None]).numpy()          # (1, 28, 28, 8)
normed = tf.nn.local_response_normalization(maps, **ALEXNET_LRN).numpy()
print(f"digit {y_test[0]}, feature maps {maps.shape}, LRN arguments {ALEXNET_LRN}")
print(f"largest activation {maps.max():.1f} before LRN, {normed.max():.1f} after; "
      f"the divisor is at least bias ** beta = {ALEXNET_LRN['bias'] ** ALEXNET_LRN['beta']:.2f}")
fig = plot_feature_maps(digit, maps[0], normed[0], orientation_labels(),
                        title="Edge maps before (top) and after (bottom) AlexNet's LRN")

# %% [markdown]
# LRN compresses everything (the divisor is at least $2^{0.75} \approx 1.68$ here), but not
# uniformly. To isolate what *one* strong channel does to its neighbours, take every pixel where
# some channel is strongly active (at least half the maximum activation), **remove** that winning
# channel (set it to 0), run LRN again, and compare each other active channel's output with and
# without the winner. Channels within `depth_radius` of the winner share its window; the others do
# not.

# %%
a = maps[0]
winner = a.argmax(axis=-1)
strong = a.max(axis=-1) >= 0.5 * a.max()              # pixels with a clearly strong channel
knocked_out = a.copy()
rows, cols = np.nonzero(strong)
knocked_out[rows, cols, winner[rows, cols]] = 0.0     # the same maps without the winners
with_winner = normed[0]
without_winner = tf.nn.local_response_normalization(knocked_out[None], **ALEXNET_LRN).numpy()[0]

near, far = [], []
for i, j in zip(rows, cols):
    for ch in range(a.shape[-1]):
        if ch != winner[i, j] and a[i, j, ch] > 1.0:  # other active channels at this pixel
            ratio = with_winner[i, j, ch] / without_winner[i, j, ch]
            (near if abs(ch - winner[i, j]) <= ALEXNET_LRN["depth_radius"] else far).append(ratio)
near, far = np.array(near), np.array(far)
print(f"{strong.sum()} strong pixels; {near.size} active neighbours within the window, "
      f"{far.size} active channels outside it")
print(f"neighbours keep {near.mean():.1%} of the output they have without the winner "
      f"(range {near.min():.1%}-{near.max():.1%})")
print(f"channels outside the window keep {far.mean():.1%} (range {far.min():.1%}-{far.max():.1%})")
assert near.size > 50 and far.size > 10
assert near.max() < 0.8 and np.allclose(far, 1.0)

# %% [markdown]
# That is lateral inhibition, measured: a strong activation divides the outputs of the channels in
# its window, and leaves channels outside the window exactly as they were. It also divides itself:
# LRN squashes big activations. With $\beta > 0.5$ it even reverses their order, since for a lone
# activation $s$ the output $s / (k + \alpha s^2)^\beta$ behaves like $s^{1 - 2\beta}$ for large $s$:

# %%
lone = np.array([100.0, 1000.0], dtype=np.float32).reshape(1, 1, 2, 1)   # one channel, two pixels
lone_out = tf.nn.local_response_normalization(lone, **ALEXNET_LRN).numpy().reshape(-1)
print(f"activation 100 -> {lone_out[0]:.1f}, activation 1000 -> {lone_out[1]:.1f}")
assert lone_out[1] < lone_out[0]

# %% [markdown]
# ## 3. Why it might help: neighbouring maps are pushed apart
#
# Why would inhibition help learning? Because it makes redundancy expensive. If two neighbouring
# feature maps detect the same feature, they always fire together and each one's output is divided
# by the other's energy. If they detect different features, they rarely fire at the same pixel and
# keep more of their output. During training, gradient descent therefore gets a push to make
# neighbouring maps *specialize* in different features, so the layer covers a wider range of
# features. Compare a redundant pair of channels (the 0° edge map twice) with a specialized pair
# (the 0° and the 180° edge maps: opposite sides of each stroke):

# %%
right, left = a[..., 0], a[..., 4]                    # 0° and 180° edges
pairs = {"redundant (0°, 0°)": np.stack([right, right], axis=-1),
         "specialized (0°, 180°)": np.stack([right, left], axis=-1)}
kept = {}
for name, pair in pairs.items():
    out = tf.nn.local_response_normalization(pair[None], **ALEXNET_LRN).numpy()[0]
    both = np.mean((pair[..., 0] > 1) & (pair[..., 1] > 1)) / np.mean((pair > 1).any(axis=-1))
    kept[name] = out.sum() / pair.sum()
    print(f"{name:24s} fire together at {both:6.1%} of their active pixels; "
          f"LRN keeps {kept[name]:.1%} of their total activation")
assert kept["specialized (0°, 180°)"] > kept["redundant (0°, 0°)"]

# %% [markdown]
# The AlexNet paper (Krizhevsky, Sutskever & Hinton, 2012, section 3.3) describes exactly this
# motivation — "competition for big activities amongst neuron outputs computed using different
# kernels" — and reports that response normalization reduced their top-1 and top-5 ImageNet error
# rates by 1.4 and 1.2 percentage points. These two figures are quoted from the paper, not measured
# here. AlexNet put LRN right after the ReLU of its first two convolutional layers (each followed by
# max pooling); GoogLeNet (Szegedy et al., 2014) used two LRN layers in its stem.
#
# ## 4. Careful: two conventions for alpha
#
# TensorFlow's formula is the AlexNet paper's: $\alpha$ multiplies the *sum* of squares. Caffe (in
# which AlexNet and GoogLeNet were re-implemented and widely distributed) and PyTorch's
# `torch.nn.LocalResponseNorm(size, alpha, beta, k)` divide $\alpha$ by the window size $n$, i.e.
# they use the *mean* of the squares:
# $b_c = a_c \big/ \big(k + \frac{\alpha}{n} \sum_{c'} a_{c'}^2\big)^{\beta}$, the window running
# from $c - \lfloor n/2 \rfloor$ to $c + \lfloor (n-1)/2 \rfloor$ (PyTorch pads the channel axis
# with $\lfloor n/2 \rfloor$ zeros before and $\lfloor (n-1)/2 \rfloor$ after, then average-pools
# over $n$ channels). PyTorch is not installed here, so the next cell applies that documented formula
# by hand to one channel at the strongest pixel of our digit, with AlexNet's numbers as a PyTorch
# model would write them (`size=5, alpha=1e-4, beta=0.75, k=2`):

# %%
i, j = np.unravel_index(a.max(axis=-1).argmax(), a.shape[:2])
v = a[i, j]                                           # the 8 channel activations at that pixel
n, k_, alpha_, beta_ = 5, 2.0, 1e-4, 0.75
ch = int(v.argmax())
lo, hi = max(0, ch - n // 2), min(len(v) - 1, ch + (n - 1) // 2)
torch_by_hand = v[ch] / (k_ + alpha_ / n * np.sum(v[lo:hi + 1] ** 2)) ** beta_

def tf_at_pixel(alpha_value):
    out = tf.nn.local_response_normalization(v.reshape(1, 1, 1, -1), (n - 1) // 2, k_, alpha_value, beta_)
    return float(out.numpy().reshape(-1)[ch])

print(f"channel {ch} at pixel {(int(i), int(j))}: activation {v[ch]:.2f}")
print(f"PyTorch/Caffe formula by hand:            {torch_by_hand:.4f}")
print(f"TensorFlow with alpha = 1e-4 / 5:         {tf_at_pixel(alpha_ / n):.4f}")
print(f"TensorFlow with alpha = 1e-4 (unchanged): {tf_at_pixel(alpha_):.4f}")
assert np.isclose(torch_by_hand, tf_at_pixel(alpha_ / n), rtol=1e-5)
assert not np.isclose(torch_by_hand, tf_at_pixel(alpha_), rtol=1e-2)

active = maps > 1.0
kept_by_convention = {}
for label, alpha_value in (("AlexNet paper / TensorFlow", 1e-4), ("Caffe / PyTorch", 1e-4 / 5)):
    out = tf.nn.local_response_normalization(maps, 2, 2.0, alpha_value, 0.75).numpy()
    kept_by_convention[label] = np.mean(out[active] / maps[active])
    print(f"{label:27s} alpha=1e-4: active activations keep {kept_by_convention[label]:.1%} on average")
assert round(kept_by_convention["AlexNet paper / TensorFlow"], 3) == 0.374
assert round(kept_by_convention["Caffe / PyTorch"], 3) == 0.500

# %% [markdown]
# The same four numbers give different layers: copying `alpha=1e-4` from a Caffe or PyTorch model
# into `tf.nn.local_response_normalization` makes the $\alpha$ term five times too large: on our
# digit, active activations keep 37.4% of their value instead of 50.0%. To port
# such a layer, use `depth_radius = (size - 1) // 2`, `bias = k`, `alpha = alpha / size`, same
# `beta` — possible only for odd sizes, since TensorFlow's window is symmetric (exercise 3).
#
# ## 5. Explore: one strong channel and its neighbours
#
# Below, 16 channels at one pixel: channel 7 is strongly activated (slider *Strong*), the others
# are weak. The orange band is channel 7's window. Watch the neighbour inside the window (channel 8)
# and a far channel (15): raise *Alpha* or *Strong* and the neighbour collapses while the far
# channel barely moves; shrink *Radius* to 0 and the inhibition disappears (each channel only
# normalizes itself); raise *Beta* above 0.5 and a larger *Strong* gives a *smaller* output for
# channel 7 itself. *Bias* sets the floor of the divisor: with a large bias, LRN is almost a
# constant scaling.

# %%
from course.ch05 import inhibition_widget

inhibition_widget()

# %% [markdown]
# ## 6. Did it help? LRN versus batch normalization
#
# The VGG paper (Simonyan & Zisserman, 2014) trained its 11-layer network with and without LRN and
# found that "such normalisation does not improve the performance on the ILSVRC dataset, but leads
# to increased memory consumption and computation time"; their deeper networks dropped it. The
# batch normalization paper (Ioffe & Szegedy, 2015) removed LRN from its Inception network, finding
# that "with Batch Normalization it is not necessary". The two layers normalize very different
# things; the next cell measures the differences on the edge maps of 64 digits.

# %%
batch = edges(x_test[:64, ..., None].astype("float32")).numpy()       # (64, 28, 28, 8)
other = edges(x_test[64:127, ..., None].astype("float32")).numpy()    # 63 other digits
bn = keras.layers.BatchNormalization()
bn_out = keras.ops.convert_to_numpy(bn(batch, training=True))
lrn_out = tf.nn.local_response_normalization(batch, **ALEXNET_LRN).numpy()

print(f"parameters: BatchNormalization {bn.count_params()} ({len(bn.trainable_weights)} trainable "
      f"tensors gamma/beta + {len(bn.non_trainable_weights)} moving mean/variance), LRN 0")
bn_mean, bn_std = bn_out.mean(axis=(0, 1, 2)), bn_out.std(axis=(0, 1, 2))
print("per-channel mean over batch and pixels: before", batch.mean(axis=(0, 1, 2)).round(1))
print("                                        after LRN", lrn_out.mean(axis=(0, 1, 2)).round(1))
print(f"after BN: every channel mean within {np.abs(bn_mean).max():.0e} of 0, "
      f"std {bn_std.min():.3f}-{bn_std.max():.3f}")
zeros = batch == 0
print(f"zero activations (ReLU): {zeros.mean():.1%}; still zero after LRN: "
      f"{np.mean(lrn_out[zeros] == 0):.1%}, after BN: {np.mean(bn_out[zeros] == 0):.1%}")
assert np.abs(bn_mean).max() < 1e-3 and np.abs(bn_std - 1).max() < 0.01
assert np.all(lrn_out[zeros] == 0) and np.all(np.sign(lrn_out) == np.sign(batch))

first_bn_other = keras.ops.convert_to_numpy(bn(np.concatenate([batch[:1], other]), training=True))[0]
first_lrn_other = tf.nn.local_response_normalization(np.concatenate([batch[:1], other]), **ALEXNET_LRN).numpy()[0]
print(f"same digit in another batch: BN output changes by up to {np.abs(first_bn_other - bn_out[0]).max():.3f}, "
      f"LRN output by {np.abs(first_lrn_other - lrn_out[0]).max()}")
bn_infer = keras.ops.convert_to_numpy(bn(batch, training=False))
print(f"BN training vs inference mode (moving averages after two steps), same inputs: "
      f"outputs differ by up to {np.abs(bn_infer - bn_out).max():.1f}")
assert np.abs(first_bn_other - bn_out[0]).max() > 0.01 and np.array_equal(first_lrn_other, lrn_out[0])
assert np.abs(bn_infer - bn_out).max() > 1.0

# %% [markdown]
# | | local response normalization | batch normalization |
# |---|---|---|
# | normalizes | each activation by the energy of nearby **channels at the same pixel** of the same image | each **channel** by its mean and variance over the **batch** and all pixels |
# | learns | nothing (4 hyperparameters) | a scale $\gamma$ and shift $\beta$ per channel, plus moving statistics |
# | depends on other images | never | in training, yes (the same digit gives another output in another batch) |
# | training vs inference | the same function | batch statistics vs moving averages |
# | zeros, signs | kept (a positive rescaling) | shifted: output is centred, unit variance per channel |
#
# Batch normalization won because it attacks what made deep networks hard to train: it keeps every
# channel's distribution centred and scaled whatever the previous layers do, which allows much
# higher learning rates and deeper networks, and it can learn to undo itself ($\gamma$, $\beta$).
# LRN only squashes and inhibits; it learns nothing. Where batch statistics are a problem (tiny
# batches, e.g. detection and segmentation, or per-example behaviour), the successors are layer and
# group normalization, not LRN. Look at what standard Keras architectures use (built with random
# weights: nothing is downloaded): Inception v3, the successor of GoogLeNet; MobileNetV2, a small
# network for phones; and ConvNeXt (2022), a modern CNN:

# %%
from course.ch05 import normalization_layers

applications = {}
for name in ("InceptionV3", "MobileNetV2", "ConvNeXtTiny"):
    net = getattr(keras.applications, name)(weights=None)
    applications[name] = normalization_layers(net)
    print(f"{name:13s} {applications[name]}")
    del net
assert all("BatchNormalization" in applications[n] for n in ("InceptionV3", "MobileNetV2"))
assert "LayerNormalization" in applications["ConvNeXtTiny"]
assert not any("Response" in kind for counts in applications.values() for kind in counts)

# %% [markdown]
# ## 7. So, when would you add an LRN layer?
#
# * **To reproduce or port a network that was trained with it** (AlexNet, GoogLeNet / Inception v1,
#   many Caffe-era models): the pretrained weights expect their outputs to be normalized exactly
#   that way, so keep the layer, right where it was (after the ReLU of the early convolutional
#   layers, before pooling), and translate its hyperparameters carefully (section 4).
# * **As an experiment** when you want lateral inhibition between neighbouring feature maps in the
#   early layers of a plain CNN without batch normalization: it is parameter-free, per-example and
#   behaves identically in training and inference. Measure whether it helps on a validation set;
#   since VGG, it usually has not.
# * **Not** as a substitute for batch normalization (or layer/group normalization) in a new
#   network: those are what modern CNNs use.
#
# ## Exercises
#
# Tensors are NHWC (batch, height, width, channels), `float32`. Exercises 1 and 2 are checked
# against `tf.nn.local_response_normalization` (relative tolerance 1e-5, absolute 1e-6) on hidden
# random tensors with random radius, bias, alpha and beta.

# %% [markdown]
# ### Exercise 1 (4 points) — LRN in numpy
#
# Write `lrn(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5)` with numpy only (no TensorFlow:
# the point is to understand the formula). It must return a `float32` array of the same shape as
# `x`, equal to `tf.nn.local_response_normalization(x, depth_radius, bias, alpha, beta)` for any
# radius (including 0 and radii larger than the number of channels), bias, alpha and beta, and it
# must not modify `x`.

# %% nbgrader={"grade": false, "grade_id": "ex1_lrn", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def lrn(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    """Local response normalization across the last (channel) axis, like TensorFlow's."""
    ### BEGIN SOLUTION
    x = np.asarray(x)
    channels = x.shape[-1]
    squares = x.astype(np.float64) ** 2
    padded = np.pad(squares, [(0, 0)] * (x.ndim - 1) + [(depth_radius, depth_radius)])
    sqr_sum = sum(padded[..., i:i + channels] for i in range(2 * depth_radius + 1))
    return (x / (bias + alpha * sqr_sum) ** beta).astype(np.float32)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_lrn", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
import inspect
import numpy as np
import tensorflow as tf

_x = np.random.default_rng(5).normal(size=(2, 3, 4, 7)).astype(np.float32)
_y = lrn(_x)
assert isinstance(_y, np.ndarray), f"return a numpy array, not {type(_y).__name__}"
assert _y.shape == _x.shape, f"output shape {_y.shape} should be the input shape {_x.shape}"
assert _y.dtype == np.float32, f"output dtype should be float32 (like TensorFlow's), not {_y.dtype}"
for _scale, _params in [(1, {}),
                        (100, {"depth_radius": 2, "bias": 2.0, "alpha": 1e-4, "beta": 0.75}),
                        (1, {"depth_radius": 0, "bias": 1.5, "alpha": 0.5, "beta": 0.75}),
                        (1, {"depth_radius": 1, "bias": 0.5, "alpha": 0.3, "beta": 1.2}),
                        (2, {"depth_radius": 9, "bias": 1.0, "alpha": 0.2, "beta": 0.6})]:
    _want = tf.nn.local_response_normalization(_scale * _x, **_params).numpy()
    np.testing.assert_allclose(lrn(_scale * _x, **_params), _want, rtol=1e-5, atol=1e-6,
                               err_msg=f"lrn differs from tf.nn.local_response_normalization "
                                       f"with {_params or 'the default arguments'}")
_copy = _x.copy()
lrn(_x, 3, 1.0, 0.5, 0.75)
assert np.array_equal(_x, _copy), "lrn must not modify its input"
_source = inspect.getsource(lrn)
assert "local_response_normalization" not in _source and "tf_lrn" not in _source, (
    "write lrn with numpy, without calling TensorFlow's LRN")
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import numpy as _np
from course.probe import probe as _probe
_rng = _np.random.default_rng(205001)
_cases = []
for _i in range(32):
    _shape = tuple(int(_v) for _v in (_rng.integers(1, 3), _rng.integers(1, 4), _rng.integers(1, 4),
                                      _rng.integers(1, 13)))
    _x = (_rng.normal(size=_shape) * _rng.choice([0.1, 1.0, 5.0, 100.0])).astype(_np.float32)
    if _i < 3:
        _cases.append({"x": _x})
        continue
    _cases.append({"x": _x, "depth_radius": int(_rng.integers(0, 9)),
                   "bias": round(float(_rng.uniform(0.5, 3.0)), 3),
                   "alpha": float(_rng.choice([1e-4, 1e-3, 0.05, 0.5, 1.0, 2.0])),
                   "beta": round(float(_rng.uniform(0.2, 1.5)), 3)})
_probe("lrn", lrn, _cases, rtol=1e-5, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# Your `lrn` in the widget, next to TensorFlow's (the readout shows the largest difference):

# %%
from course.ch05 import inhibition_widget

inhibition_widget(lrn)

# %% [markdown]
# ### Exercise 2 (3 points) — an LRN layer for any Keras backend
#
# Keras 3 has no LRN layer, and `tf.nn.local_response_normalization` only runs on the TensorFlow
# backend. Write `LocalResponseNormalization(keras.layers.Layer)` with the constructor
# `LocalResponseNormalization(depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, **kwargs)`, computed
# with `keras.ops` only (so the layer also runs with `KERAS_BACKEND=jax` or `torch`), on NHWC inputs
# whose number of channels is known (height, width and batch may be `None`, as inside a model). It
# has no weights, and `get_config()` returns its four hyperparameters, so that
# `LocalResponseNormalization.from_config(layer.get_config())` rebuilds the same layer. (Keras 3
# records constructor arguments on its own; writing `get_config` explicitly is still good
# practice.)

# %% nbgrader={"grade": false, "grade_id": "ex2_layer", "locked": false, "schema_version": 3, "solution": true, "task": false}
import keras
from keras import ops


class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalization across channels (NHWC), written with keras.ops."""

    def __init__(self, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.depth_radius = int(depth_radius)
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)
        ### END SOLUTION

    def call(self, inputs):
        ### BEGIN SOLUTION
        r = self.depth_radius
        channels = inputs.shape[-1]
        padded = ops.pad(ops.square(inputs), [[0, 0]] * (len(inputs.shape) - 1) + [[r, r]])
        sqr_sum = padded[..., 0:channels]
        for i in range(1, 2 * r + 1):
            sqr_sum = sqr_sum + padded[..., i:i + channels]
        return inputs / ops.power(self.bias + self.alpha * sqr_sum, self.beta)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        ### BEGIN SOLUTION
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_lrn_layer", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import inspect
import keras
import numpy as np
import tensorflow as tf

_x = 100 * np.random.default_rng(6).normal(size=(2, 5, 5, 6)).astype(np.float32)
_layer = LocalResponseNormalization(depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)
np.testing.assert_allclose(keras.ops.convert_to_numpy(_layer(_x)),
                           tf.nn.local_response_normalization(_x, 2, 2.0, 1e-4, 0.75).numpy(),
                           rtol=1e-5, atol=1e-6, err_msg="differs from tf.nn.local_response_normalization")
np.testing.assert_allclose(keras.ops.convert_to_numpy(LocalResponseNormalization()(_x / 100)),
                           tf.nn.local_response_normalization(_x / 100).numpy(), rtol=1e-5, atol=1e-6,
                           err_msg="check the default arguments (5, 1.0, 1.0, 0.5)")
assert _layer.count_params() == 0 and not _layer.weights, "LRN has nothing to learn: no weights"
_config = _layer.get_config()
_hyper = {_k: _config.get(_k) for _k in ("depth_radius", "bias", "alpha", "beta")}
assert _hyper == {"depth_radius": 2, "bias": 2.0, "alpha": 1e-4, "beta": 0.75}, f"get_config: {_hyper}"
_clone = LocalResponseNormalization.from_config(_config)
np.testing.assert_allclose(keras.ops.convert_to_numpy(_clone(_x)), keras.ops.convert_to_numpy(_layer(_x)),
                           rtol=1e-6, err_msg="from_config(get_config()) gives another layer")
_model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(6, 3, padding="same"),
                           LocalResponseNormalization(1, 1.0, 0.5, 0.75)])
_img = np.random.default_rng(7).random((1, 8, 9, 3)).astype(np.float32)
_out = keras.ops.convert_to_numpy(_model(_img))
assert _out.shape == (1, 8, 9, 6), f"inside a model: output shape {_out.shape}, expected (1, 8, 9, 6)"
_conv = keras.ops.convert_to_numpy(_model.layers[0](_img))
np.testing.assert_allclose(_out, tf.nn.local_response_normalization(_conv, 1, 1.0, 0.5, 0.75).numpy(),
                           rtol=1e-5, atol=1e-6, err_msg="wrong output inside a model")
try:
    _source = "".join(inspect.getsource(_m) for _m in (LocalResponseNormalization.__init__,
                                                       LocalResponseNormalization.call))
except (OSError, TypeError):  # source not available (e.g. defined with exec)
    _source = ""
assert "local_response_normalization" not in _source and "tf." not in _source, (
    "use keras.ops only, so that the layer runs on every Keras backend")
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import keras as _keras
import numpy as _np
from course.probe import probe as _probe

def _layer_case(x, depth_radius, bias, alpha, beta):
    _layer = LocalResponseNormalization(depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta)
    _clone = LocalResponseNormalization.from_config(_layer.get_config())
    _inp = _keras.Input((None, None, x.shape[-1]))
    _net = _keras.Model(_inp, _clone(_inp))
    return {"output": _keras.ops.convert_to_numpy(_layer(x)),
            "in_model": _keras.ops.convert_to_numpy(_net(x)),
            "weights": len(_layer.weights) + len(_clone.weights)}

_rng = _np.random.default_rng(205002)
_cases = []
for _i in range(12):
    _shape = tuple(int(_v) for _v in (_rng.integers(1, 3), _rng.integers(1, 4), _rng.integers(1, 4),
                                      _rng.integers(1, 11)))
    _x = (_rng.normal(size=_shape) * _rng.choice([0.1, 1.0, 5.0, 100.0])).astype(_np.float32)
    _cases.append({"x": _x, "depth_radius": int(_rng.integers(0, 7)),
                   "bias": round(float(_rng.uniform(0.5, 3.0)), 3),
                   "alpha": float(_rng.choice([1e-4, 1e-3, 0.05, 0.5, 1.0, 2.0])),
                   "beta": round(float(_rng.uniform(0.2, 1.5)), 3)})
_probe("LocalResponseNormalization", _layer_case, _cases, rtol=1e-5, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3 (2 points) — port a PyTorch / Caffe LRN to TensorFlow
#
# `tf_args_from_torch(size, alpha=1e-4, beta=0.75, k=1.0)` returns the dict of keyword arguments
# `{"depth_radius": ..., "bias": ..., "alpha": ..., "beta": ...}` for which
# `tf.nn.local_response_normalization(x, **args)` computes exactly what
# `torch.nn.LocalResponseNorm(size, alpha, beta, k)` computes (on the same tensor in NCHW layout).
# When no such arguments exist, raise a `ValueError`. (Section 4 has the PyTorch formula.)

# %% nbgrader={"grade": false, "grade_id": "ex3_torch_args", "locked": false, "schema_version": 3, "solution": true, "task": false}
def tf_args_from_torch(size, alpha=1e-4, beta=0.75, k=1.0):
    """Arguments of tf.nn.local_response_normalization equivalent to torch.nn.LocalResponseNorm."""
    ### BEGIN SOLUTION
    if size % 2 == 0:
        raise ValueError(f"size {size} is even: PyTorch's window is asymmetric, TensorFlow's is not")
    return {"depth_radius": (size - 1) // 2, "bias": k, "alpha": alpha / size, "beta": beta}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_torch_args", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import tensorflow as tf

def _check(size, alpha, beta, k):
    _args = tf_args_from_torch(size, alpha=alpha, beta=beta, k=k)
    assert set(_args) == {"depth_radius", "bias", "alpha", "beta"}, f"keys: {sorted(_args)}"
    _v, _u = 50.0, 3.0
    for _d in (size // 2, size // 2 + 1):          # a neighbour inside, then just outside the window
        _x = np.zeros((1, 1, 1, 12), np.float32)
        _x[..., 2], _x[..., 2 + _d] = _v, _u
        _sum = _v ** 2 + _u ** 2 if _d <= size // 2 else _u ** 2
        _torch = _u / (k + alpha / size * _sum) ** beta  # PyTorch's formula for channel 2 + _d
        _tf = tf.nn.local_response_normalization(_x, **_args).numpy()[0, 0, 0, 2 + _d]
        assert np.isclose(_tf, _torch, rtol=1e-5), (
            f"size={size}, alpha={alpha}, beta={beta}, k={k}: with your arguments {_args} TensorFlow gives "
            f"{_tf:.6g} for a channel {_d} away from a strong one; PyTorch gives {_torch:.6g}")

_check(5, 1e-4 * 100, 0.75, 2.0)
_check(3, 0.3, 0.5, 1.0)
try:
    tf_args_from_torch(4)
except ValueError:
    pass
else:
    raise AssertionError("size 4: PyTorch's window (2 before, 1 after) has no TensorFlow equivalent")
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
from course.probe import probe as _probe

def _torch_case(size, alpha, beta, k):
    try:
        return tf_args_from_torch(size, alpha=alpha, beta=beta, k=k)
    except ValueError:
        return "ValueError"

_rng = _random.Random(205003)
_cases = [(_rng.randint(1, 15), _rng.choice([1e-4, 2e-4, 1e-3, 0.01, 0.5, 1.0]),
           _rng.choice([0.5, 0.75, 1.0, 0.6]), _rng.choice([1.0, 2.0, 0.5])) for _ in range(30)]
_probe("tf_args_from_torch", _torch_case, _cases, rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "written_prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 4 (3 points, graded by your instructor) — answer the question
#
# When would you want to add a local response normalization layer? In a few sentences: (a) what
# the layer does and what it was meant to achieve; (b) what later work found, and what is used
# instead today and why; (c) the situation where you would still add one, and what to be careful
# about when you do.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_answer", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# (a) LRN, used right after the ReLU of early convolutional layers (AlexNet's first two, GoogLeNet's
# stem), divides each activation by a power of the sum of squares of the activations of the
# neighbouring feature maps at the same pixel. The most strongly activated neurons thus inhibit the
# neurons at the same location in neighbouring maps (lateral inhibition, as in biological neurons),
# which makes redundant neighbouring maps costly and pushes them to specialize, so the network
# explores a wider range of features. AlexNet reported about 1.2-1.4 points lower top-5/top-1 error
# with it.
# (b) The VGG authors found it did not improve their networks and only cost memory and time; batch
# normalization (2015) replaced it: BN normalizes each channel with batch statistics and learns a
# scale and shift, which stabilizes training of deep networks and allows higher learning rates (the
# BN paper removed LRN from Inception). Modern CNNs use BN, or layer/group normalization when batch
# statistics are unreliable; Keras 3 does not even ship an LRN layer.
# (c) When reproducing or porting a network trained with LRN (AlexNet, GoogLeNet/Inception v1,
# Caffe-era models), so that pretrained weights see the activations they were trained on; or as an
# explicit experiment in a network without BN, validated on held-out data. Be careful with the
# conventions: TensorFlow (and the AlexNet paper) multiply the sum by alpha, while Caffe and PyTorch
# divide alpha by the window size n; depth_radius = (n - 1) / 2.
# ### END SOLUTION
