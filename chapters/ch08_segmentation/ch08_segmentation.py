# ---
# jupyter:
#   cnn_course:
#     reference_profile: smoke
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 8 — Semantic segmentation: what makes it hard
#
# **The question.** What is the main technical difficulty of semantic segmentation?
#
# **The short answer**, which this notebook measures: a classification CNN throws away *where*
# things are as it goes up — every pooling layer or strided convolution halves the resolution, so a
# typical backbone ends 32× smaller than its input — while segmentation must give **every pixel** a
# class. The lost spatial resolution has to be recovered: by **upsampling** (transposed
# convolutions, bilinear interpolation) and by **skip connections** that bring fine detail back
# from the early, high-resolution layers (FCN-8s, U-Net); dilated convolutions avoid losing it in
# the first place. Secondary difficulties follow: the background dominates the pixels (so pixel
# accuracy flatters a bad model and mean IoU is the honest figure), thin objects and boundaries are
# where errors concentrate, and pixel-level labels are expensive.
#
# **How you are graded.** Exercises 1–6 have visible tests you can run now and hidden tests the
# grader runs on other inputs. In Exercise 7 you train and save `segmentation_model.keras`; the
# grader loads that file (safely: no custom code) and measures its **mean IoU** on canvases it
# builds itself from the 10,000 MNIST **test** digits, with a seed you never see; credit is linear
# between two thresholds that depend on the profile (the setup cell prints them). The grader
# re-runs the notebook from the top: in that run the MNIST test digits are out of the notebook's
# reach, files you submit beside it are not available, a cell you write may hold 8 kB of code,
# and only the model that Exercise 7 trains and saves in that run is graded. The last exercise is
# a written answer graded by your instructor.

# %%
from course.ch08 import BUDGET
from course.env import setup
from course.thresholds import tiers

info = setup("ch08")
PROFILE = info["profile"]
B = BUDGET[PROFILE]
TIERS = tiers("ch08_segmentation", PROFILE)
print(f"profile {PROFILE}: {B['n_train']:,} training canvases, {B['epochs']} epoch(s) per model; "
      f"grader's mean IoU {TIERS['zero']:.2f} earns 0 points, {TIERS['full']:.2f} full points, "
      f"linear in between")

# %% [markdown]
# ## 1. A segmentation data set, generated offline
#
# Real segmentation sets (PASCAL VOC, Cityscapes, COCO) need a download. This chapter's set is built
# from MNIST: `course.data.load_digit_canvases` places one to three digits, each cropped to its
# ink, at random non-overlapping positions on a 48×48 black canvas and labels every pixel —
# `0` for background, `d + 1` for a pixel of digit `d` (ink ≥ 128). That is 11 classes. The
# training canvases use MNIST training digits 0–49,999, the validation canvases digits
# 50,000–59,999; the grader's test canvases use the test digits, which this notebook never sees.
# Generation is deterministic (a seed), so every run gets the same canvases.

# %%
import numpy as np

from course.canvases import N_CLASSES, class_shares
from course.ch08 import show_canvases
from course.data import load_digit_canvases

(x_train, m_train), (x_val, m_val) = load_digit_canvases(B["n_train"], B["n_val"])
print(f"training canvases {x_train.shape} {x_train.dtype}, masks {m_train.shape} {m_train.dtype}, "
      f"validation {x_val.shape}; classes 0..{N_CLASSES - 1}")
shares = class_shares(m_train)
print(f"pixel share: background {shares[0]:.1%}; each digit class "
      f"{shares[1:].min():.2%} .. {shares[1:].max():.2%}")
show_canvases(x_train, {"mask": m_train})

# %% [markdown]
# ## 2. How to score a segmentation: pixel accuracy vs mean IoU
#
# **Pixel accuracy** is the share of pixels labelled correctly. The **intersection over union**
# of class *c* compares the set *P* of pixels predicted as *c* with the set *T* of pixels that
# truly are *c*: IoU = |P ∩ T| / |P ∪ T| — 1 for a perfect match, 0 for no overlap, and it counts
# both the missed and the wrongly claimed pixels. **Mean IoU** averages it over the classes, so
# every class weighs the same, however few pixels it has. The intersections and unions are summed
# over all the pixels scored (the whole set, as PASCAL VOC does), and a class that appears in
# neither the prediction nor the truth has no IoU (0/0) and is left out of the mean.
#
# ### Exercise 1 (3 points) — the metrics
#
# Write `pixel_accuracy(pred, truth)`, `per_class_iou(pred, truth, n_classes)` (a float array of
# length `n_classes`, `np.nan` for a class absent from both) and `mean_iou(pred, truth, n_classes)`
# (the mean over the classes that have an IoU). `pred` and `truth` are integer label maps of the
# same shape — one canvas `(H, W)`, a batch `(N, H, W)` or any other shape.

# %% nbgrader={"grade": false, "grade_id": "ex1_metrics", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pixel_accuracy(pred, truth):
    """Share of the pixels where ``pred`` equals ``truth``."""
    ### BEGIN SOLUTION
    return float(np.mean(np.asarray(pred) == np.asarray(truth)))
    ### END SOLUTION


def per_class_iou(pred, truth, n_classes):
    """IoU of each class 0..n_classes-1 over all pixels (``nan`` where the class is in neither)."""
    ### BEGIN SOLUTION
    pred, truth = np.asarray(pred).ravel(), np.asarray(truth).ravel()
    iou = np.full(n_classes, np.nan)
    for c in range(n_classes):
        p, t = pred == c, truth == c
        union = np.count_nonzero(p | t)
        if union:
            iou[c] = np.count_nonzero(p & t) / union
    return iou
    ### END SOLUTION


def mean_iou(pred, truth, n_classes):
    """Mean of :func:`per_class_iou` over the classes present in ``pred`` or ``truth``."""
    ### BEGIN SOLUTION
    return float(np.nanmean(per_class_iou(pred, truth, n_classes)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_metrics", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_t = np.array([[0, 0, 1], [0, 2, 2]])
_p = np.array([[0, 1, 1], [0, 2, 0]])
assert np.isclose(pixel_accuracy(_p, _t), 4 / 6), pixel_accuracy(_p, _t)
_iou = per_class_iou(_p, _t, 4)
assert len(_iou) == 4 and np.isnan(_iou[3]), "class 3 is in neither map: its IoU is nan"
np.testing.assert_allclose(_iou[:3], [2 / 4, 1 / 2, 1 / 2])
assert np.isclose(mean_iou(_p, _t, 4), 0.5), mean_iou(_p, _t, 4)
assert np.isclose(mean_iou(_t, _t, 11), 1.0), "a perfect prediction has mean IoU 1"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
_rng = np.random.default_rng(808)
_cases = []
for _shape, _k, _n in (((5, 7), 3, 5), ((2, 9, 9), 6, 8), ((40,), 2, 4), ((3, 4, 4), 10, 11)):
    _truth = _rng.integers(0, _k, size=_shape)
    _pred = np.where(_rng.random(_shape) < 0.6, _truth, _rng.integers(0, _k, size=_shape))
    _cases.append((_pred, _truth, _n))
_truth = np.zeros((6, 6), int)
_truth[1:3, 2:5] = 1
_cases.append((np.zeros((6, 6), int), _truth, 3))                  # all background, class 2 absent
_probe("metrics", lambda p, t, n: [pixel_accuracy(p, t), per_class_iou(p, t, n), mean_iou(p, t, n)],
       _cases, rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# **Why pixel accuracy misleads.** Score a "model" that says *background* everywhere on the
# validation canvases both ways:

# %%
all_background = np.zeros_like(m_val)
print(f"predict background everywhere: pixel accuracy {pixel_accuracy(all_background, m_val):.1%}, "
      f"mean IoU {mean_iou(all_background, m_val, N_CLASSES):.3f}")
print("per-class IoU:", np.round(per_class_iou(all_background, m_val, N_CLASSES), 2))

# %% [markdown]
# It finds not a single digit, yet its pixel accuracy is the background's share of the pixels; its
# mean IoU is the background's IoU divided by 11. Mean IoU is the figure this chapter (and the
# grader) reports.
#
# ## 3. Where the resolution goes
#
# A classification network shrinks its feature maps on purpose: each 2×2 pooling (or stride-2
# convolution) halves height and width, and after five of them VGG16 or ResNet-50 sees a 224×224
# image as a 7×7 grid. Two numbers describe what a feature at the top can know about:
#
# * the **output stride** (also called *jump*): how many input pixels lie between two neighbouring
#   output positions — the product of the strides;
# * the **receptive field**: how many input pixels (along one axis) can influence one output —
#   starting from 1, each layer with kernel *k* (dilation *d*, effective kernel *d(k−1)+1*) adds
#   (*effective kernel* − 1) × the jump accumulated *before* it.
#
# A big receptive field is what lets a pixel's label depend on the whole digit around it; a big
# output stride is what makes the prediction coarse.
#
# ### Exercise 2 (2 points) — receptive field and output stride
#
# `receptive_field(layers)` takes a list of layers, each `(kernel, stride)` or
# `(kernel, stride, dilation)` (square kernels; dilation 1 when omitted), in order from the input,
# and returns `(receptive_field, output_stride)` of the last layer's output, both integers.

# %% nbgrader={"grade": false, "grade_id": "ex2_receptive_field", "locked": false, "schema_version": 3, "solution": true, "task": false}
def receptive_field(layers):
    """``(receptive field, output stride)`` in input pixels after ``layers`` [(kernel, stride[, dilation])]."""
    ### BEGIN SOLUTION
    field, jump = 1, 1
    for layer in layers:
        kernel, stride, dilation = (*layer, 1)[:3]
        field += (dilation * (kernel - 1)) * jump
        jump *= stride
    return field, jump
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_receptive_field", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert receptive_field([]) == (1, 1), "no layer: one pixel, stride 1"
assert receptive_field([(3, 1), (3, 1)]) == (5, 1), "two 3x3 convolutions see 5x5"
assert receptive_field([(3, 1), (2, 2), (3, 1)]) == (8, 2), receptive_field([(3, 1), (2, 2), (3, 1)])
assert receptive_field([(3, 1, 2)]) == (5, 1), "a dilated 3x3 (d=2) spans 5 pixels"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
_rng = np.random.default_rng(8081)
_cases = []
for _n in (3, 4, 6, 9):
    # a strided layer first, then at least one dilated layer, then random layers
    _layers = [(int(_rng.integers(2, 6)), 2), (3, 1, int(_rng.integers(2, 5)))]
    _layers += [(int(_rng.integers(1, 8)), int(_rng.integers(1, 4)), int(_rng.integers(1, 4)))
                for _ in range(_n - 2)]
    _cases.append(([_layers[i] for i in _rng.permutation(len(_layers))] if _n > 6 else _layers,))
_cases += [([(7, 2), (3, 2)] + [(3, 1, 2)] * 3,), ([(2, 2), (3, 1), (2, 2), (3, 1, 4), (1, 1)],)]
_probe("receptive_field", lambda layers: list(receptive_field(layers)), _cases)
### END HIDDEN TESTS

# %% [markdown]
# Applied to real encoders (the layer lists are written out from the architectures; VGG16's five
# blocks end in `block5_conv3` before the last pooling, and then one more pooling):

# %%
vgg16 = ([(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 3 + [(2, 2)]
         + [(3, 1)] * 3 + [(2, 2)] + [(3, 1)] * 3)
ours = ([(3, 1), (2, 2)] * 3) + [(3, 1)]           # this chapter's encoder (section 5)
dilated = [(3, 1)] * 3 + [(3, 1, 2), (3, 1, 4), (3, 1, 8)]
for name, layers in (("VGG16 up to block5_conv3", vgg16), ("VGG16 with its 5th pooling", vgg16 + [(2, 2)]),
                     ("this chapter's encoder", ours), ("dilated stack (d = 1,1,1,2,4,8)", dilated)):
    rf, stride = receptive_field(layers)
    print(f"{name:32s} receptive field {rf:4d} px, output stride {stride:2d}")

# %% [markdown]
# VGG16's last features have a 16× output stride before its fifth pooling and 32× after it: a
# 224×224 image becomes a 7×7 map — which is where FCN-32s predicted. Our encoder for 48×48 canvases
# pools three times (output stride 8: a 6×6 map) and its receptive field is wider than a cropped
# digit (at most 28 px). The dilated stack sees a comparable field at stride 1: dilation spreads the
# kernel's taps instead of shrinking the map (the DeepLab approach), at the price of computing every
# layer at full resolution.
# In Keras the shapes say so:

# %%
import keras

_x = np.zeros((1, 48, 48, 1), "float32")
for label, layer in (("MaxPooling2D(2)", keras.layers.MaxPooling2D()),
                     ("Conv2D(3, strides=2)", keras.layers.Conv2D(4, 3, strides=2, padding="same")),
                     ("Conv2D(3, dilation_rate=4)", keras.layers.Conv2D(4, 3, dilation_rate=4, padding="same"))):
    print(f"{label:27s} 48x48 -> {tuple(layer(_x).shape[1:3])}")

# %% [markdown]
# ## 4. Getting the resolution back: transposed convolution and bilinear upsampling
#
# A **transposed convolution** (`keras.layers.Conv2DTranspose`, sometimes wrongly called
# "deconvolution") runs a convolution's data flow backwards: each input pixel *scatters* a copy of
# the kernel, scaled by its value, into the output, the copies placed `stride` pixels apart, and
# overlapping copies add up. With stride *s* and kernel *k*, an *H*-row input gives
# (*H* − 1)·*s* + max(*k*, *s*) rows with `padding="valid"` and exactly *H*·*s* with `"same"`, which
# crops (*k* − *s*) // 2 rows from the top (the rest from the bottom), and likewise for columns.
# Keras stores its kernel as `(kh, kw, out_channels, in_channels)`.
#
# ### Exercise 3 (3 points) — a transposed convolution in numpy
#
# `conv_transpose2d(x, kernel, bias, strides, padding)`: `x` is one image `(H, W, C_in)`, `kernel`
# `(kh, kw, C_out, C_in)` as Keras stores it, `bias` `(C_out,)` or `None`, `strides` an int or a
# pair, `padding` `"valid"` or `"same"`. Return `(H_out, W_out, C_out)`, equal to what
# `Conv2DTranspose` computes with the same weights.

# %% nbgrader={"grade": false, "grade_id": "ex3_conv_transpose", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_transpose2d(x, kernel, bias=None, strides=1, padding="valid"):
    """Keras's ``Conv2DTranspose`` forward pass on one image ``(H, W, C_in)``."""
    ### BEGIN SOLUTION
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    h, w, _ = x.shape
    kh, kw, c_out, _ = kernel.shape
    sh, sw = (strides, strides) if np.isscalar(strides) else strides
    full = np.zeros(((h - 1) * sh + kh, (w - 1) * sw + kw, c_out))
    for i in range(h):
        for j in range(w):
            full[i * sh:i * sh + kh, j * sw:j * sw + kw] += np.einsum("c,yxoc->yxo", x[i, j], kernel)
    if padding == "same":
        out_h, out_w = h * sh, w * sw
        top, left = max(kh - sh, 0) // 2, max(kw - sw, 0) // 2
    else:
        out_h, out_w = (h - 1) * sh + max(kh, sh), (w - 1) * sw + max(kw, sw)
        top = left = 0
    out = np.zeros((out_h, out_w, c_out))
    part = full[top:top + out_h, left:left + out_w]
    out[:part.shape[0], :part.shape[1]] = part
    return out if bias is None else out + np.asarray(bias)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv_transpose", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_one = conv_transpose2d(np.ones((1, 1, 1)), np.arange(9.0).reshape(3, 3, 1, 1), None, 2, "valid")
np.testing.assert_allclose(_one[..., 0], np.arange(9.0).reshape(3, 3), err_msg="one pixel scatters the kernel")
for _pad, _s, _k in (("valid", 2, 3), ("same", 2, 4), ("same", 1, 3), ("valid", 3, 2)):
    _layer = keras.layers.Conv2DTranspose(3, _k, strides=_s, padding=_pad)
    _x = np.random.default_rng(_k).normal(size=(1, 4, 5, 2)).astype("float32")
    _want = keras.ops.convert_to_numpy(_layer(_x))[0]
    _got = conv_transpose2d(_x[0], *[keras.ops.convert_to_numpy(v) for v in _layer.weights], _s, _pad)
    assert np.shape(_got) == _want.shape, f"{_pad}, stride {_s}, kernel {_k}: {np.shape(_got)} vs {_want.shape}"
    np.testing.assert_allclose(_got, _want, rtol=1e-4, atol=1e-4)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
_rng = np.random.default_rng(8082)
_cases = []
for _i in range(6):
    # one axis with a kernel shorter than its stride, the other with (kernel - stride) odd > 0
    _short = (1, int(_rng.integers(2, 4)))
    _long = ((4, 1), (5, 2), (2, 1), (6, 3))[_i % 4]
    (_kh, _sh), (_kw, _sw) = (_short, _long) if _i % 2 else (_long, _short)
    _ci, _co = (int(v) for v in _rng.integers(1, 4, size=2))
    _cases.append((_rng.normal(size=(int(_rng.integers(2, 6)), int(_rng.integers(2, 6)), _ci)),
                   _rng.normal(size=(_kh, _kw, _co, _ci)), _rng.normal(size=_co) if _i % 3 else None,
                   (_sh, _sw)))
_probe("conv_transpose2d", lambda x, k, b, st: [conv_transpose2d(x, k, b, st, "valid"),
                                                conv_transpose2d(x, k, b, st, "same")],
       _cases, rtol=1e-6, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# A transposed convolution *learns* its upsampling. A good starting point — and the fixed
# upsampling of FCN's last layer — is **bilinear interpolation written as a kernel**: for a factor
# *f*, a kernel of size 2*f* − *f* mod 2 whose weights fall linearly from the centre, the outer
# product of `1 − |i − centre| / f` with itself, where `centre = f − 1` for an odd size and
# `f − 0.5` for an even one.
#
# ### Exercise 4 (2 points) — the bilinear upsampling kernel
#
# `bilinear_kernel(factor)` returns that 2-D kernel, shape `(size, size)`.

# %% nbgrader={"grade": false, "grade_id": "ex4_bilinear_kernel", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bilinear_kernel(factor):
    """The ``(2f - f % 2)``-square kernel that upsamples by ``factor`` bilinearly when transposed."""
    ### BEGIN SOLUTION
    size = 2 * factor - factor % 2
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    ramp = 1 - np.abs(np.arange(size) - centre) / factor
    return np.outer(ramp, ramp)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bilinear_kernel", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_k2 = bilinear_kernel(2)
assert np.shape(_k2) == (4, 4), np.shape(_k2)
np.testing.assert_allclose(_k2[1], [0.1875, 0.5625, 0.5625, 0.1875])
assert np.shape(bilinear_kernel(3)) == (5, 5) and np.isclose(bilinear_kernel(3)[2, 2], 1.0)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
_probe("bilinear_kernel", lambda f: [bilinear_kernel(f), bilinear_kernel(f + 1)],
       [(1,), (3,), (5,), (7,)], rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# Put the kernel into a `Conv2DTranspose` (stride *f*, `padding="same"`) and compare it with
# `UpSampling2D(interpolation="bilinear")` on the same random image:

# %%
for factor in (2, 3, 4):
    _k = bilinear_kernel(factor)
    _img = np.random.default_rng(factor).random((1, 8, 8, 1)).astype("float32")
    _up = keras.layers.Conv2DTranspose(1, _k.shape, strides=factor, padding="same", use_bias=False)
    _up.build(_img.shape)
    _up.kernel.assign(_k[:, :, None, None].astype("float32"))
    _a = keras.ops.convert_to_numpy(_up(_img))[0, ..., 0]
    _b = keras.ops.convert_to_numpy(keras.layers.UpSampling2D(factor, interpolation="bilinear")(_img))[0, ..., 0]
    _diff = np.abs(_a - _b)
    _flat = keras.ops.convert_to_numpy(_up(np.ones_like(_img)))[0, ..., 0]
    print(f"x{factor}: interior (more than {factor} px from the border) max |difference| "
          f"{_diff[factor:-factor, factor:-factor].max():.1e}; border rows/columns up to "
          f"{max(_diff[:factor].max(), _diff[-factor:].max()):.2f}; a constant 1 image gives "
          f"{_flat[0, 0]:.4f} in the corner")

# %% [markdown]
# Inside the image the two agree to float precision: the transposed convolution with this kernel
# *is* bilinear interpolation. At the border they differ: the transposed convolution treats the
# outside as zeros, so the upsampled image fades towards the edge (a constant image loses a
# quarter or more of its value in the corner), while `UpSampling2D` (like `tf.image.resize`)
# clamps to the edge pixel. Initialised this way and then trained, a `Conv2DTranspose` can learn
# better than bilinear; `UpSampling2D` costs no parameters.
#
# ## 5. Resolution lost, measured: predicting at 1/8 and upsampling
#
# The encoder below is a small classification-style CNN: three conv-BN-ReLU stages, each followed
# by 2×2 max pooling, then one more stage at 6×6 (output stride 8 and the receptive field computed
# above). The first model stops there: a 1×1 convolution gives 11 class scores per cell
# of the 6×6 grid, and `UpSampling2D(8, interpolation="bilinear")` stretches them back to 48×48 —
# FCN-32s in miniature. Training recipe for every model of the chapter: the same canvases and
# epochs (the profile's budget), Adam with a cosine-decayed learning rate, pixel-wise
# cross-entropy with the background pixels weighted 0.2 (section 1 printed their share of the
# pixels; the weight keeps them from dominating the loss, as they dominate pixel accuracy).

# %%
import time

from course.ch08 import predict_masks, to_input


def conv_bn_relu(x, filters):
    """3x3 convolution ('same'), batch normalization, ReLU."""
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    return keras.layers.ReLU()(x)


def encoder(inputs, width, depth=3):
    """``(features at 1/2**depth, [features at 1, 1/2, ... before each pooling])``."""
    x, skips = inputs, []
    for level in range(depth):
        x = conv_bn_relu(x, width * 2 ** level)
        skips.append(x)
        x = keras.layers.MaxPooling2D()(x)
    return conv_bn_relu(x, width * 2 ** depth), skips


def train(model, callbacks=()):
    """Compile and fit ``model`` on the training canvases with the chapter's recipe; seconds taken."""
    steps = B["epochs"] * int(np.ceil(len(x_train) / B["batch_size"]))
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    weights = np.where(m_train == 0, 0.2, 1.0).astype("float32")
    start = time.perf_counter()
    model.fit(to_input(x_train), m_train, sample_weight=weights, epochs=B["epochs"],
              batch_size=B["batch_size"], verbose=0, callbacks=list(callbacks))
    return time.perf_counter() - start


def build_noskip(width):
    """The encoder, 1x1 class scores at 1/8 resolution, bilinear upsampling x8: no skips."""
    inputs = keras.Input((48, 48, 1))
    features, _ = encoder(inputs, width)
    scores = keras.layers.Conv2D(N_CLASSES, 1)(features)
    return keras.Model(inputs, keras.layers.UpSampling2D(8, interpolation="bilinear")(scores),
                       name="predict_at_one_eighth")


WIDTH = {"cpu": 16, "gpu": 32, "smoke": 4}[PROFILE]

# %%
keras.utils.set_random_seed(0)
noskip = build_noskip(WIDTH)
noskip_seconds = train(noskip)
noskip.save("noskip_model.keras")
pred_noskip = predict_masks(noskip, x_val)
print(f"no skips, 1/8 resolution: {noskip.count_params():,} parameters, trained in {noskip_seconds:.0f} s; "
      f"validation mean IoU {mean_iou(pred_noskip, m_val, N_CLASSES):.3f}, "
      f"pixel accuracy {pixel_accuracy(pred_noskip, m_val):.1%}")

# %% [markdown]
# Where does it go wrong? Look at the boundaries: a 6×6 grid of scores, bilinearly stretched, can
# only draw blobs. To *measure* that, score only the pixels near a boundary.
#
# ### Exercise 5 (2 points) — the boundary band
#
# `boundary_band(mask, width=1)` returns a boolean array of `mask`'s shape (one canvas `(H, W)` or
# a batch `(N, H, W)`; the last two axes are the image): a pixel is in the band when some pixel of
# its (2·`width` + 1) × (2·`width` + 1) neighbourhood **inside the image** has a different label.
# Nothing wraps around the border.

# %% nbgrader={"grade": false, "grade_id": "ex5_boundary_band", "locked": false, "schema_version": 3, "solution": true, "task": false}
def boundary_band(mask, width=1):
    """Pixels within ``width`` (square neighbourhood, inside the image) of a different label."""
    ### BEGIN SOLUTION
    mask = np.asarray(mask)
    lead = [(0, 0)] * (mask.ndim - 2)
    padded = np.pad(mask, lead + [(width, width), (width, width)], mode="edge")
    h, w = mask.shape[-2:]
    band = np.zeros(mask.shape, bool)
    for dy in range(2 * width + 1):
        for dx in range(2 * width + 1):
            band |= padded[..., dy:dy + h, dx:dx + w] != mask
    return band
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_boundary_band", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_m = np.zeros((6, 6), int)
_m[2:4, 2:4] = 5
_b = boundary_band(_m)
assert _b.shape == (6, 6) and _b.dtype == bool
assert _b[1:5, 1:5].all() and not _b[0].any() and not _b[:, 0].any(), np.asarray(_b, int)
assert boundary_band(_m, 2)[0].any() and not boundary_band(np.ones((4, 4), int)).any()
assert boundary_band(np.stack([_m, np.zeros_like(_m)])).sum() == _b.sum(), "a batch is scored canvas by canvas"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
_corner = np.zeros((7, 9), int)
_corner[:5, :4] = 1
_pair = np.zeros((2, 8, 8), int)
_pair[0, 5:, :3], _pair[1, 2:5, 6:] = 2, 3
_three = np.zeros((3, 6, 6), int)
_three[0, :2, :3], _three[1, 3:, 4:], _three[2, :4, :2] = 5, 7, 1
_three[2, :2, :2] = 9
# every case has regions touching the border (wrapping around is wrong) and inner corners
_cases = [(np.pad(np.ones((3, 5), int), ((0, 5), (0, 3))), 1), (_pair, 2), (_corner, 1),
          (np.pad(np.full((2, 5), 4), ((0, 6), (7, 0))), 3), (_three, 1)]
_probe("boundary_band", lambda m, w: np.asarray(boundary_band(m, w), dtype=int), _cases)
### END HIDDEN TESTS

# %%
band = boundary_band(m_val, 1)
print(f"{band.mean():.1%} of the validation pixels lie within 1 px of a boundary; no-skip model there: "
      f"mean IoU {mean_iou(pred_noskip[band], m_val[band], N_CLASSES):.3f}, "
      f"pixel accuracy {pixel_accuracy(pred_noskip[band], m_val[band]):.1%}")

# %% [markdown]
# ## 6. Skip connections: an encoder–decoder (U-Net)
#
# The decoder climbs back up the same three levels. At each level a stride-2 `Conv2DTranspose`
# doubles the resolution, the encoder's features **at that resolution** (saved before its pooling)
# are concatenated to it — the skip connection — and a conv-BN-ReLU block mixes the coarse "what"
# with the fine "where". A final 1×1 convolution gives 11 class scores per pixel at full
# resolution. This is U-Net's design (Ronneberger et al. 2015); FCN-8s did the same more cheaply by
# adding class scores predicted from pool3 and pool4 to the upsampled top scores (Long et al. 2015).
#
# ### Exercise 6 (2 points) — `build_segmenter`
#
# `build_segmenter(width)` returns a new, uncompiled Keras model from input `(48, 48, 1)` to
# `(48, 48, 11)` class scores (logits, as `train` expects), made of built-in Keras layers only
# (the grader loads the saved file with `safe_mode=True`), with upsampling layers and at least one
# skip connection (a `Concatenate` or `Add` that merges encoder features into the decoder). Use
# `encoder(inputs, width)` from above; under 5 million parameters.

# %% nbgrader={"grade": false, "grade_id": "ex6_build_segmenter", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_segmenter(width=16):
    """An encoder-decoder with skip connections: (48, 48, 1) -> (48, 48, 11) logits."""
    ### BEGIN SOLUTION
    inputs = keras.Input((48, 48, 1))
    x, skips = encoder(inputs, width)
    for level in reversed(range(len(skips))):
        x = keras.layers.Conv2DTranspose(width * 2 ** level, 2, strides=2, padding="same")(x)
        x = keras.layers.Concatenate()([x, skips[level]])
        x = conv_bn_relu(x, width * 2 ** level)
    outputs = keras.layers.Conv2D(N_CLASSES, 1)(x)
    return keras.Model(inputs, outputs, name="unet")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_build_segmenter", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_net = build_segmenter(8)
assert tuple(_net.input_shape[1:]) == (48, 48, 1), f"input shape {_net.input_shape}"
assert tuple(_net.output_shape[1:]) == (48, 48, N_CLASSES), f"output shape {_net.output_shape}"
_kinds = {type(_l).__name__ for _l in _net.layers}
assert _kinds & {"Concatenate", "Add"}, "no skip connection (Concatenate or Add) in the model"
assert _kinds & {"Conv2DTranspose", "UpSampling2D"}, "no upsampling layer in the model"
assert _net.count_params() < 5_000_000, f"{_net.count_params():,} parameters"
print(f"Visible tests passed: {_net.count_params():,} parameters at width 8.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _interface(width):
    _mm = build_segmenter(width)
    _kk = {type(_l).__name__ for _l in _mm.layers}
    return [list(_mm.input_shape[1:]), list(_mm.output_shape[1:]), bool(_kk & {"Conv2DTranspose", "UpSampling2D"}),
            bool(_kk & {"Concatenate", "Add"}), _mm.count_params() < 5_000_000]
_probe("build_segmenter", _interface, [(4,), (12,)])
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 7 (10 points) — train it, save it
#
# Train your segmenter on the training canvases with the same budget as the no-skip model
# (`train(model)` does exactly that; you may change the recipe), save it with
# `model.save("segmentation_model.keras")`, and report its validation mean IoU. The grader re-runs
# this notebook and measures the saved file on its own test canvases; what you print earns
# nothing.

# %% nbgrader={"grade": false, "grade_id": "ex7_train", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
keras.utils.set_random_seed(0)
model = build_segmenter(WIDTH)
train_seconds = train(model)
### END SOLUTION
model.save("segmentation_model.keras")
pred_skip = predict_masks(model, x_val)
print(f"saved segmentation_model.keras ({model.count_params():,} parameters, trained in {train_seconds:.0f} s); "
      f"validation mean IoU {mean_iou(pred_skip, m_val, N_CLASSES):.3f}")

# %% nbgrader={"grade": true, "grade_id": "test_model_file", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
import os
assert os.path.isfile("segmentation_model.keras"), "save your model with model.save('segmentation_model.keras')"
print("segmentation_model.keras saved; the grader measures its mean IoU.")
### BEGIN HIDDEN TESTS
from course.probe import probe_model as _probe_model
_probe_model("segmentation_model", "segmentation_model.keras", "ch08_segmentation")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. With and without skips, measured
#
# Both models saw the same canvases for the same number of epochs. Compare them on the validation
# canvases, over all pixels and in the boundary band (the last column: the share of a model's wrong
# pixels that lie in the band):

# %%
print(f"{'':26s} {'all pixels':>19s}   {'within 1 px of a boundary':>32s}")
print(f"{'':26s} {'accuracy':>9s} {'mean IoU':>9s}   {'accuracy':>9s} {'mean IoU':>9s} {'errors here':>12s}")
rows = {}
for name, pred in (("all background", all_background), ("no skips (1/8, upsampled)", pred_noskip),
                   ("with skips (yours)", pred_skip)):
    wrong = pred != m_val
    rows[name] = (pixel_accuracy(pred, m_val), mean_iou(pred, m_val, N_CLASSES),
                  pixel_accuracy(pred[band], m_val[band]), mean_iou(pred[band], m_val[band], N_CLASSES),
                  wrong[band].sum() / max(wrong.sum(), 1))
    print(f"{name:26s} {rows[name][0]:9.1%} {rows[name][1]:9.3f}   {rows[name][2]:9.1%} {rows[name][3]:9.3f} "
          f"{rows[name][4]:12.0%}")
print(f"the band is {band.mean():.1%} of the pixels; away from it the pixel accuracy is "
      f"{pixel_accuracy(pred_noskip[~band], m_val[~band]):.1%} without skips, "
      f"{pixel_accuracy(pred_skip[~band], m_val[~band]):.1%} with")

# %% [markdown]
# Read the table by columns. Over all pixels, pixel accuracy hardly separates the rows — the
# background dominates, and a coarse model that finds the digits can even score below "all
# background" — while mean IoU ranks them as they deserve. The band is where the coarse model
# fails: compare its accuracy there with its accuracy away from the band (last line). That is the
# resolution lost by predicting at 1/8, and what the skip connections recover.
#
# Pick a canvas: the explorer shows the input, the truth and both predictions, with the per-class
# IoU of that canvas computed by *your* `per_class_iou`. Toggle the overlay to see the labels on the
# digits.

# %%
from course.ch08 import segmentation_explorer

segmentation_explorer(x_val, m_val, {"no skips": pred_noskip, "with skips": pred_skip}, per_class_iou)

# %% [markdown]
# ## 8. The secondary difficulties, in this data
#
# * **Class imbalance.** The background is most of the pixels (section 1), so an unweighted loss
#   and pixel accuracy both reward predicting it; hence the weighted loss and mean IoU.
# * **Thin and small objects.** A thin stroke has most of its pixels next to a boundary, so blur
#   costs it a larger share of its IoU than it costs a thick one. The chart gives the per-class IoU
#   of both models; the printout gives, for each digit class, the share of its pixels that lie in
#   the boundary band and, over the ten digit classes, how IoU correlates with that share. Here
#   every digit is a stroke a few pixels wide, so most of every class lies in the band and the
#   classes differ less than objects of real scenes do (poles, bicycles and people next to roads
#   and buildings).

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 2.4))
for offset, (name, pred) in zip((-0.2, 0.2), (("no skips", pred_noskip), ("with skips", pred_skip)), strict=True):
    ax.bar(np.arange(N_CLASSES) + offset, per_class_iou(pred, m_val, N_CLASSES), width=0.4, label=name)
ax.set_xticks(range(N_CLASSES), ["bg"] + [str(d) for d in range(10)])
ax.set_ylabel("IoU")
ax.legend(fontsize=8)
plt.show()
edge_share = np.array([band[m_val == c].mean() for c in range(1, N_CLASSES)])
print("share of each digit's pixels in the band:", dict(enumerate(np.round(edge_share, 2).tolist())))
for name, pred in (("no skips", pred_noskip), ("with skips", pred_skip)):
    digit_iou = per_class_iou(pred, m_val, N_CLASSES)[1:]
    print(f"{name:10s}: lowest-IoU digit {int(np.nanargmin(digit_iou))} ({np.nanmin(digit_iou):.2f}); "
          f"correlation of IoU with boundary share over the digits {np.corrcoef(edge_share, digit_iou)[0, 1]:+.2f}")

# %% [markdown]
# * **Boundaries.** Section 7 measured them: the band holds a small share of the pixels and a far
#   larger share of the errors.
# * **The cost of labels.** Here a mask comes for free because the canvases are generated. Real
#   pixel labels are drawn by hand: annotating one Cityscapes street scene finely took more than
#   1.5 hours on average (quoted from Cordts et al., *The Cityscapes Dataset*, CVPR 2016), against
#   seconds for an image-level class label.
# * **Context and scale.** A pixel's class often depends on what surrounds it (a receptive field
#   large enough, section 3) while its boundary depends on a few pixels (full resolution): the
#   two pull in opposite directions, which is exactly the tension skip connections, dilated
#   convolutions and multi-scale pooling (PSPNet, DeepLab's ASPP) resolve.
#
# For scale, on real images (quoted from Long et al., *Fully Convolutional Networks for Semantic
# Segmentation*, CVPR 2015, Table 2, PASCAL VOC 2011 validation mean IU): FCN-32s 59.4, FCN-16s
# 62.4, FCN-8s 62.7 — each skip from a finer layer helps, with diminishing returns.

# %% [markdown] nbgrader={"grade": false, "grade_id": "written_prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 8 (3 points, graded by your instructor) — answer the question
#
# In a short paragraph: what is the main technical difficulty of semantic segmentation, and how do
# upsampling and skip connections address it? Support it with **your** numbers from this notebook
# (output stride, mean IoU with and without skips, overall and at the boundaries), and explain why
# the all-background prediction's pixel accuracy is not a fair score.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_answer", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# Classification CNNs pool and stride their way to a small map (output stride 8 for our encoder, 32
# for VGG16), trading *where* for *what*; segmentation needs a label for every pixel, so the spatial
# resolution must be recovered. Predicting at 1/8 and upsampling bilinearly gives blobs: in the
# reference run its mean IoU was far below the U-Net's, and the gap was largest in the boundary band.
# A decoder of transposed convolutions recovers the resolution, and skip connections bring back the
# fine detail the encoder's early layers still had, so boundaries and thin strokes come out right.
# Pixel accuracy is dominated by the background (about 92 % of the pixels in the reference run):
# predicting background everywhere scores about 92 % while finding no digit; its mean IoU (about
# 0.08) shows it.
# ### END SOLUTION
