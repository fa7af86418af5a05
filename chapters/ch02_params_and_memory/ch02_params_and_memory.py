# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 2 — How many parameters, how much RAM?
#
# **The question.** A CNN is made of three convolutional layers, each with 3×3 kernels, a stride
# of 2 and `"same"` padding. The lowest layer outputs 100 feature maps, the middle one 200 and the
# top one 400. The input images are RGB images of 200×300 pixels.
#
# 1. What is the total number of parameters in this CNN?
# 2. With 32-bit floats, at least how much RAM does it need to make a prediction for one instance?
# 3. And to train it on a mini-batch of 50 images?
#
# You will answer by *computing*, and check every number against Keras: the real output shapes,
# `count_params()`, and the real size of the tensors it produces. Several answers that circulate
# online (6,100 or 8,006,700 parameters; 9.6 MB / 480 MB; 7.72 MB / 386 MB; 30.8 MB / 1.54 GB)
# do not survive that check.
#
# **How this notebook works.** Read and run the lesson cells in order. The exercises at the end are
# autograded: each has visible tests you can run now, and hidden tests the grader runs on other
# inputs. The last exercise is a short written answer graded by your instructor.

# %%
from course.env import setup

info = setup("ch02")

# %% [markdown]
# ## 1. Output shapes
#
# A convolutional layer with kernel size $k$ and stride $s$ maps an input of size $n$ (height or
# width) to
#
# * `"valid"` padding (no padding): $\left\lfloor \frac{n-k}{s} \right\rfloor + 1$
# * `"same"` padding (zeros added so that every stride position is used): $\left\lceil \frac{n}{s}
#   \right\rceil$, whatever the kernel size.
#
# The number of output channels is the number of filters. With stride 2 and `"same"` padding each
# layer halves height and width, *rounding up*: 200×300 → 100×150 → 50×75 → 25×38
# (75 / 2 = 37.5 becomes 38). Keras agrees — the next cell builds the real model and reads its
# shapes.

# %%
from course.ch02 import QUESTION_INPUT, QUESTION_LAYERS, build_conv_stack, keras_layer_facts

facts = keras_layer_facts(QUESTION_INPUT, QUESTION_LAYERS)
for f in facts:
    print(f"{f['name']}: output shape {f['output_shape']}, {f['params']:,} parameters")
assert [f["output_shape"] for f in facts] == [(100, 150, 100), (50, 75, 200), (25, 38, 400)]

# %% [markdown]
# ## 2. Parameters
#
# Each filter of a convolutional layer sees a $k \times k$ window across **all** $C_{in}$ input
# channels, so it has $k \cdot k \cdot C_{in}$ weights plus one bias. A layer with $F$ filters has
# $(k \cdot k \cdot C_{in} + 1) \cdot F$ parameters. The number does *not* depend on the image size
# or on the stride: the same kernels slide over every position.
#
# Forgetting that a filter spans all input channels, or multiplying by the image size as if the
# layer were dense, is how the wrong figures above arise. Let's compute each layer by hand and
# compare with Keras.

# %%
p1 = (3 * 3 * 3 + 1) * 100      # 3 input channels (RGB)
p2 = (3 * 3 * 100 + 1) * 200    # 100 input maps
p3 = (3 * 3 * 200 + 1) * 400    # 200 input maps
model = build_conv_stack(QUESTION_INPUT, QUESTION_LAYERS)

print(f"by hand: {p1:,} + {p2:,} + {p3:,} = {p1 + p2 + p3:,}")
print(f"Keras count_params(): {model.count_params():,}")
assert [p1, p2, p3] == [f["params"] for f in facts]
assert p1 + p2 + p3 == model.count_params()
for wrong in (6_100, 8_006_700):
    print(f"{wrong:>9,} parameters? off by a factor of {model.count_params() / wrong:.2f}")

# %% [markdown]
# ## 3. RAM to predict one instance
#
# With 32-bit floats every number takes 4 bytes. To compute a layer's output you need its input and
# its output in memory at the same time; once the output is done, the input can be freed. So the
# activations need, at least, the largest *pair* (input of a layer + output of that layer) for a
# single image. On top of that, all the parameters must be in memory.
#
# | tensor | shape | bytes (float32) |
# |---|---|---|
# | input image | 200×300×3 | 720,000 |
# | conv1 output | 100×150×100 | 6,000,000 |
# | conv2 output | 50×75×200 | 3,000,000 |
# | conv3 output | 25×38×400 | 1,520,000 |
#
# The largest pair is conv1's output with conv2's output: 6 MB + 3 MB = 9 MB. Adding the
# parameters (903,400 × 4 = 3,613,600 bytes) gives **about 12.6 MB** (12,613,600 bytes, 1 MB =
# 10⁶ bytes). This is a bare minimum: a real framework also holds the Python process, the
# framework itself and scratch buffers for the convolution algorithm.
#
# The cell below does not trust the table: it runs the real model on a real image and measures the
# size of every tensor Keras produces.

# %%
from itertools import pairwise

import keras
import numpy as np

probe_model = keras.Model(model.inputs[0], [layer.output for layer in model.layers])
image = np.random.default_rng(0).random((1, *QUESTION_INPUT), dtype=np.float32)
outputs = [np.asarray(o) for o in probe_model(image)]
sizes = [image.nbytes] + [o.nbytes for o in outputs]   # real tensor sizes, in bytes
param_bytes = sum(np.asarray(v).nbytes for v in model.weights)
peak_pair = max(a + b for a, b in pairwise(sizes))   # two neighbouring tensors

print("tensor sizes (bytes):", [f"{s:,}" for s in sizes])
print(f"parameters: {param_bytes:,} bytes; largest input+output pair: {peak_pair:,} bytes")
print(f"RAM to predict one image, at least: {peak_pair + param_bytes:,} bytes "
      f"= {(peak_pair + param_bytes) / 1e6:.1f} MB")
assert sizes == [720_000, 6_000_000, 3_000_000, 1_520_000]
assert peak_pair + param_bytes == 12_613_600

# %% [markdown]
# ## 4. RAM to train on a mini-batch of 50 images
#
# Training is much hungrier. Backpropagation needs every activation computed during the forward
# pass, so *nothing* can be freed until the backward pass reaches it: all layer outputs of all 50
# images are held at once, plus the input batch, plus the parameters:
#
# * activations: 50 × (6 + 3 + 1.52) MB = 526 MB
# * inputs: 50 × 0.72 MB = 36 MB
# * parameters: 3.6 MB
#
# Total: **about 565.6 MB** (565,613,600 bytes) — and that is an optimistic bare minimum. It
# ignores the gradients (as many numbers as the parameters, and transient activation gradients),
# the optimizer state (Adam keeps two more numbers per parameter) and the framework's own buffers.
# Training needs about 45 times the memory of a single prediction here, which is why the batch size
# is the first knob to turn when a GPU runs out of memory (chapter 3).
#
# Measured again on real tensors, this time for a batch of 50:

# %%
batch = np.random.default_rng(1).random((50, *QUESTION_INPUT), dtype=np.float32)
batch_sizes = [batch.nbytes] + [np.asarray(o).nbytes for o in probe_model(batch)]
train_bytes = sum(batch_sizes) + param_bytes
print("batch tensor sizes (bytes):", [f"{s:,}" for s in batch_sizes])
print(f"RAM to train on 50 images, at least: {train_bytes:,} bytes = {train_bytes / 1e6:.1f} MB")
print(f"training / prediction: {train_bytes / (peak_pair + param_bytes):.1f}x")
assert train_bytes == 565_613_600
for claim in (480e6, 386e6, 1.54e9):
    print(f"the claim {claim / 1e6:,.0f} MB is off by {100 * (claim / train_bytes - 1):+.0f}%")

# %% [markdown]
# ## 5. Explore: the architecture and memory calculator
#
# Change the number of layers, kernel size, stride, padding, filters, input size, batch size and
# number format. The table comes from a real Keras model built for your settings; the plot shows
# how much memory each layer's output takes for the whole batch (blue) and each layer's weights
# (orange). Things to try: set the stride to 1 (activations explode, parameters do not move);
# switch to `float16` (everything halves); double the filters of the first layer.

# %%
from course.ch02 import calculator

calculator()


# %% [markdown]
# ## Exercises
#
# Write general functions; the hidden tests call them on random architectures. A layer is a dict
# with the keyword names of `keras.layers.Conv2D`, e.g.
# `{"filters": 100, "kernel_size": 3, "strides": 2, "padding": "same"}` (square kernels, equal
# strides); an input shape is `(height, width, channels)`. Return plain Python `int`s.

# %% [markdown]
# ### Exercise 1 (2 points) — output size
#
# `conv_output_size(n, kernel_size, strides, padding)` returns the output height (or width) of a
# convolution on an input of size `n`, for `padding` equal to `"same"` or `"valid"`.

# %% nbgrader={"grade": false, "grade_id": "ex1_conv_output_size", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_output_size(n, kernel_size, strides=1, padding="valid"):
    """Output size of a convolution along one spatial dimension."""
    ### BEGIN SOLUTION
    if padding == "same":
        return -(-n // strides)
    if padding == "valid":
        return (n - kernel_size) // strides + 1
    raise ValueError(f"unknown padding {padding!r}")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv_output_size", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert conv_output_size(200, 3, 2, "same") == 100
assert conv_output_size(75, 3, 2, "same") == 38, "same padding rounds up: ceil(75 / 2) = 38"
assert conv_output_size(28, 5, 1, "valid") == 24, "valid: (28 - 5) // 1 + 1 = 24"
assert conv_output_size(32, 3, 2, "valid") == 15, "valid: (32 - 3) // 2 + 1 = 15"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
from course.probe import probe as _probe
_rng = _random.Random(202602)
_cases = []
while len(_cases) < 40:
    _n, _k, _s = _rng.randint(1, 500), _rng.randint(1, 9), _rng.randint(1, 5)
    _p = _rng.choice(["same", "valid"])
    if _p == "same" or _n >= _k:
        _cases.append((_n, _k, _s, _p))
_probe("conv_output_size", conv_output_size, _cases)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 (2 points) — parameters of one layer
#
# `conv_params(kernel_size, in_channels, filters, use_bias=True)` returns the number of trainable
# parameters of a `Conv2D` layer.

# %% nbgrader={"grade": false, "grade_id": "ex2_conv_params", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_params(kernel_size, in_channels, filters, use_bias=True):
    """Parameters of a Conv2D layer with square kernels."""
    ### BEGIN SOLUTION
    return (kernel_size * kernel_size * in_channels + (1 if use_bias else 0)) * filters
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv_params", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert conv_params(3, 3, 100) == 2_800
assert conv_params(3, 100, 200) == 180_200
assert conv_params(5, 1, 6, use_bias=False) == 150
import keras
_layer = keras.layers.Conv2D(7, 4)
_layer.build((None, 10, 10, 5))
assert conv_params(4, 5, 7) == _layer.count_params(), "compare with Keras count_params()"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
from course.probe import probe as _probe
_rng = _random.Random(202603)
_cases = [(_rng.randint(1, 11), _rng.randint(1, 512), _rng.randint(1, 1024), _rng.random() < 0.7)
          for _ in range(40)]
_probe("conv_params", conv_params, _cases)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3 (2 points) — output shapes of a stack
#
# `cnn_output_shapes(input_shape, layers)` returns the list of output shapes `(height, width,
# channels)`, one tuple per layer.

# %% nbgrader={"grade": false, "grade_id": "ex3_cnn_output_shapes", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cnn_output_shapes(input_shape, layers):
    """Output shape (H, W, C) of every layer of a stack of Conv2D layers."""
    ### BEGIN SOLUTION
    h, w, _ = input_shape
    shapes = []
    for layer in layers:
        k, s, p = layer["kernel_size"], layer["strides"], layer["padding"]
        h, w = conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)
        shapes.append((h, w, layer["filters"]))
    return shapes
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cnn_output_shapes", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from course.ch02 import QUESTION_INPUT, QUESTION_LAYERS, keras_layer_facts
assert [tuple(s) for s in cnn_output_shapes(QUESTION_INPUT, QUESTION_LAYERS)] == [
    (100, 150, 100), (50, 75, 200), (25, 38, 400)]
_arch = [{"filters": 8, "kernel_size": 5, "strides": 1, "padding": "valid"},
         {"filters": 16, "kernel_size": 3, "strides": 3, "padding": "same"}]
_keras = [f["output_shape"] for f in keras_layer_facts((33, 47, 1), _arch)]
assert [tuple(s) for s in cnn_output_shapes((33, 47, 1), _arch)] == _keras, f"Keras says {_keras}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _random_architectures(seed, count):
    import random
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        h, w, c = rng.randint(8, 320), rng.randint(8, 320), rng.randint(1, 4)
        shape, layers = [h, w, c], []
        for _ in range(rng.randint(1, 5)):
            k, s = rng.randint(1, 7), rng.randint(1, 3)
            p = rng.choice(["same", "valid"])
            nh = -(-h // s) if p == "same" else (h - k) // s + 1
            nw = -(-w // s) if p == "same" else (w - k) // s + 1
            if nh < 1 or nw < 1:
                break
            layers.append({"filters": rng.randint(1, 512), "kernel_size": k, "strides": s,
                           "padding": p})
            h, w = nh, nw
        if layers:
            cases.append((shape, layers))
    return cases
_probe("cnn_output_shapes", cnn_output_shapes, _random_architectures(202604, 30))
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 (2 points) — parameters of a stack
#
# `cnn_params(input_shape, layers)` returns the total number of parameters (all layers use biases).

# %% nbgrader={"grade": false, "grade_id": "ex4_cnn_params", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cnn_params(input_shape, layers):
    """Total parameters of a stack of Conv2D layers (with biases)."""
    ### BEGIN SOLUTION
    total, channels = 0, input_shape[2]
    for layer in layers:
        total += conv_params(layer["kernel_size"], channels, layer["filters"])
        channels = layer["filters"]
    return total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cnn_params", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from course.ch02 import QUESTION_INPUT, QUESTION_LAYERS, build_conv_stack
assert cnn_params(QUESTION_INPUT, QUESTION_LAYERS) == 903_400
_arch = [{"filters": 6, "kernel_size": 5, "strides": 1, "padding": "valid"},
         {"filters": 16, "kernel_size": 5, "strides": 2, "padding": "same"}]
_expected = build_conv_stack((32, 32, 1), _arch).count_params()
assert cnn_params((32, 32, 1), _arch) == _expected, f"Keras count_params() says {_expected}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _random_architectures(seed, count):
    import random
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        h, w, c = rng.randint(8, 320), rng.randint(8, 320), rng.randint(1, 4)
        shape, layers = [h, w, c], []
        for _ in range(rng.randint(1, 5)):
            k, s = rng.randint(1, 7), rng.randint(1, 3)
            p = rng.choice(["same", "valid"])
            nh = -(-h // s) if p == "same" else (h - k) // s + 1
            nw = -(-w // s) if p == "same" else (w - k) // s + 1
            if nh < 1 or nw < 1:
                break
            layers.append({"filters": rng.randint(1, 512), "kernel_size": k, "strides": s,
                           "padding": p})
            h, w = nh, nw
        if layers:
            cases.append((shape, layers))
    return cases
_probe("cnn_params", cnn_params, _random_architectures(202605, 30))
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5 (2 points) — RAM to predict one instance
#
# `inference_ram_bytes(input_shape, layers, dtype_bytes=4)` returns the lower bound of section 3,
# in bytes: the parameters, plus the largest (input of a layer + output of that layer) pair of
# activations for **one** image. Every number takes `dtype_bytes` bytes.

# %% nbgrader={"grade": false, "grade_id": "ex5_inference_ram", "locked": false, "schema_version": 3, "solution": true, "task": false}
def inference_ram_bytes(input_shape, layers, dtype_bytes=4):
    """Minimum RAM (bytes) to predict one instance."""
    ### BEGIN SOLUTION
    from itertools import pairwise

    sizes = [input_shape[0] * input_shape[1] * input_shape[2]]
    sizes += [h * w * c for h, w, c in cnn_output_shapes(input_shape, layers)]
    peak = max(a + b for a, b in pairwise(sizes))
    return dtype_bytes * (cnn_params(input_shape, layers) + peak)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_inference_ram", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from course.ch02 import QUESTION_INPUT, QUESTION_LAYERS
assert inference_ram_bytes(QUESTION_INPUT, QUESTION_LAYERS) == 12_613_600
assert inference_ram_bytes(QUESTION_INPUT, QUESTION_LAYERS, dtype_bytes=2) == 6_306_800
_one = [{"filters": 4, "kernel_size": 3, "strides": 1, "padding": "same"}]
assert inference_ram_bytes((10, 10, 1), _one) == 4 * (40 + 100 + 400), "one layer: params + input + output"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _random_architectures(seed, count):
    import random
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        h, w, c = rng.randint(8, 320), rng.randint(8, 320), rng.randint(1, 4)
        shape, layers = [h, w, c], []
        for _ in range(rng.randint(1, 5)):
            k, s = rng.randint(1, 7), rng.randint(1, 3)
            p = rng.choice(["same", "valid"])
            nh = -(-h // s) if p == "same" else (h - k) // s + 1
            nw = -(-w // s) if p == "same" else (w - k) // s + 1
            if nh < 1 or nw < 1:
                break
            layers.append({"filters": rng.randint(1, 512), "kernel_size": k, "strides": s,
                           "padding": p})
            h, w = nh, nw
        if layers:
            cases.append((shape, layers))
    return cases
_cases = [(s, l, _b) for (s, l), _b in zip(_random_architectures(202606, 30), [1, 2, 4, 8] * 8)]
_probe("inference_ram_bytes", inference_ram_bytes, _cases)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6 (2 points) — RAM to train on a mini-batch
#
# `training_ram_bytes(input_shape, layers, batch_size, dtype_bytes=4)` returns the lower bound of
# section 4, in bytes: the parameters, plus the input batch, plus every layer's output for every
# image of the batch (gradients and optimizer state ignored).

# %% nbgrader={"grade": false, "grade_id": "ex6_training_ram", "locked": false, "schema_version": 3, "solution": true, "task": false}
def training_ram_bytes(input_shape, layers, batch_size, dtype_bytes=4):
    """Minimum RAM (bytes) to train on one mini-batch."""
    ### BEGIN SOLUTION
    per_image = input_shape[0] * input_shape[1] * input_shape[2]
    per_image += sum(h * w * c for h, w, c in cnn_output_shapes(input_shape, layers))
    return dtype_bytes * (cnn_params(input_shape, layers) + batch_size * per_image)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_training_ram", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from course.ch02 import QUESTION_INPUT, QUESTION_LAYERS
assert training_ram_bytes(QUESTION_INPUT, QUESTION_LAYERS, 50) == 565_613_600
_one = [{"filters": 4, "kernel_size": 3, "strides": 1, "padding": "same"}]
assert training_ram_bytes((10, 10, 1), _one, 2) == 4 * (40 + 2 * (100 + 400))
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _random_architectures(seed, count):
    import random
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        h, w, c = rng.randint(8, 320), rng.randint(8, 320), rng.randint(1, 4)
        shape, layers = [h, w, c], []
        for _ in range(rng.randint(1, 5)):
            k, s = rng.randint(1, 7), rng.randint(1, 3)
            p = rng.choice(["same", "valid"])
            nh = -(-h // s) if p == "same" else (h - k) // s + 1
            nw = -(-w // s) if p == "same" else (w - k) // s + 1
            if nh < 1 or nw < 1:
                break
            layers.append({"filters": rng.randint(1, 512), "kernel_size": k, "strides": s,
                           "padding": p})
            h, w = nh, nw
        if layers:
            cases.append((shape, layers))
    return cases
import random as _random
_r = _random.Random(202607)
_cases = [(s, l, _r.randint(1, 256), _r.choice([2, 4, 8])) for s, l in _random_architectures(202607, 30)]
_probe("training_ram_bytes", training_ram_bytes, _cases)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 7 (3 points) — answer a follow-up question
#
# The question's own three numbers are worked out above, so copying them would teach nothing.
# Answer its follow-up instead, whose numbers appear nowhere in this notebook: the same design for
# images of twice the resolution (400×600 RGB), with 64, 128 and 256 filters, stored and trained in
# **16-bit floats** (`course.ch02.VARIANT_INPUT`, `VARIANT_LAYERS`, `VARIANT_DTYPE`;
# `DTYPE_BYTES` maps a dtype to its size). Use your functions. RAM answers are in bytes and
# accepted within 1 %.

# %% nbgrader={"grade": false, "grade_id": "ex7_answers", "locked": false, "schema_version": 3, "solution": true, "task": false}
from course.ch02 import DTYPE_BYTES, VARIANT_DTYPE, VARIANT_INPUT, VARIANT_LAYERS

### BEGIN SOLUTION
total_params = cnn_params(VARIANT_INPUT, VARIANT_LAYERS)
predict_ram_bytes = inference_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS, DTYPE_BYTES[VARIANT_DTYPE])
train_ram_bytes_50 = training_ram_bytes(VARIANT_INPUT, VARIANT_LAYERS, 50, DTYPE_BYTES[VARIANT_DTYPE])
### END SOLUTION
print(f"{total_params:,} parameters; {predict_ram_bytes / 1e6:.1f} MB to predict; "
      f"{train_ram_bytes_50 / 1e6:.1f} MB to train on 50 images")

# %% nbgrader={"grade": true, "grade_id": "test_total_params", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert isinstance(total_params, int), "total_params should be an int"
### BEGIN HIDDEN TESTS
from course.probe import probe_value as _probe_value
_probe_value("total_params", total_params)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_predict_ram", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert predict_ram_bytes > 1_000_000, "answer in bytes, not megabytes"
### BEGIN HIDDEN TESTS
from course.probe import probe_value as _probe_value
_probe_value("predict_ram_bytes", predict_ram_bytes, rtol=0.01)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_train_ram", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert train_ram_bytes_50 > predict_ram_bytes, "training needs more memory than prediction"
### BEGIN HIDDEN TESTS
from course.probe import probe_value as _probe_value
_probe_value("train_ram_bytes_50", train_ram_bytes_50, rtol=0.01)
### END HIDDEN TESTS

# %% [markdown]
# Now the calculator can show your own totals next to Keras's per-layer truth. Try a few settings
# and check that your functions react as you expect.

# %%
from course.ch02 import calculator

calculator(inference_ram_bytes, training_ram_bytes)

# %% [markdown] nbgrader={"grade": false, "grade_id": "written_prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 8 (3 points, graded by your instructor) — explain
#
# In a few sentences: (a) why training on a batch of 50 needs about 45 times the memory of
# predicting one image, although the network is the same; (b) two things that this lower bound
# ignores and that a real training run must also store. Write your answer in the cell below.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_answer", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# (a) A prediction can free each layer's output as soon as the next layer has been computed, so
# only the largest pair of consecutive activations (9 MB) is alive at once, for one image. Training
# must keep *every* layer's activations for backpropagation, for all 50 images: 50 x 10.52 MB of
# activations plus 36 MB of inputs. The parameters (3.6 MB) are shared by both.
# (b) The gradients of the parameters (another 3.6 MB) and of the activations during the backward
# pass; the optimizer state (Adam: two extra numbers per parameter); the framework's workspace for
# convolution algorithms and the labels, losses and metrics.
# ### END SOLUTION
