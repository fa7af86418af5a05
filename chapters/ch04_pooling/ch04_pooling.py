# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 4 — Max pooling or a strided convolution?
#
# **The question.** Both a max pooling layer and a convolutional layer with a stride of 2 shrink a
# feature map by a factor of 2 in each direction. So why would you add a max pooling layer rather
# than a convolutional layer with the same stride?
#
# You will answer by *measuring*: the parameters and FLOPs of both layers (from Keras
# `count_params()` and the TensorFlow profiler), how often their outputs stay exactly the same when
# the input moves by one pixel, and what recent architectures actually do. The usual textbook
# answer — *no parameters, less computation, some invariance to small translations* — survives,
# with two honest caveats that you will also measure: the invariance is partial (max pooling is
# not shift-invariant, only less shift-sensitive), and many modern networks downsample with
# strided convolutions instead.
#
# **How this notebook works.** Read and run the lesson cells in order. The exercises at the end are
# autograded: each has visible tests you can run now, and hidden tests the grader runs on other
# inputs. The last exercise is a short written answer graded by your instructor.

# %%
from course.env import setup

info = setup("ch04")

# %% [markdown]
# ## 1. Two ways to halve a feature map
#
# `keras.layers.MaxPooling2D(pool_size=2)` slides a 2×2 window with a stride of 2 (the stride
# defaults to the pool size) and keeps the largest value of each window, **channel by channel**.
# `keras.layers.Conv2D(filters, kernel_size=2, strides=2)` slides the same window but computes, for
# each of its filters, a weighted sum over the window *and all input channels*, plus a bias. Same
# geometry, same output height and width — very different layers.

# %%
import keras
import numpy as np

from course.ch04 import strided_conv

fmap = np.random.default_rng(0).random((1, 28, 28, 8), dtype=np.float32)  # 8 feature maps
pool = keras.layers.MaxPooling2D(pool_size=2)
conv = strided_conv(in_channels=8, filters=8, kernel_size=2, strides=2)   # a keras Conv2D
pooled, convolved = pool(fmap), conv(fmap)

print(f"input {fmap.shape} -> max pool {tuple(pooled.shape)}, strided conv {tuple(convolved.shape)}")
print(f"parameters: max pool {pool.count_params()}, conv {conv.count_params()} = (2*2*8 + 1) * 8")
assert tuple(pooled.shape) == tuple(convolved.shape) == (1, 14, 14, 8)
assert pool.count_params() == 0
assert conv.count_params() == (2 * 2 * 8 + 1) * 8 == 264

# %% [markdown]
# Max pooling keeps the **strongest activation** of each window. Think of a feature map as the
# output of a detector ("there is an edge here, with this strength"): the pooled map still says
# "the feature is present in this 2×2 region, with strength 0.9" — it only forgets *where* inside
# the window. Average pooling, by contrast, dilutes a single strong response with its zero
# neighbours. And because only the window's maximum matters, moving the detection *within* its
# window does not change the pooled output at all: that is where the invariance comes from.

# %%
detections = np.zeros((1, 4, 4, 1), np.float32)
detections[0, 0, 1, 0] = 0.9   # a strong response in the top-left window
detections[0, 3, 3, 0] = 0.2   # a weak one in the bottom-right window
avg = keras.layers.AveragePooling2D(pool_size=2)

print("feature map:\n", detections[0, :, :, 0])
print("max pooled:\n", np.asarray(pool(detections))[0, :, :, 0])
print("average pooled:\n", np.asarray(avg(detections))[0, :, :, 0])

moved = np.zeros_like(detections)
moved[0, 1, 0, 0] = 0.9        # the strong response moved one pixel down and one left...
moved[0, 3, 3, 0] = 0.2
print("moved within its window -> max pooled output unchanged:",
      np.array_equal(np.asarray(pool(moved)), np.asarray(pool(detections))))
assert np.allclose(np.asarray(pool(detections))[0, :, :, 0], [[0.9, 0.0], [0.0, 0.2]])
assert np.allclose(np.asarray(avg(detections))[0, :, :, 0], [[0.225, 0.0], [0.0, 0.05]])
assert np.array_equal(np.asarray(pool(moved)), np.asarray(pool(detections)))

# %% [markdown]
# ## 2. Cost: parameters and computation
#
# A convolutional layer with a $k \times k$ kernel, $C_{in}$ input channels and $F$ filters has
# $(k \cdot k \cdot C_{in} + 1) \cdot F$ parameters, and for an output of $H' \times W'$ positions it
# performs $H' \cdot W' \cdot F \cdot k \cdot k \cdot C_{in}$ multiply-accumulates. A max pooling
# layer has **no parameters at all** — nothing to learn, nothing to store, no gradients, no optimizer
# state — and it looks at each of the $k \cdot k$ values of a window once, per channel.
#
# We count FLOPs the way the TensorFlow profiler does (it reads the real graph that Keras builds):
# a multiply-accumulate is 2 FLOPs, a bias add 1 FLOP per output value, and a pooling window costs
# $k \cdot k$ per output value (strictly, a maximum of $k^2$ numbers needs $k^2 - 1$ comparisons).
# Take a typical early feature map, 56×56 with 64 channels (what ResNet-50's stem hands to its
# first stage, checked in section 6), and compare 2×2 max pooling with a 2×2 and a 3×3 stride-2
# convolution that keep 64 channels. The time is the best of 11 runs on a batch of 32, on this
# machine.

# %%
from course.ch04 import tf_profiler_flops, time_layer

shape = (56, 56, 64)
candidates = {
    "MaxPooling2D(2)": keras.layers.MaxPooling2D(2),
    "Conv2D(64, 2, strides=2)": strided_conv(64, 64, 2, 2),
    "Conv2D(64, 3, strides=2, 'same')": strided_conv(64, 64, 3, 2, padding="same"),
}
batch = np.random.default_rng(1).random((32, *shape), dtype=np.float32)
costs = {}
for name, layer in candidates.items():
    flops = tf_profiler_flops(layer, shape)["total"]
    costs[name] = (layer.count_params(), flops, time_layer(layer, batch, repeats=11))
print(f"{'layer':34s} {'parameters':>10s} {'FLOPs (1 image)':>16s} {'ms (batch of 32)':>17s}")
for name, (params, flops, seconds) in costs.items():
    print(f"{name:34s} {params:>10,} {flops:>16,} {1000 * seconds:>17.1f}")

(p_pool, f_pool, t_pool), (p_c2, f_c2, t_c2), (p_c3, f_c3, t_c3) = costs.values()
assert (p_pool, p_c2, p_c3) == (0, (2 * 2 * 64 + 1) * 64, (3 * 3 * 64 + 1) * 64)
assert f_pool == 28 * 28 * 64 * (2 * 2)
assert f_c2 == 2 * 28 * 28 * 64 * (2 * 2 * 64) + 28 * 28 * 64
assert f_c3 == 2 * 28 * 28 * 64 * (3 * 3 * 64) + 28 * 28 * 64
assert t_c2 / t_pool < f_c2 / f_pool and t_c3 / t_pool < f_c3 / f_pool
if info["profile"] == "cpu":  # on a GPU, layers this small can all be dominated by launch overhead
    assert t_pool < min(t_c2, t_c3), "on this CPU max pooling was not the fastest: rerun the cell"
print(f"FLOPs: the 2x2 conv needs {f_c2 / f_pool:.0f}x, the 3x3 conv {f_c3 / f_pool:.0f}x "
      f"those of max pooling; measured time: {t_c2 / t_pool:.1f}x and {t_c3 / t_pool:.1f}x")

# %% [markdown]
# The FLOP ratio is huge — a 2×2 convolution needs about $2 \cdot C_{in} = 128$ times the FLOPs of
# the pooling layer, because each of its outputs mixes all 64 input channels — but the measured
# speed-up is much smaller: pooling is limited by memory traffic (reading the input once), not by
# arithmetic, and convolutions run on highly optimized kernels. On a CPU pooling is still the
# fastest of the three (the cell checks it; on a GPU, layers this small may all take about the same
# launch-dominated time). In training the convolution must also compute the gradients of its
# weights, which a pooling layer does not have.
#
# ## 3. Invariance to small translations, measured
#
# "Max pooling introduces some invariance to small translations" is a claim we can test. The
# metric, precisely:
#
# 1. Take a batch of images $x$ and the same images moved by one pixel, $x'$ (content shifted right,
#    left, down or up; the uncovered border filled with zeros; MNIST digits sit in a mostly blank
#    border, so a 1-pixel shift pushes out a negligible share of the ink, printed below).
# 2. Apply the layer $f$ (window $k = 2$, stride $s = 2$, `"valid"` padding) to both.
# 3. Compare $f(x)$ and $f(x')$ **at the same output position**. Why not at a "corresponding"
#    position? A 1-pixel shift of the input is a shift of $1/s = 1/2$ output position: there is no
#    output position that corresponds. *Invariance* asks exactly this — does the output stay the
#    same although the input moved?
# 4. Count only *active* positions, whose window sees at least one non-zero pixel of $x$ or of
#    $x'$. On blank background every layer keeps its value, which says nothing.
# 5. A value is *unchanged* when it moved by at most $10^{-6}$.
#
# The metric is the fraction of active output values (over all images and channels) that are
# unchanged. `course.ch04.unchanged_stats` implements it with Keras layers; read its code.
#
# **First principles.** On random noise (every pixel a different random number), a 2×2 window moved
# one pixel to the right shares one column (2 pixels) with its old position and sees 2 new ones.
# Its maximum is unchanged exactly when the largest of those 6 values lies in the shared column:
# probability $2/6 = 1/3$. The leftmost window of each row is special (its new left column is the
# zero fill, so it is unchanged when $x_{0} > x_{1}$, probability 1/2): with 14 windows per row we
# expect $(13 \cdot \frac{1}{3} + \frac{1}{2}) / 14 = 0.345$. A convolution is a weighted sum of
# all 4 values: it changes as soon as one of them does.

# %%
from course.ch04 import shift_images, unchanged_stats

noise = np.random.default_rng(2).random((100, 28, 28, 1), dtype=np.float32)
noise_moved = shift_images(noise, 0, 1)   # one pixel to the right
conv1 = strided_conv(in_channels=1, filters=8, kernel_size=2, strides=2)
noise_pool = unchanged_stats(pool, noise, noise_moved, 2, 2)
noise_conv = unchanged_stats(conv1, noise, noise_moved, 2, 2)
expected = (13 / 3 + 1 / 2) / 14
print(f"noise, max pool: {noise_pool['unchanged']:,} of {noise_pool['active']:,} unchanged "
      f"= {noise_pool['fraction']:.3f} (first principles: {expected:.3f})")
print(f"noise, strided conv: {noise_conv['fraction']:.3f}")
assert abs(noise_pool["fraction"] - expected) < 0.015
assert noise_conv["fraction"] == 0.0

# %% [markdown]
# Now real images: the first 1,000 MNIST test digits (pixels / 255), moved by one pixel in each of
# the four directions, through max pooling, average pooling and an (untrained) 2×2 stride-2
# convolution with 8 filters.

# %%
from course.ch04 import mnist_digits

digits = mnist_digits(1000)
shifts = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}
layers_2x2 = {"max pool": pool, "average pool": avg, "strided conv": conv1}
table = {}
print(f"{'1-pixel shift':14s}{'ink pushed out':>15s}" + "".join(f"{name:>15s}" for name in layers_2x2))
for direction, (dy, dx) in shifts.items():
    moved_digits = shift_images(digits, dy, dx)
    lost = 1 - moved_digits.sum(dtype=np.float64) / digits.sum(dtype=np.float64)
    table[direction] = {name: unchanged_stats(layer, digits, moved_digits, 2, 2)["fraction"]
                        for name, layer in layers_2x2.items()}
    print(f"{direction:14s}{lost:>15.5%}" + "".join(f"{table[direction][n]:>15.3f}" for n in layers_2x2))
    assert lost < 0.001
for row in table.values():
    assert row["max pool"] > 0.3
    assert row["strided conv"] < 0.05 and row["average pool"] < 0.06
    assert row["max pool"] > 6 * row["strided conv"]

# %% [markdown]
# About a third of the active max-pooled values do not move at all when the digit moves by one
# pixel; for the strided convolution it is a few percent. Those few percent are windows whose
# *content* is identical before and after the shift (for instance inside a thick stroke of
# saturated pixels): with generic weights (random or trained), a convolution keeps its value
# essentially only then. Average pooling is a convolution with equal weights 1/4, so it also keeps
# its value when the pixel sum of the window happens not to change — slightly more often than the
# random convolution, still an order of magnitude less often than max pooling. Training does not
# change the picture: a convolution is linear, its output moves with the weighted sum of its
# window, and it cannot ignore *which* pixel of the window is bright the way a maximum does. What
# it can do is learn a useful way to downsample (section 6).
#
# ## 4. ... and a little to small rotations and rescalings
#
# The same reasoning applies to any small deformation that moves a strong pixel without leaving its
# window. Rotate the digits by 10°, or enlarge them by 20 %, with nearest-neighbour sampling (which
# moves pixels without blending them, like a shift), and measure the same fraction. For reference,
# the first column gives the share of ink pixels (non-zero before or after) that keep their value.

# %%
from course.ch04 import rotate_images, scale_images

deformations = {"rotate 10 degrees": rotate_images(digits, 10),
                "enlarge by 20 %": scale_images(digits, 1.2)}
print(f"{'':20s}{'input pixels':>14s}{'max pool':>10s}{'strided conv':>14s}")
for name, warped in deformations.items():
    ink = (digits > 0) | (warped > 0)
    pixels = float(np.mean(np.abs(warped - digits)[ink] <= 1e-6))
    pooled_frac = unchanged_stats(pool, digits, warped, 2, 2)["fraction"]
    conv_frac = unchanged_stats(conv1, digits, warped, 2, 2)["fraction"]
    print(f"{name:20s}{pixels:>14.3f}{pooled_frac:>10.3f}{conv_frac:>14.3f}")
    assert pooled_frac > pixels > conv_frac

# %% [markdown]
# Max pooling keeps more of its outputs than the input keeps of its pixels; the convolution keeps
# fewer. That is the "little" rotational and scale invariance: a deformation that moves each pixel
# by less than a window still often leaves the maximum in place.
#
# ## 5. But max pooling is not shift-invariant
#
# Two measurements keep us honest.
#
# **Shifts by the stride give equivariance, not invariance.** Move the digits by 2 pixels (the
# stride): the fraction of unchanged values at the same position drops, because every window now
# sees completely new pixels. But compared at the *shifted* position (one output to the right),
# every value of both layers matches (within $10^{-6}$) — they are equivariant to shifts by multiples of the
# stride, and the pooling layer's invariance only covers the shifts in between, partially.

# %%
moved2 = shift_images(digits, 0, 2)
for name, layer in (("max pool", pool), ("strided conv", conv1)):
    same_place = unchanged_stats(layer, digits, moved2, 2, 2)["fraction"]
    y, y2 = np.asarray(layer(digits)), np.asarray(layer(moved2))
    next_place = np.mean(np.abs(y2[:, :, 1:] - y[:, :, :-1]) <= 1e-6)
    print(f"{name}: shift by 2 px, unchanged at the same position {same_place:.3f}, "
          f"at the next position {next_place:.3f}")
    assert same_place < table["right"]["max pool"] and next_place == 1.0

# %% [markdown]
# **Aliasing.** Keeping one value out of two cannot faithfully represent a pattern that repeats
# every 4 pixels or faster (the sampling theorem: at least two samples per period), and max
# pooling subsamples. Zhang (2019, *Making Convolutional Networks Shift-Invariant Again*) shows it
# with a pattern as simple as stripes of period 4: max pooling turns them into alternating values
# 0, 1, 0, 1 — and after a 1-pixel shift into 0, 1, 1, 1 (the first 0 is the zero-filled border):
# the stripes vanish. A one-pixel move of the input changed the *kind* of pattern the next layer
# sees.

# %%
stripes = np.zeros((1, 4, 8, 1), np.float32)
stripes[:, :, [2, 3, 6, 7]] = 1.0
print("stripes (one row):            ", stripes[0, 0, :, 0])
print("max pooled:                   ", np.asarray(pool(stripes))[0, 0, :, 0])
shifted_stripes = shift_images(stripes, 0, 1)
print("shifted by 1 px, max pooled:  ", np.asarray(pool(shifted_stripes))[0, 0, :, 0])
assert np.array_equal(np.asarray(pool(stripes))[0, 0, :, 0], [0, 1, 0, 1])
assert np.array_equal(np.asarray(pool(shifted_stripes))[0, 0, :, 0], [0, 1, 1, 1])

# %% [markdown]
# Zhang's fix is to blur before subsampling: take the maximum densely (stride 1), blur with a small
# binomial filter, then keep every second value (`course.ch04.anti_aliased_max_pool`). Its outputs
# are no longer *exactly* unchanged under a shift — they are blurred — so we use another metric
# here: the relative change $\lVert f(x') - f(x) \rVert / \lVert f(x) \rVert$ over the 1,000 digits,
# for shifts of 1, 2 and 3 pixels to the right.

# %%
from course.ch04 import anti_aliased_max_pool, relative_change

blur_pool = anti_aliased_max_pool(channels=1)
rel = {name: [relative_change(layer, digits, shift_images(digits, 0, d)) for d in (1, 2, 3)]
       for name, layer in (("max pool", pool), ("average pool", avg),
                           ("anti-aliased max pool", blur_pool))}
print(f"{'relative change':24s}{'1 px':>8s}{'2 px':>8s}{'3 px':>8s}")
for name, values in rel.items():
    print(f"{name:24s}" + "".join(f"{v:>8.3f}" for v in values))
for d in range(3):
    assert rel["anti-aliased max pool"][d] < min(rel["max pool"][d], rel["average pool"][d])
assert 0.4 < rel["max pool"][0] < 0.5

# %% [markdown]
# A plain 2×2 max pool changes its output by almost half of its norm for a 1-pixel shift: "some
# invariance", not invariance. Blurring first helps at every shift.
#
# ## 6. What modern architectures do
#
# The other caveat: many successful networks downsample with strided convolutions and use little
# or no max pooling. Springenberg et al. (2015, *Striving for Simplicity: The All Convolutional
# Net*) reported that replacing max pooling by strided convolutions lost no accuracy on their
# benchmarks. A strided convolution *learns* how to summarize a window and can change the number of
# channels at the same time; max pooling is a fixed, free summary with a built-in bias towards
# "is the feature present?". Let's count how four Keras reference architectures downsample (built
# with random weights; no download).

# %%
from course.ch04 import downsampling_census

census = {}
for name, year in (("VGG16", 2014), ("ResNet50", 2015), ("MobileNetV2", 2018), ("ConvNeXtTiny", 2022)):
    model = getattr(keras.applications, name)(weights=None, include_top=False, input_shape=(224, 224, 3))
    census[name] = downsampling_census(model)
    windows = census[name]["max_pool_windows"]
    pools = ", ".join(f"{windows.count(w)} x {w[0][0]}x{w[0][1]} stride {w[1][0]}"
                      for w in dict.fromkeys(windows)) or "none"
    print(f"{name:13s} ({year}): max pooling: {pools}; {census[name]['strided_conv']} strided "
          f"convolutions; {model.count_params():,} parameters")
    if name == "ResNet50":
        stem = model.get_layer("conv1_conv")
        stem_conv = (tuple(stem.kernel_size), tuple(stem.strides))
        stem_output = tuple(model.get_layer("pool1_pool").output.shape[1:])
        print(f"  ResNet50's stem: conv (kernel, strides) = {stem_conv}, then that max pool; "
              f"output {stem_output}")
    del model
assert census["VGG16"]["max_pooling"] == 5 and census["VGG16"]["strided_conv"] == 0
assert census["ResNet50"]["max_pool_windows"] == [((3, 3), (2, 2))]
assert census["ResNet50"]["strided_conv"] > 1
assert stem_conv == ((7, 7), (2, 2)) and stem_output == (56, 56, 64)
assert census["MobileNetV2"]["max_pooling"] == census["ConvNeXtTiny"]["max_pooling"] == 0

# %% [markdown]
# VGG16 downsamples only with max pooling; ResNet-50 keeps a single 3×3 stride-2 max pool in its
# stem and downsamples with strided convolutions afterwards; MobileNetV2 and ConvNeXt
# use no max pooling at all. So the honest answer to the question is "because it is free and gives
# some robustness to small shifts" — *when* those matter more than a learned downsampling.
#
# ## 7. Explore: slide a pattern
#
# Move a pattern with the shift sliders and compare the max-pooled map with the output of a strided
# convolution (same window and stride, one filter, random weights). Changed outputs are outlined in
# red; the readout counts the active outputs that did not change, as in section 3. Things to try:
# shift the digit by 1 and then by 2 pixels; set the window to 3 and the stride to 2 (overlapping
# windows); choose "stripes" and shift by one pixel (aliasing); choose "noise".

# %%
from course.ch04 import shift_explorer

shift_explorer()

# %% [markdown]
# ## Exercises
#
# Inputs are numpy arrays of shape `(N, H, W, C)` (channels last, like Keras). A `pool_size` or
# `strides` is an int or a pair `(rows, cols)`; `strides=None` means "equal to `pool_size`", as in
# Keras. `padding` is `"valid"` (only windows that fit entirely) or `"same"` (output size
# $\lceil n / s \rceil$; the total padding $\max((n_{out} - 1)\, s + k - n,\ 0)$ is split with the
# smaller half at the top/left and the larger half at the bottom/right, as in Keras and TensorFlow).

# %% [markdown]
# ### Exercise 1 (4 points) — max pooling in numpy
#
# `max_pool2d(x, pool_size, strides=None, padding="valid")` returns what
# `keras.layers.MaxPooling2D(pool_size, strides, padding)` returns, as a numpy array. With `"same"`
# padding, padded positions must never win the maximum: pad with $-\infty$, not with 0 (feature
# maps can be negative).

# %% nbgrader={"grade": false, "grade_id": "ex1_max_pool2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def max_pool2d(x, pool_size, strides=None, padding="valid"):
    """Max pooling of an (N, H, W, C) array, like keras.layers.MaxPooling2D."""
    ### BEGIN SOLUTION
    return _pool2d(x, pool_size, strides, padding, np.max)


def _pair(value):
    if np.ndim(value) == 0:
        return int(value), int(value)
    rows, cols = value
    return int(rows), int(cols)


def _windows(n, k, s, padding):
    """The input slice of every output position along one axis (clipped to the input)."""
    if padding == "valid":
        size, before = (n - k) // s + 1, 0
    elif padding == "same":
        size = -(-n // s)
        before = max((size - 1) * s + k - n, 0) // 2
    else:
        raise ValueError(f"unknown padding {padding!r}")
    return [slice(max(i * s - before, 0), min(i * s - before + k, n)) for i in range(size)]


def _pool2d(x, pool_size, strides, padding, reduce):
    x = np.asarray(x)
    kh, kw = _pair(pool_size)
    sh, sw = _pair(pool_size if strides is None else strides)
    rows = _windows(x.shape[1], kh, sh, padding)
    cols = _windows(x.shape[2], kw, sw, padding)
    out = np.empty((x.shape[0], len(rows), len(cols), x.shape[3]), dtype=x.dtype)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            # Padded positions are simply left out: the same as padding with -inf for
            # the maximum, and the same as Keras' "average of the real values" for the mean.
            out[:, i, j, :] = reduce(x[:, r, c, :], axis=(1, 2))
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_max_pool2d", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
import keras
import numpy as np

_x = np.random.default_rng(40).standard_normal((2, 7, 6, 3)).astype(np.float32)
for _args in [{"pool_size": 2}, {"pool_size": 3, "strides": 1}, {"pool_size": (2, 3), "strides": (1, 2)},
              {"pool_size": 2, "padding": "same"}, {"pool_size": 3, "strides": 2, "padding": "same"}]:
    _want = np.asarray(keras.layers.MaxPooling2D(**_args)(_x))
    _got = np.asarray(max_pool2d(_x, **_args))
    assert _got.shape == _want.shape, f"{_args}: shape {_got.shape}, Keras gives {_want.shape}"
    np.testing.assert_allclose(_got, _want, rtol=1e-5, atol=1e-6, err_msg=f"{_args}: values differ "
                               "from keras.layers.MaxPooling2D (negative inputs: pad with -inf?)")
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
import numpy as _np
from course.probe import probe as _probe
def _pool_cases(seed, count):
    rng, nrng = _random.Random(seed), _np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        padding = "same" if len(cases) % 2 else "valid"
        ph = rng.randint(1, 4)
        pw = ph if rng.random() < 0.5 else rng.randint(1, 4)
        pool_size = ph if ph == pw and rng.random() < 0.7 else (ph, pw)
        strides = rng.choice([None, rng.randint(1, 3), (rng.randint(1, 3), rng.randint(1, 3))])
        low_h, low_w = (ph, pw) if padding == "valid" else (1, 1)
        h, w = rng.randint(low_h, 9), rng.randint(low_w, 9)
        x = nrng.standard_normal((rng.randint(1, 2), h, w, rng.randint(1, 3))).astype(_np.float32)
        cases.append({"x": x, "pool_size": pool_size, "strides": strides, "padding": padding})
    return cases
_probe("max_pool2d", max_pool2d, _pool_cases(20260401, 40), rtol=1e-5, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 (4 points) — average pooling in numpy
#
# `avg_pool2d(x, pool_size, strides=None, padding="valid")` returns what
# `keras.layers.AveragePooling2D(pool_size, strides, padding)` returns. Careful with `"same"`: Keras
# averages only over the real (non-padded) values of each window, so a corner window of a 2×2 pool
# that holds one real value returns that value, not a quarter of it.

# %% nbgrader={"grade": false, "grade_id": "ex2_avg_pool2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def avg_pool2d(x, pool_size, strides=None, padding="valid"):
    """Average pooling of an (N, H, W, C) array, like keras.layers.AveragePooling2D."""
    ### BEGIN SOLUTION
    return _pool2d(x, pool_size, strides, padding, np.mean)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_avg_pool2d", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
import keras
import numpy as np

_x = np.random.default_rng(41).standard_normal((2, 7, 6, 3)).astype(np.float32)
for _args in [{"pool_size": 2}, {"pool_size": 3, "strides": 1}, {"pool_size": (2, 3), "strides": (1, 2)},
              {"pool_size": 2, "padding": "same"}, {"pool_size": 3, "strides": 2, "padding": "same"}]:
    _want = np.asarray(keras.layers.AveragePooling2D(**_args)(_x))
    _got = np.asarray(avg_pool2d(_x, **_args))
    assert _got.shape == _want.shape, f"{_args}: shape {_got.shape}, Keras gives {_want.shape}"
    np.testing.assert_allclose(_got, _want, rtol=1e-5, atol=1e-6, err_msg=f"{_args}: values differ "
                               "from keras.layers.AveragePooling2D (same padding: real values only?)")
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
import numpy as _np
from course.probe import probe as _probe
def _pool_cases(seed, count):
    rng, nrng = _random.Random(seed), _np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        padding = "same" if len(cases) % 2 else "valid"
        ph = rng.randint(1, 4)
        pw = ph if rng.random() < 0.5 else rng.randint(1, 4)
        pool_size = ph if ph == pw and rng.random() < 0.7 else (ph, pw)
        strides = rng.choice([None, rng.randint(1, 3), (rng.randint(1, 3), rng.randint(1, 3))])
        low_h, low_w = (ph, pw) if padding == "valid" else (1, 1)
        h, w = rng.randint(low_h, 9), rng.randint(low_w, 9)
        x = nrng.standard_normal((rng.randint(1, 2), h, w, rng.randint(1, 3))).astype(_np.float32)
        cases.append({"x": x, "pool_size": pool_size, "strides": strides, "padding": padding})
    return cases
_probe("avg_pool2d", avg_pool2d, _pool_cases(20260402, 40), rtol=1e-5, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3 (3 points) — what each layer costs
#
# `pool_vs_conv_cost(input_shape, pool_size, strides=None, padding="valid", filters=None)` compares a
# `MaxPooling2D(pool_size, strides, padding)` layer with a `Conv2D(filters, kernel_size=pool_size,
# strides=strides, padding=padding)` layer (with bias) on one input of shape
# `input_shape = (H, W, C)`. `pool_size` and `strides` are ints here (square windows); `strides=None`
# means `pool_size`; `filters=None` means `C` (a convolution that keeps the number of channels).
# Return a dict with exactly these keys, all plain `int`s, FLOPs counted as in section 2 (the
# TensorFlow profiler's convention):
#
# * `"pool_params"`, `"conv_params"`: trainable parameters (what `count_params()` says);
# * `"pool_flops"`: $k^2$ per output value; `"conv_flops"`: 2 per multiply-accumulate plus 1 per
#   output value for the bias.

# %% nbgrader={"grade": false, "grade_id": "ex3_pool_vs_conv_cost", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pool_vs_conv_cost(input_shape, pool_size, strides=None, padding="valid", filters=None):
    """Parameters and FLOPs of MaxPooling2D vs a Conv2D with the same window and stride."""
    ### BEGIN SOLUTION
    h, w, c = input_shape
    k = pool_size
    s = pool_size if strides is None else strides
    f = c if filters is None else filters
    if padding == "same":
        oh, ow = -(-h // s), -(-w // s)
    elif padding == "valid":
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
    else:
        raise ValueError(f"unknown padding {padding!r}")
    return {"pool_params": 0,
            "conv_params": (k * k * c + 1) * f,
            "pool_flops": oh * ow * c * k * k,
            "conv_flops": oh * ow * f * (2 * k * k * c + 1)}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_pool_vs_conv_cost", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import keras
from course.ch04 import strided_conv, tf_profiler_flops

_cost = pool_vs_conv_cost((56, 56, 64), 2)
assert _cost == {"pool_params": 0, "conv_params": 16_448, "pool_flops": 200_704,
                 "conv_flops": 25_740_288}, f"section 2's figures; you returned {_cost}"
_shape, _k, _s, _f = (23, 17, 5), 3, 2, 7
_cost = pool_vs_conv_cost(_shape, _k, _s, "same", filters=_f)
_conv = strided_conv(_shape[2], _f, _k, _s, padding="same")
_pool = keras.layers.MaxPooling2D(_k, strides=_s, padding="same")
_want = {"pool_params": 0, "conv_params": _conv.count_params(),
         "pool_flops": tf_profiler_flops(_pool, _shape)["total"],
         "conv_flops": tf_profiler_flops(_conv, _shape)["total"]}
assert _cost == _want, f"Keras count_params() and the TensorFlow profiler say {_want}; you returned {_cost}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
from course.probe import probe as _probe
_rng = _random.Random(20260403)
_cases = []
while len(_cases) < 40:
    _k, _pad = _rng.randint(1, 5), _rng.choice(["same", "valid"])
    _h, _w = _rng.randint(1, 300), _rng.randint(1, 300)
    if _pad == "valid" and min(_h, _w) < _k:
        continue
    _cases.append(((_h, _w, _rng.randint(1, 512)), _k, _rng.choice([None, 1, 2, 3, 4]), _pad,
                   _rng.choice([None, _rng.randint(1, 512)])))
_probe("pool_vs_conv_cost", pool_vs_conv_cost, _cases)
### END HIDDEN TESTS

# %% [markdown]
# Your `max_pool2d` in the explorer: the readout now says whether it agrees with
# `keras.layers.MaxPooling2D` on the moved pattern, for every window, stride and shift you choose.

# %%
from course.ch04 import shift_explorer

shift_explorer(max_pool2d)

# %% [markdown] nbgrader={"grade": false, "grade_id": "written_prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 4 (4 points, graded by your instructor) — answer the question
#
# Why would you add a max pooling layer rather than a convolutional layer with the same stride?
# Give (a) at least two reasons, each backed by a number you measured in this notebook, and (b) the
# limits of the argument: when is max pooling *not* invariant to a shift, and why do many modern
# architectures downsample with strided convolutions anyway? Write your answer in the cell below.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_answer", "locked": false, "points": 4, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# (a) A max pooling layer has no parameters at all, while a convolutional layer with the same
# window has (k*k*C_in + 1)*F: for a 2x2 window on 64 channels kept at 64, 0 vs 16,448 parameters,
# so nothing to learn, store or update (no gradients, no optimizer state). It is also far cheaper
# to compute: 200,704 vs 25,740,288 FLOPs on a 56x56x64 map (128x fewer; the measured time gap is
# much smaller, because pooling is memory-bound). It keeps the strongest activation of
# each window, so a feature detected anywhere inside the window is passed on at full strength, and
# that gives some invariance to small translations: about a third of the active max-pooled values
# of MNIST digits stayed exactly the same after a 1-pixel shift (on noise: 0.341 measured, 1/3 per
# window and 0.345 overall expected from first principles), against a few percent for a strided convolution, which is linear in the window and
# changes as soon as any pixel does. The same holds, a little, for small rotations and scalings.
# (b) The invariance is partial: a shift by the stride (2 pixels) moves the whole pooled output by
# one position (equivariance, not invariance), and subsampling aliases fine patterns (stripes of
# period 4 became a uniform map after a 1-pixel shift; Zhang 2019 blurs before subsampling).
# Max pooling is a fixed, information-destroying summary (it drops 3 of 4 values and cannot change
# the number of channels), while a strided convolution learns how to downsample; the
# all-convolutional net (no accuracy lost, as reported by Springenberg et al.), ResNet (one max
# pool, then strided convs), MobileNetV2 and ConvNeXt (no max pooling) show that learned
# downsampling is a common, successful choice when its parameters and FLOPs are affordable.
# ### END SOLUTION
