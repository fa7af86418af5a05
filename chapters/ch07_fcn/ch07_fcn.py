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
# # Chapter 7 — What is a fully convolutional network? How can you convert a dense layer into a convolutional layer?
#
# **The question.** What is a fully convolutional network (FCN)? How can you convert a dense layer
# into a convolutional layer?
#
# **The short answer**, which this notebook proves with a trained network:
#
# * An FCN is a network made only of convolutional (and pooling) layers, with no dense layer, so it
#   accepts inputs of any size (above a minimum) and outputs a *map*: one prediction per position
#   of a grid, instead of one prediction per image.
# * A dense layer that reads a flattened $h \times w \times c$ feature map is **exactly** a
#   convolutional layer with one filter per unit, an $h \times w$ kernel and `"valid"` padding; its
#   kernel is the dense weight matrix reshaped to $(h, w, c, \text{units})$ (no transposition,
#   because Keras flattens NHWC maps in the same order). Later dense layers become 1×1
#   convolutions. The weights do not change; only their shape does.
# * Run on a larger image, the converted network slides the original classifier over it, with a
#   stride equal to the product of the network's strides, and computes every window's prediction
#   at once, sharing the convolutions between overlapping windows.
#
# A circulating short answer says to "reshape the dense layer's output"; section 3 shows why that
# does not work.
#
# **How this notebook works.** Read and run the lesson cells in order. The exercises at the end are
# autograded: each has visible tests you can run now, and hidden tests the grader runs on other
# inputs. The last exercise is a short written answer graded by your instructor.

# %%
from course.env import setup

info = setup("ch07")

# %% [markdown]
# ## 1. A digit classifier with a dense head
#
# Two convolution + max pooling stages, then `Flatten` and two dense layers, trained on MNIST
# digits (the budget depends on the profile).

# %%
import keras
import numpy as np

from course.ch07 import BUDGET, classifier, mnist_digits, train

budget = BUDGET[info["profile"]]
(x_train, y_train), (x_test, y_test) = mnist_digits(budget["n_train"])
model = classifier()
seconds = train(model, x_train, y_train, budget["epochs"])
test_accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test))
for layer in model.layers:
    print(f"{layer.name:8s} {type(layer).__name__:13s} output {layer.output.shape[1:]!s:14s} "
          f"params {layer.count_params():>7,}")
print(f"trained on {len(x_train):,} digits for {budget['epochs']} epoch(s) in {seconds:.0f} s; "
      f"accuracy on {len(x_test):,} test digits: {test_accuracy:.1%}")
if info["profile"] != "smoke":
    assert test_accuracy > 0.95

# %% [markdown]
# `dense1` reads the flattened 5×5×32 output of `pool2`: 800 numbers. Each of its 64 units computes
# $\sum_{i,j,k} W[(i \cdot 5 + j) \cdot 32 + k,\ u]\, a[i, j, k] + b_u$ over all 800 of them. A
# `Conv2D` filter with a 5×5×32 kernel and `"valid"` padding, applied to the same 5×5×32 map, has
# exactly one position and computes $\sum_{i,j,k} K[i, j, k, u]\, a[i, j, k] + b_u$: the same sum,
# if $K[i, j, k, u] = W[(i \cdot 5 + j) \cdot 32 + k,\ u]$, which is what
# `W.reshape(5, 5, 32, 64)` gives, since numpy and Keras's `Flatten` both use row-major (C) order on
# NHWC maps. Here is that index correspondence checked on the real `Flatten` layer:

# %%
feature_map = np.arange(5 * 5 * 32, dtype=np.float32).reshape(1, 5, 5, 32)
flat = keras.ops.convert_to_numpy(keras.layers.Flatten()(feature_map))[0]
i, j, k = 3, 1, 17
print(f"a[{i}, {j}, {k}] = {feature_map[0, i, j, k]:.0f}, flat[(i * 5 + j) * 32 + k] = {flat[(i * 5 + j) * 32 + k]:.0f}")
assert np.array_equal(flat, feature_map.reshape(-1))

# %% [markdown]
# ## 2. The same network, fully convolutional
#
# `course.ch07.fully_convolutional(model, convert)` rebuilds the classifier with an input of any
# size: the convolution and pooling layers are copied with their weights, `Flatten` is dropped, and
# each dense layer becomes a `Conv2D` whose weights `convert(kernel, bias, input_shape)` returns.
# Writing `convert` is exercise 1; the lesson uses Keras's own `Dense` to make a reference
# conversion, by *measuring* what each dense unit responds to: the response of a dense layer to
# the one-hot input $e_n$ is row $n$ of its kernel (plus the bias). That is slow and only a
# check, but it shows the kernel with no assumption about the layout.

# %%
from course.ch07 import fully_convolutional


def measured_conversion(kernel, bias, input_shape):
    """The conv kernel read off a Keras Dense layer's responses to one-hot inputs (a slow check)."""
    dense = keras.layers.Dense(kernel.shape[1])
    dense.build((None, kernel.shape[0]))
    dense.set_weights([kernel, bias])
    probes = np.eye(kernel.shape[0], dtype=np.float32).reshape(-1, *input_shape)        # one-hot maps
    responses = keras.ops.convert_to_numpy(dense(keras.layers.Flatten()(probes))) - bias   # (n, units)
    return responses.reshape(*input_shape, kernel.shape[1]), bias


fcn = fully_convolutional(model, measured_conversion)
for layer in fcn.layers[1:]:
    print(f"{layer.name:14s} {type(layer).__name__:13s} output {layer.output.shape[1:]!s:18s} "
          f"params {layer.count_params():>7,}")
print(f"parameters: classifier {model.count_params():,}, FCN {fcn.count_params():,}")

same_digits = x_test[:256]
p_dense = model.predict(same_digits, verbose=0)
p_fcn = fcn.predict(same_digits, verbose=0)
print(f"on 28x28 digits the FCN outputs {p_fcn.shape[1:]}; largest difference from the classifier: "
      f"{np.abs(p_fcn[:, 0, 0] - p_dense).max():.2e}; same predicted class for "
      f"{np.mean(p_fcn[:, 0, 0].argmax(-1) == p_dense.argmax(-1)):.0%}")
assert fcn.count_params() == model.count_params()
np.testing.assert_allclose(p_fcn[:, 0, 0], p_dense, atol=1e-5)

# %% [markdown]
# Same parameters, same predictions to float precision: the conversion changes nothing but the
# shapes. `dense1` became a 5×5 convolution with 64 filters, and `dense2`, which read a vector of
# 64 numbers, a 1×1 convolution with 10 filters (a 1×1×64 map is a vector of 64 numbers).
#
# ## 3. Why "reshape the output" and "same padding" are not the answer
#
# *Reshaping the dense layer's output* (say to 1×1×64) gives a tensor of the right shape, but the
# layer still reads a flattened vector of exactly 800 numbers, so the network still only accepts
# 28×28 inputs: nothing slides. And converting with `"same"` padding instead of `"valid"` keeps the
# 5×5 grid, so each of the 25 positions sees a *zero-padded*, shifted copy of the map; only the
# centre position computes what the dense layer computed:

# %%
from course.ch07 import canvas

kernel, bias = model.get_layer("dense1").get_weights()
pool2 = keras.Model(model.inputs, model.get_layer("pool2").output)
maps = pool2.predict(same_digits[:8], verbose=0)                                    # (8, 5, 5, 32)
same_conv = keras.layers.Conv2D(64, 5, padding="same", activation="relu")
same_conv.build(maps.shape)
same_conv.set_weights(measured_conversion(kernel, bias, (5, 5, 32)))
out_same = keras.ops.convert_to_numpy(same_conv(maps))
dense_out = keras.ops.convert_to_numpy(model.get_layer("dense1")(keras.layers.Flatten()(maps)))
centre_gap = np.abs(out_same[:, 2, 2] - dense_out).max()
corner_gap = np.abs(out_same[:, 0, 0] - dense_out).max()
print(f"'same' padding: output {out_same.shape[1:]} instead of (1, 1, 64); centre position differs "
      f"from dense1 by {centre_gap:.1e}, a corner position by {corner_gap:.2f}")
assert centre_gap < 1e-4 and corner_gap > 0.1
try:
    model.predict(np.zeros((1, 56, 84, 1), np.float32), verbose=0)
except Exception as error:  # noqa: BLE001 - the backend's own error type, whatever it is
    message = [line for line in str(error).splitlines() if "incompatible" in line or "shape" in line]
    print(f"the dense classifier on a 56x84 canvas raises {type(error).__name__}:",
          (message or [str(error)])[0].strip()[:100])
else:
    raise AssertionError("the dense classifier should refuse a 56x84 input")

# %% [markdown]
# ## 4. Running the FCN on a larger canvas
#
# Put five test digits on a 56×84 canvas and run the FCN once. Each cell of its output *score map*
# is the classifier's prediction for one window of the canvas. The windows are 4 pixels apart, the
# product of the two pooling strides, and each is as large as the classifier's *receptive field*,
# the input pixels an output depends on. (Here that is 26×26, not 28×28: `pool2` turns 11×11 into
# 5×5 and drops the last row and column, so the classifier never looked at the last two rows and
# columns of its 28×28 input.) Exercise 2 computes this geometry for any stack of layers; the cell
# below checks a few cells against the classifier run on the corresponding 28×28 crops.

# %%
from course.ch07 import plot_score_map

positions = [(0, 0), (2, 30), (0, 56), (28, 10), (26, 50)]
board = canvas(x_test[:5], positions)
scores = fcn.predict(board[None], verbose=0)[0]                       # (H', W', 10)
print(f"canvas {board.shape[:2]} -> score map {scores.shape[:2]} x 10 classes; "
      f"digits placed: {[int(d) for d in y_test[:5]]}")
stride = 4
for i, j in [(0, 0), (7, 14), (3, 8)]:
    crop = board[None, i * stride:i * stride + 28, j * stride:j * stride + 28]
    assert np.allclose(scores[i, j], model.predict(crop, verbose=0)[0], atol=1e-5)
found = [int(scores[t // stride, s // stride].argmax()) for t, s in positions]
print(f"the cells whose windows hold a digit predict {found}")
if info["profile"] != "smoke":
    assert found == [int(d) for d in y_test[:5]]
fig = plot_score_map(board, scores, stride=4, field=26, title="One pass of the FCN over the canvas")

# %% [markdown]
# One forward pass computed all 8 × 15 = 120 windows' predictions. Running the classifier on 120
# separate crops would repeat most of the convolutions, since neighbouring windows overlap by 22
# of their 26 pixels; this sharing is what made FCNs fast for detection (OverFeat, 2013) and
# segmentation (Long, Shelhamer & Darrell, 2015, who converted VGG16's dense layers this way: fc6
# read a 7×7×512 map, so it became a 7×7 convolution with 4,096 filters, and fc7 and fc8 1×1
# convolutions). The score map is coarse: one prediction per 4 pixels here, per 32 in VGG16. The
# next chapter is about recovering full resolution for segmentation.
#
# ## 5. Explore: move a digit over the canvas
#
# Pick a test digit, move it with *Top* and *Left*, and choose the class whose probability map is
# shown. The best cell follows the digit in steps of the stride, 4 pixels; between two steps the
# digit sits off-centre in every window and the score can drop.

# %%
from course.ch07 import canvas_widget

canvas_widget(fcn, x_test[:50], y_test[:50], stride=4, field=26)

# %% [markdown]
# ## Exercises

# %% [markdown]
# ### Exercise 1 (4 points) — convert a dense layer's weights into a convolution's
#
# Write `dense_to_conv(kernel, bias, input_shape)`: `kernel` (`h*w*c`, units) and `bias` (units,) are
# the weights of a dense layer that reads a flattened feature map of shape `input_shape = (h, w, c)`
# (NHWC, flattened by `keras.layers.Flatten`). Return `(conv_kernel, conv_bias)` for a `Conv2D(units,
# (h, w), padding="valid")` that computes the same outputs on the unflattened map. Use numpy only
# (section 2's `measured_conversion` was a check; the conversion itself needs no Keras). The
# visible tests convert the chapter's classifier and compare with it.

# %% nbgrader={"grade": false, "grade_id": "ex1_dense_to_conv", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def dense_to_conv(kernel, bias, input_shape):
    """Conv2D weights equivalent to a Dense layer reading a flattened (h, w, c) map."""
    ### BEGIN SOLUTION
    h, w, c = input_shape
    kernel = np.asarray(kernel)
    if kernel.shape[0] != h * w * c:
        raise ValueError(f"the dense layer reads {kernel.shape[0]} inputs, not {h}x{w}x{c}")
    return kernel.reshape(h, w, c, kernel.shape[1]), np.asarray(bias)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dense_to_conv", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
import keras
import numpy as np
from course.ch07 import fully_convolutional

_kernel, _bias = model.get_layer("dense1").get_weights()
_k, _b = dense_to_conv(_kernel, _bias, (5, 5, 32))
assert np.shape(_k) == (5, 5, 32, 64) and np.shape(_b) == (64,), f"shapes {np.shape(_k)}, {np.shape(_b)}"
_fcn = fully_convolutional(model, dense_to_conv)
_x = x_test[:64]
np.testing.assert_allclose(_fcn.predict(_x, verbose=0)[:, 0, 0], model.predict(_x, verbose=0), atol=1e-5,
                           err_msg="the converted network does not predict what the classifier predicts")
_rng = np.random.default_rng(11)
_dense = keras.layers.Dense(6)
_dense.build((None, 3 * 4 * 2))
_map = _rng.normal(size=(2, 3, 4, 2)).astype(np.float32)
_conv = keras.layers.Conv2D(6, (3, 4))
_conv.build(_map.shape)
_conv.set_weights([np.asarray(_w, np.float32) for _w in dense_to_conv(*_dense.get_weights(), (3, 4, 2))])
np.testing.assert_allclose(keras.ops.convert_to_numpy(_conv(_map))[:, 0, 0],
                           keras.ops.convert_to_numpy(_dense(_map.reshape(2, -1))), rtol=1e-5, atol=1e-6,
                           err_msg="a 3x4x2 map: the conv differs from the dense layer")
assert not {"keras", "measured_conversion"} & set(dense_to_conv.__code__.co_names), (
    "write the conversion with numpy: it is a reshape, not a measurement")
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import numpy as _np
from course.probe import probe as _probe

def _conversion_case(h, w, c, units, seed):
    _r = _np.random.default_rng(seed)
    _kernel = _r.normal(size=(h * w * c, units)).astype(_np.float32)
    _bias = _r.normal(size=units).astype(_np.float32)
    _ck, _cb = dense_to_conv(_kernel, _bias, (h, w, c))
    return {"kernel": _np.asarray(_ck), "bias": _np.asarray(_cb)}

_rng = _np.random.default_rng(207001)
_cases = [(int(_rng.integers(1, 6)), int(_rng.integers(1, 6)), int(_rng.integers(1, 5)),
           int(_rng.integers(1, 5)), 207100 + _i) for _i in range(20)]
_probe("dense_to_conv", _conversion_case, _cases, rtol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 (3 points) — the geometry of the score map
#
# Write `score_map_geometry(h, w, layers)`. `layers` lists the network's layers in order as
# `(kernel, stride)` pairs, all `"valid"` (convolutions and poolings alike; a dense layer turned
# into a convolution is one more pair). Return a dict with:
#
# * `"shape"`: the `(rows, columns)` of the output map for an `h × w` input, or `None` if the input
#   is too small for even one output cell;
# * `"stride"`: how many input pixels apart two neighbouring output cells look;
# * `"receptive_field"`: the side of the square of input pixels one output cell depends on.
#
# For this chapter's FCN, `layers = [(3, 1), (2, 2), (3, 1), (2, 2), (5, 1), (1, 1)]`.

# %% nbgrader={"grade": false, "grade_id": "ex2_score_map_geometry", "locked": false, "schema_version": 3, "solution": true, "task": false}
def score_map_geometry(h, w, layers):
    """Output shape, stride and receptive field of a stack of valid (kernel, stride) layers."""
    ### BEGIN SOLUTION
    rows, cols, stride, field = h, w, 1, 1
    for kernel, step in layers:
        field += (kernel - 1) * stride
        stride *= step
        rows = (rows - kernel) // step + 1 if rows >= kernel else 0
        cols = (cols - kernel) // step + 1 if cols >= kernel else 0
    shape = (rows, cols) if rows > 0 and cols > 0 else None
    return {"shape": shape, "stride": stride, "receptive_field": field}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_score_map_geometry", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_layers = [(3, 1), (2, 2), (3, 1), (2, 2), (5, 1), (1, 1)]
_got = score_map_geometry(56, 84, _layers)
assert isinstance(_got, dict) and set(_got) == {"shape", "stride", "receptive_field"}, f"keys: {sorted(_got)}"
assert tuple(_got["shape"]) == tuple(fcn.predict(np.zeros((1, 56, 84, 1), np.float32), verbose=0).shape[1:3]), (
    f"shape {_got['shape']}, but the FCN outputs {fcn.output.shape}")
assert _got["stride"] == 4, f"stride {_got['stride']}"
assert _got["receptive_field"] == 26, f"receptive field {_got['receptive_field']}"
assert tuple(score_map_geometry(28, 28, _layers)["shape"]) == (1, 1)
assert tuple(score_map_geometry(26, 29, _layers)["shape"]) == (1, 1)
assert score_map_geometry(25, 40, _layers)["shape"] is None, "a 25-pixel-high input is too small"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
from course.probe import probe as _probe

def _geometry_case(h, w, layers):
    _g = score_map_geometry(h, w, [tuple(_l) for _l in layers])
    return {"shape": None if _g["shape"] is None else [int(_v) for _v in _g["shape"]],
            "stride": int(_g["stride"]), "receptive_field": int(_g["receptive_field"])}

_rng = _random.Random(207002)
_cases = []
for _ in range(30):
    _stack = [(_rng.randint(1, 7), _rng.choice([1, 1, 2, 3])) for _ in range(_rng.randint(1, 6))]
    _cases.append((_rng.randint(1, 300), _rng.randint(1, 300), _stack))
_probe("score_map_geometry", _geometry_case, _cases)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "written_prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 3 (3 points, graded by your instructor) — answer the question
#
# In a few sentences: (a) what is a fully convolutional network, and what does it output on an
# image larger than its training images? (b) How do you convert a dense layer into a convolutional
# layer (the first dense layer after the convolutions, and the later ones), and why does "reshape
# the dense output" not do it? (c) What sets the stride of the score map and the smallest input the
# network accepts, in this chapter's network?

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_answer", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# (a) An FCN contains only convolutional and pooling layers (no dense layer), so it accepts inputs
# of any size above a minimum and outputs a map: for an image larger than the training images, a
# grid of predictions, one per window, computed in one pass with the convolutions shared between
# overlapping windows (here 8x15 class-probability cells for a 56x84 canvas).
# (b) A dense layer reading a flattened h x w x c map equals a Conv2D with one filter per unit, an
# h x w kernel and "valid" padding, whose kernel is the dense weight matrix reshaped to
# (h, w, c, units) (same order as Flatten on NHWC) and the same bias; later dense layers become 1x1
# convolutions. Reshaping the dense layer's output changes nothing about its input: it still reads
# exactly h*w*c numbers, so the network cannot take a larger image. ("same" padding would also be
# wrong: it keeps an h x w grid of zero-padded positions.)
# (c) The stride is the product of the layers' strides (2 x 2 = 4 pixels here); the smallest input
# is the receptive field of one output cell, 26x26 pixels here (pool2's floor drops two rows and
# columns of a 28x28 digit).
# ### END SOLUTION
