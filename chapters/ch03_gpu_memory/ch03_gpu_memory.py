# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 3 — Out of GPU memory: five things to try
#
# **The question.** You are training a CNN and the GPU runs out of memory (TensorFlow says
# `ResourceExhaustedError: OOM when allocating tensor`, PyTorch `CUDA out of memory`). What are
# five things you could try?
#
# The classic answer (Hands-On Machine Learning, chapter 14) lists:
#
# 1. reduce the mini-batch size;
# 2. reduce dimensionality with a larger stride in one or more layers;
# 3. remove one or more layers;
# 4. use 16-bit floats instead of 32-bit floats;
# 5. distribute the CNN across multiple devices.
#
# This chapter turns the list into numbers. You will extend chapter 2's lower bound on training
# memory with what training really stores — gradients and optimizer state — and see, on real
# Keras tensors, how much each remedy saves and what it costs. Two more lessons along the way:
# mixed precision (the way 16-bit floats are actually used) keeps 32-bit weights, so it shrinks
# activations but not parameters; and **gradient checkpointing**, a sixth remedy, trades
# computation for memory.
#
# **How this notebook works.** Run the lesson cells in order; every number comes from a cell.
# The exercises at the end are autograded (visible tests now, hidden tests when graded); the
# last one is a written answer graded by your instructor. On a machine with a GPU, section 9
# also measures the real peak memory of a training step; on a CPU it explains what it would
# measure and skips.

# %%
from course.env import setup

info = setup("ch03")

# %% [markdown]
# ## 1. Where the memory goes when you train
#
# Chapter 2's lower bound for training held the parameters, every layer's output (the
# *activations*, kept for backpropagation) and the input batch. Training stores two more things:
#
# * **gradients**: backpropagation produces one gradient per parameter, with the same shape and
#   dtype as the parameter;
# * **optimizer state**: plain SGD keeps nothing, SGD with momentum keeps one velocity per
#   parameter, RMSprop one running average of squared gradients, Adam two (the first and second
#   moment estimates).
#
# So the lower bound has five parts: parameters + gradients + optimizer state + activations +
# inputs. It still ignores the framework's own buffers (convolution workspaces, the gradients of
# the activations that exist briefly during the backward pass, allocator rounding) — section 9
# measures how much those add on a GPU.
#
# Let's check each part on real tensors. The next cell builds a small version of this chapter's
# network (the architecture of section 2 on 32×32 images), runs a training step's computations on
# a batch of 2 — forward pass, gradients, Adam's state — and measures the byte size of every
# tensor Keras and TensorFlow produce.

# %%
import math

from course.ch03 import (SCENARIO, build_model, fmt_bytes, keras_memory_facts,
                         measure_training_tensors)

SMALL_INPUT = (32, 32, 3)
small = build_model(SMALL_INPUT, SCENARIO["layers"], SCENARIO["dense_units"])
small_facts = keras_memory_facts(small)
for layer in small_facts["layers"]:
    print(f"{layer['name']:8} {layer['kind']:8} output {layer['output_shape']!s:14} "
          f"{layer['params']:>9,} parameters")

real = measure_training_tensors(small, batch_size=2, optimizer="adam")
for part in ("params", "gradients", "optimizer_state", "activations", "inputs"):
    print(f"{part:16} {real[part]:>12,} bytes  {real['dtypes'][part]}")
print(f"Adam's scalars (iteration counter, learning rate): {real['optimizer_scalars']} bytes")

n_params = small.count_params()
per_image = sum(math.prod(f["output_shape"]) for f in small_facts["layers"] if f["kind"] != "Flatten")
assert real["params"] == 4 * n_params, "float32: 4 bytes per parameter"
assert real["gradients"] == real["params"], "one float32 gradient per parameter"
assert real["optimizer_state"] == 2 * real["params"], "Adam: two numbers per parameter"
assert real["optimizer_scalars"] == 8 + 4, "an int64 counter and a float32 learning rate"
assert real["activations"] == 2 * 4 * per_image, "every Conv2D/Dense output, for both images"
assert real["inputs"] == 2 * 4 * math.prod(SMALL_INPUT)

# %% [markdown]
# The gradients take exactly as much memory as the parameters, and Adam twice as much again: with
# Adam, everything that scales with the number of parameters weighs **four times** the parameters
# alone. (Keras also keeps an iteration counter and the learning rate: 12 bytes, which we
# neglect.) The `Flatten` layer is not counted as an activation: its output is the previous
# layer's output reshaped, the same numbers.
#
# How many numbers per parameter does each optimizer keep? Keras's answer:

# %%
from course.ch03 import OPTIMIZERS

state_per_param = {}
for name in OPTIMIZERS:
    state = measure_training_tensors(small, batch_size=2, optimizer=name)["optimizer_state"]
    state_per_param[name] = state / real["params"]
    print(f"{name:9} optimizer state = {state_per_param[name]:g} x the parameters")
assert state_per_param == {"sgd": 0, "momentum": 1, "rmsprop": 1, "adam": 2}

# %% [markdown]
# ## 2. The scenario: 4 GB is not enough
#
# Here is the network this chapter tries to fit: a VGG-style CNN for 224×224 RGB images, seven
# 3×3 convolutional layers (32, 32, 64, 64, 128, 128 and 256 filters with strides 1, 2, 1, 2, 1,
# 2 and 2, `"same"` padding, ReLU activations) and a dense head (`Flatten`, 512 units, 10 classes), trained with Adam in
# float32 on mini-batches of 256 images. The GPU has 4 GB free for tensors (`BUDGET_BYTES`;
# 1 GB = 10⁹ bytes). The next cell asks Keras for the output shapes and parameter counts of the
# real model and adds up the five parts for a batch of 256.

# %%
from course.ch03 import BUDGET_BYTES

scenario = build_model(SCENARIO["input_shape"], SCENARIO["layers"], SCENARIO["dense_units"])
facts = keras_memory_facts(scenario)
print(f"{'layer':8} {'output shape':16} {'parameters':>12} {'activations, 1 image':>21}")
for f in facts["layers"]:
    size = 0 if f["kind"] == "Flatten" else 4 * math.prod(f["output_shape"])
    print(f"{f['name']:8} {f['output_shape']!s:16} {f['params']:>12,} {fmt_bytes(size):>21}")

batch = SCENARIO["batch_size"]
act_per_image = sum(math.prod(f["output_shape"]) for f in facts["layers"] if f["kind"] != "Flatten")
parts = {"params": 4 * facts["params"], "gradients": 4 * facts["params"],
         "optimizer_state": 2 * 4 * facts["params"],
         "activations": batch * 4 * act_per_image,
         "inputs": batch * 4 * math.prod(SCENARIO["input_shape"])}
total = sum(parts.values())
for part, size in parts.items():
    print(f"{part:16} {fmt_bytes(size):>10}  ({100 * size / total:4.1f} %)")
print(f"{'total':16} {fmt_bytes(total):>10}  = {total:,} bytes; budget {fmt_bytes(BUDGET_BYTES)}")

assert facts["params"] == 26_277_930 and round(parts["params"] / 1e6) == 105
assert total == 4_223_117_984 and total > BUDGET_BYTES
assert round(100 * parts["activations"] / total) == 86
assert round(4 * math.prod(facts["layers"][0]["output_shape"]) / 1e6, 1) == 6.4
assert round(100 * (parts["params"] + parts["gradients"] + parts["optimizer_state"]) / total) == 10

# %% [markdown]
# The model has 26,277,930 parameters (105 MB), yet the lower bound is **4.22 GB**: over budget
# before TensorFlow allocates a single workspace. Activations are 86 % of it, and the first layer
# alone — 32 feature maps at full 224×224 resolution — produces 6.4 MB per image. Parameters,
# gradients and Adam's state together are 10 %.
#
# Every remedy below attacks one of these parts. The lesson cells show each one on the small
# model's real tensors; exercise 3 puts numbers on all of them for this scenario.
#
# ## 3. Remedy 1: a smaller mini-batch
#
# Activations and inputs are stored for every image of the batch; parameters, gradients and
# optimizer state are not. So the memory is **affine** in the batch size $b$:
#
# $$\text{total}(b) = \underbrace{\text{params} + \text{gradients} + \text{optimizer state}}_{\text{fixed}}
# + b \times \underbrace{(\text{activations} + \text{input})_{\text{one image}}}_{\text{per image}}$$
#
# which also gives the largest batch that fits a budget $B$ in closed form:
# $b_{max} = \left\lfloor \frac{B - \text{fixed}}{\text{per image}} \right\rfloor$ (exercise 2).
# Measured on real tensors, doubling the batch doubles exactly the per-image parts:

# %%
two = measure_training_tensors(small, batch_size=2)
four = measure_training_tensors(small, batch_size=4)
for part in ("params", "gradients", "optimizer_state", "activations", "inputs"):
    print(f"{part:16} batch 2: {two[part]:>10,}   batch 4: {four[part]:>10,}")
    same = part in ("params", "gradients", "optimizer_state")
    assert four[part] == (two[part] if same else 2 * two[part])

fixed = parts["params"] + parts["gradients"] + parts["optimizer_state"]
per_image_bytes = (parts["activations"] + parts["inputs"]) // batch
b_max_8gb = (8 * 10**9 - fixed) // per_image_bytes
print(f"scenario: fixed {fmt_bytes(fixed)} + {fmt_bytes(per_image_bytes)} per image; "
      f"with 8 GB the largest batch would be {b_max_8gb}")
assert fixed + per_image_bytes * batch == total and b_max_8gb == 510

# %% [markdown]
# Costs: smaller batches give noisier gradient estimates and usually need a smaller learning
# rate; batch normalization gets worse statistics from tiny batches; and the GPU is less busy,
# so an epoch takes longer. *Gradient accumulation* (adding the gradients of several small
# batches before one optimizer step) keeps the effective batch size — it is what
# `gradient_accumulation_steps` does in Keras optimizers.
#
# ## 4. Remedy 2: a larger stride
#
# A stride of 2 instead of 1 divides the height and the width of a layer's output by 2, so its
# activations by 4 — and every later layer's too, because each works on a smaller input. With a
# dense head on top, the `Flatten` output shrinks 4 times as well, and so do the first dense
# layer's weights. Real shapes, small model, first layer with stride 2:

# %%
import copy

strided_layers = copy.deepcopy(SCENARIO["layers"])
strided_layers[0]["strides"] = 2
strided = build_model(SMALL_INPUT, strided_layers, SCENARIO["dense_units"])
s_facts = keras_memory_facts(strided)
for a, b in zip(small_facts["layers"], s_facts["layers"]):
    print(f"{a['name']:8} {a['output_shape']!s:14} -> {b['output_shape']!s:14} "
          f"parameters {a['params']:>9,} -> {b['params']:>9,}")
conv = [(math.prod(a["output_shape"]), math.prod(b["output_shape"]))
        for a, b in zip(small_facts["layers"], s_facts["layers"]) if a["kind"] == "Conv2D"]
assert all(before == 4 * after for before, after in conv), "every conv output is 4x smaller"
s_real = measure_training_tensors(strided, batch_size=2)
print(f"activations {real['activations']:,} -> {s_real['activations']:,} bytes; "
      f"parameters {real['params']:,} -> {s_real['params']:,} bytes")
assert s_real["params"] < real["params"] and s_real["activations"] < real["activations"] / 3

# %% [markdown]
# Cost: the network sees a coarser image from the first layer on, which can cost accuracy on
# small details — it is a change of architecture, to be validated like any other.
#
# ## 5. Remedy 3: fewer layers
#
# Removing a layer removes its activations and its weights — but the layers after it now see a
# different input. Dropping a stride-1 layer is a pure saving. Dropping a stride-2 layer leaves
# every later layer at twice the resolution, and a dense head gets a 4 times bigger `Flatten`:
# memory can go **up**. Both, on real tensors:

# %%
variants = {"all layers": small,
            "without conv1 (stride 1)": build_model(SMALL_INPUT, SCENARIO["layers"][1:],
                                                    SCENARIO["dense_units"]),
            "without conv2 (stride 2)": build_model(SMALL_INPUT, SCENARIO["layers"][:1] + SCENARIO["layers"][2:],
                                                    SCENARIO["dense_units"])}
removed = {}
for name, model in variants.items():
    removed[name] = measure_training_tensors(model, batch_size=2)
    print(f"{name:26} parameters {removed[name]['params']:>10,} bytes, "
          f"activations {removed[name]['activations']:>10,} bytes")
assert removed["without conv1 (stride 1)"]["activations"] < real["activations"]
assert removed["without conv2 (stride 2)"]["activations"] > real["activations"]
assert removed["without conv2 (stride 2)"]["params"] > real["params"]

# %% [markdown]
# Cost: fewer layers means less capacity and a smaller receptive field; pick layers whose removal
# the validation accuracy tolerates.
#
# ## 6. Remedy 4: 16-bit floats — and what mixed precision really keeps
#
# With 16-bit floats every number takes 2 bytes instead of 4. Pure float16 training (Keras dtype
# policy `"float16"`) halves everything, but it is fragile: float16 cannot represent numbers below
# about 6×10⁻⁸ or above 65,504, so small gradients underflow to zero and optimizer updates get
# lost. What frameworks actually do is **mixed precision** (`"mixed_float16"`, or
# `"mixed_bfloat16"` on TPUs and recent GPUs): layers *compute* in 16 bits, but the variables —
# the "master weights" — stay in float32, and so do the gradients applied to them and the
# optimizer state. The real dtypes, measured on the small model with 16×16 images (16-bit
# arithmetic is slow on CPUs, which have no hardware for it):

# %%
policies = {}
for policy in ("float32", "float16", "mixed_float16"):
    model = build_model((16, 16, 3), SCENARIO["layers"], SCENARIO["dense_units"], dtype=policy)
    policies[policy] = measure_training_tensors(model, batch_size=2)
bf16 = keras_memory_facts(build_model((16, 16, 3), SCENARIO["layers"][:1], dtype="mixed_bfloat16"))
print(f"{'':16}" + "".join(f"{p:>26}" for p in policies))
for part in ("params", "gradients", "optimizer_state", "activations", "inputs"):
    print(f"{part:16}" + "".join(f"{m[part]:>14,} {'/'.join(m['dtypes'][part]):>11}"
                                 for m in policies.values()))
print(f"mixed_bfloat16: variables {bf16['variable_dtype']}, computations {bf16['compute_dtype']}")

f32, f16, mixed = policies["float32"], policies["float16"], policies["mixed_float16"]
for part in ("params", "gradients", "optimizer_state"):
    assert mixed[part] == f32[part] and f16[part] * 2 == f32[part]
for part in ("activations", "inputs"):
    assert mixed[part] * 2 == f32[part] and f16[part] * 2 == f32[part]
assert (bf16["variable_dtype"], bf16["compute_dtype"]) == ("float32", "bfloat16")

import ml_dtypes
import numpy as np
print(f"float16: largest {np.finfo(np.float16).max:,.0f}, 1e-8 becomes {np.float16(1e-8)}; "
      f"bfloat16: largest {float(ml_dtypes.finfo(ml_dtypes.bfloat16).max):.3g} "
      f"(float32: {float(np.finfo(np.float32).max):.3g})")
assert np.finfo(np.float16).max == 65504 and np.float16(1e-8) == 0 < np.float16(6e-8)

# %% [markdown]
# So mixed precision halves the activations and inputs, **not** the parameters, gradients or
# optimizer state. On this scenario, where activations dominate, that is almost a halving; on a
# model dominated by parameters (a big dense head, a language model), mixed precision saves little
# memory — its main benefit there is speed on GPUs with tensor cores. Keras also casts the float32
# weights to 16 bits each time a layer runs (short-lived copies this lower bound ignores), and
# with `"mixed_float16"` it scales the loss so that small gradients survive in float16: `compile`
# wraps the optimizer in a `LossScaleOptimizer` by itself. (`"mixed_bfloat16"` needs no loss
# scaling: bfloat16 has float32's range.)

# %%
import keras

mixed_model = build_model(SMALL_INPUT, SCENARIO["layers"], SCENARIO["dense_units"], dtype="mixed_float16")
mixed_model.compile(optimizer="adam", loss="mse")
print(type(mixed_model.optimizer).__name__, "wrapping", type(mixed_model.optimizer.inner_optimizer).__name__)
assert isinstance(mixed_model.optimizer, keras.optimizers.LossScaleOptimizer)

# %% [markdown]
# ## 7. Remedy 5: more than one device
#
# * **Data parallelism** (`tf.distribute.MirroredStrategy` on TensorFlow,
#   `keras.distribution.DataParallel` on JAX):
#   every device holds a full replica — parameters, gradients, optimizer state — and processes
#   $b/d$ of the batch's $d$ shares; the gradients are averaged across devices each step. Per
#   device, the batch-dependent part shrinks $d$ times and the fixed part not at all: the memory of
#   one device is that of a $b/d$ batch, but the model still learns from batches of $b$.
# * **Model parallelism** (`keras.distribution.ModelParallel` with a `LayoutMap` on JAX, or
#   pipeline parallelism: consecutive groups of layers on different devices): the variables, or whole groups of layers, are split across devices, so the fixed
#   part is divided too; the price is communication between devices at every layer boundary that
#   is cut.
#
# For the scenario with 4 GPUs of 4 GB each, data parallel, each GPU would hold:

# %%
print("devices Keras sees here:", keras.distribution.list_devices())
per_gpu = fixed + (batch // 4) * per_image_bytes
print(f"4 GPUs, {batch // 4} images each: {fmt_bytes(per_gpu)} per GPU "
      f"({'fits' if per_gpu <= BUDGET_BYTES else 'does not fit'} in {fmt_bytes(BUDGET_BYTES)})")
assert per_gpu == 1_371_114_656

# %% [markdown]
# ## 8. One more: gradient checkpointing
#
# Backpropagation needs every layer's activations, but they need not all be *stored*: they can be
# recomputed. **Gradient checkpointing** (Chen et al., 2016, *Training Deep Nets with Sublinear
# Memory Cost*) cuts the $n$ layers into segments of $k$ layers, keeps only one activation per
# segment (the *checkpoint*) during the forward pass, and during the backward pass recomputes
# one segment at a time from its checkpoint. At any moment memory holds the $\approx n/k$
# checkpoints plus the $\approx k$ activations of one segment. That is smallest near
# $k = \sqrt{n}$: memory for activations grows like $2\sqrt{n}$ instead of $n$ — for the price of
# one extra forward pass (about a third more compute per step, since the backward pass costs
# about twice the forward pass).
#
# For a chain of $n$ equally large activations, with $k = \lceil \sqrt{n} \rceil$, the
# checkpoints are $\lfloor n/k \rfloor$ activations and one segment holds at most $k-1$ others:

# %%
print(f"{'n layers':>9} {'stored without':>15} {'with checkpointing':>19}")
for n in (4, 9, 16, 25, 100, 400, 1000):
    k = math.ceil(math.sqrt(n))
    stored = n // k + (k - 1)
    print(f"{n:>9} {n:>15} {stored:>19}")
    assert stored <= 2 * math.ceil(math.sqrt(n))

# %% [markdown]
# Keras exposes recomputation as `keras.remat(function)` (and `keras.RematScope` to apply it to
# the layers created inside a `with` block): a remat'ed function keeps only its input, and its
# forward pass runs again during backpropagation. The next cell computes the small model's
# gradients twice — normally, and with its layers grouped in segments of 3, each wrapped in
# `keras.remat` — and counts how often each layer runs forward:

# %%
from course.ch03 import checkpointed_gradients

demo = checkpointed_gradients(small, batch_size=2, segment=3)
print("forward passes per layer, plain:", demo["calls_plain"])
print("forward passes per layer, remat:", demo["calls_remat"])
print(f"largest difference between the two gradients: {demo['max_abs_diff']:.3g}")
assert demo["calls_plain"] == [1] * len(small.layers) and demo["calls_remat"] == [2] * len(small.layers)
assert demo["max_abs_diff"] <= 1e-6

# %% [markdown]
# Same gradients, every layer computed twice. Checkpointing saves the most on deep networks of
# similar layers (transformers, ResNets with hundreds of layers). On a shallow CNN whose first
# layer dominates, like the scenario, it saves less: one segment still holds that big first
# activation. Exercise 3 measures how much less.
#
# ## 9. Measured: peak GPU memory vs the lower bound
#
# On a GPU the framework can report the peak memory of a training step:
# `tf.config.experimental.get_memory_info('GPU:0')['peak']` after
# `tf.config.experimental.reset_memory_stats('GPU:0')` on TensorFlow,
# `torch.cuda.max_memory_allocated()` after `torch.cuda.reset_peak_memory_stats()` on PyTorch.
# `course.ch03.measure_peak_training_memory(model, (x, y))` runs one warm-up step and one
# measured step and returns the peak in bytes (or `None` without a GPU). The cell below trains
# the scenario model on a batch of 32 in float32 and in mixed precision, and divides the measured
# peak by the lower bound. Expect ratios above 1: cuDNN workspaces, the gradients of the
# activations during the backward pass, the 16-bit copies of the weights and the allocator's
# rounding are not in the bound (and a compiler such as XLA may fuse or recompute tensors on its
# own). On a CPU there is no such counter, and the cell says that it skipped.

# %%
import numpy as np

from course.ch03 import measure_peak_training_memory

if not info["gpu"]:
    print("No GPU here: skipped. On a GPU this cell trains the scenario model on 32 images, "
          "reads the peak memory of one training step and prints peak / lower bound.")
else:
    gpu_batch = 32
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=(gpu_batch,))
    for policy, (var_bytes, act_bytes) in {"float32": (4, 4), "mixed_float16": (4, 2)}.items():
        model = build_model(SCENARIO["input_shape"], SCENARIO["layers"], SCENARIO["dense_units"],
                            dtype=policy)
        model.compile(optimizer="adam",
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        images = rng.random((gpu_batch, *SCENARIO["input_shape"]), dtype=np.float32)
        images = images.astype(model.inputs[0].dtype)
        bound = (4 * var_bytes * facts["params"]
                 + gpu_batch * act_bytes * (act_per_image + math.prod(SCENARIO["input_shape"])))
        peak = measure_peak_training_memory(model, (images, labels))
        if peak is None:
            print(f"{policy}: the {info['backend']} backend has no peak-memory counter; skipped.")
            continue
        print(f"{policy:14} measured peak {fmt_bytes(peak):>10}, lower bound {fmt_bytes(bound):>10}, "
              f"ratio {peak / bound:.2f}")
        del model

# %% [markdown]
# ## Exercises
#
# The architectures are those of chapter 2, plus an optional dense head:
#
# * `input_shape`: `(height, width, channels)`;
# * `layers`: a list of `Conv2D` specs, dicts such as
#   `{"filters": 64, "kernel_size": 3, "strides": 2, "padding": "same"}` (square kernels, equal
#   strides, `"same"` or `"valid"` padding, every layer with biases; other `Conv2D` keywords such as
#   `"activation"` may appear and change nothing here);
# * `dense_units`: a list of `Dense` layer sizes, e.g. `[512, 10]`: a `Flatten` then one `Dense`
#   layer (with biases) per entry; empty for none.
#
# Sizes per number, by Keras dtype policy:
#
# | `dtype` | parameters, gradients, optimizer state | activations and inputs |
# |---|---|---|
# | `"float64"` | 8 bytes | 8 bytes |
# | `"float32"` | 4 bytes | 4 bytes |
# | `"float16"`, `"bfloat16"` | 2 bytes | 2 bytes |
# | `"mixed_float16"`, `"mixed_bfloat16"` | 4 bytes | 2 bytes |
#
# Optimizer state per parameter: `"sgd"` 0, `"momentum"` 1, `"rmsprop"` 1, `"adam"` 2 (Keras's
# scalar variables, such as the iteration counter, are not counted).

# %% [markdown]
# ### Exercise 1 (8 points) — the training-memory estimator
#
# Write `training_memory(input_shape, layers, batch_size, dense_units=(), dtype="float32",
# optimizer="adam", checkpointing=False)`. It returns a dict of plain `int`s, in bytes, with the
# keys:
#
# * `"params"`: the number of parameters times the variable size;
# * `"gradients"`: one gradient per parameter, same size;
# * `"optimizer_state"`: the optimizer's numbers per parameter times the number of parameters
#   times the variable size;
# * `"activations"`: for every image of the batch, the outputs of every `Conv2D` and `Dense` layer
#   (not `Flatten`), at the activation size — see below for checkpointing;
# * `"inputs"`: the input batch, `batch_size × height × width × channels` at the activation size;
# * `"total"`: the sum of the five.
#
# **Checkpointing.** With `checkpointing=True`, number the $n$ `Conv2D` and `Dense` layers
# $1 \dots n$ in order and let $k = \lceil \sqrt{n} \rceil$. The outputs of layers $k, 2k, 3k,
# \dots$ are kept (the checkpoints). The layers form segments $1 \dots k$, $k+1 \dots 2k$, …
# (the last one may be shorter); during backpropagation one segment at a time is recomputed. The
# activations per image are then: the sum of the checkpoint outputs **plus** the largest, over the
# segments, of the sum of the segment's outputs that are not checkpoints. Example: 4 layers with
# outputs $a_1, a_2, a_3, a_4$ numbers per image: $k = 2$, activations $= a_2 + a_4 +
# \max(a_1, a_3)$ numbers per image. With $n = 1$ nothing changes.

# %% nbgrader={"grade": false, "grade_id": "ex1_training_memory", "locked": false, "schema_version": 3, "solution": true, "task": false}
import math

def training_memory(input_shape, layers, batch_size, dense_units=(), dtype="float32",
                    optimizer="adam", checkpointing=False):
    """Lower bound (bytes) of the memory to train on one mini-batch, by component."""
    ### BEGIN SOLUTION
    sizes = {"float64": (8, 8), "float32": (4, 4), "float16": (2, 2), "bfloat16": (2, 2),
             "mixed_float16": (4, 2), "mixed_bfloat16": (4, 2)}
    slots = {"sgd": 0, "momentum": 1, "rmsprop": 1, "adam": 2}
    var_bytes, act_bytes = sizes[dtype]
    h, w, c = input_shape
    n_params, outputs = 0, []
    for layer in layers:
        k, s, p = layer["kernel_size"], layer["strides"], layer["padding"]
        n_params += (k * k * c + 1) * layer["filters"]
        if p == "same":
            h, w = -(-h // s), -(-w // s)
        else:
            h, w = (h - k) // s + 1, (w - k) // s + 1
        c = layer["filters"]
        outputs.append(h * w * c)
    fan_in = h * w * c
    for units in dense_units:
        n_params += (fan_in + 1) * units
        outputs.append(units)
        fan_in = units
    if checkpointing:
        k = math.ceil(math.sqrt(len(outputs)))
        kept = sum(a for i, a in enumerate(outputs, 1) if i % k == 0)
        segments = [sum(a for i, a in enumerate(outputs[j:j + k], j + 1) if i % k != 0)
                    for j in range(0, len(outputs), k)]
        per_image = kept + max(segments)
    else:
        per_image = sum(outputs)
    param_bytes = n_params * var_bytes
    memory = {"params": param_bytes, "gradients": param_bytes,
              "optimizer_state": slots[optimizer] * param_bytes,
              "activations": batch_size * per_image * act_bytes,
              "inputs": batch_size * input_shape[0] * input_shape[1] * input_shape[2] * act_bytes}
    memory["total"] = sum(memory.values())
    return memory
    ### END SOLUTION


# %% [markdown]
# **1a (2 points).** float32, Adam, convolutional layers only: checked against a hand count,
# Keras `count_params()`, real output shapes and the real tensors of a training step.

# %% nbgrader={"grade": true, "grade_id": "test_training_memory", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import math
from course.ch03 import build_model, keras_memory_facts, measure_training_tensors
_one = [{"filters": 4, "kernel_size": 3, "strides": 1, "padding": "same"}]
_got = training_memory((10, 10, 1), _one, 2)
assert set(_got) == {"params", "gradients", "optimizer_state", "activations", "inputs", "total"}, \
    f"keys: {sorted(_got)}"
assert _got["params"] == 4 * 40, "(3*3*1 + 1) * 4 = 40 parameters, 4 bytes each"
assert _got["gradients"] == 4 * 40 and _got["optimizer_state"] == 2 * 4 * 40, "Adam: 2 per parameter"
assert _got["activations"] == 2 * 4 * 400, "2 images x 10*10*4 outputs x 4 bytes"
assert _got["inputs"] == 2 * 4 * 100 and _got["total"] == sum(v for k, v in _got.items() if k != "total")
_arch = [{"filters": 8, "kernel_size": 5, "strides": 1, "padding": "valid"},
         {"filters": 16, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
         {"filters": 12, "kernel_size": 3, "strides": 3, "padding": "valid"}]
_model = build_model((21, 26, 3), _arch)
_facts = keras_memory_facts(_model)
_got = training_memory((21, 26, 3), _arch, 3)
assert _got["params"] == 4 * _model.count_params(), f"Keras count_params(): {_model.count_params()}"
_outs = sum(math.prod(f["output_shape"]) for f in _facts["layers"])
assert _got["activations"] == 3 * 4 * _outs, f"Keras output shapes: {[f['output_shape'] for f in _facts['layers']]}"
_real = measure_training_tensors(_model, batch_size=3)
for _part in ("params", "gradients", "optimizer_state", "activations", "inputs"):
    assert _got[_part] == _real[_part], f"{_part}: {_got[_part]:,} bytes, real tensors: {_real[_part]:,}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _random_specs(seed, count, dense=False, min_layers=1, dtypes=("float32",),
                  optimizers=("adam",), checkpointing=False):
    import random
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        h, w, c = rng.randint(8, 256), rng.randint(8, 256), rng.randint(1, 4)
        shape, layers = [h, w, c], []
        for _ in range(rng.randint(min_layers, max(min_layers, 6))):
            k, s = rng.randint(1, 7), rng.randint(1, 3)
            p = rng.choice(["same", "valid"])
            nh = -(-h // s) if p == "same" else (h - k) // s + 1
            nw = -(-w // s) if p == "same" else (w - k) // s + 1
            if nh < 1 or nw < 1:
                break
            spec = {"filters": rng.randint(1, 256), "kernel_size": k, "strides": s, "padding": p}
            if rng.random() < 0.3:
                spec["activation"] = "relu"
            layers.append(spec)
            h, w = nh, nw
        if len(layers) < min_layers:
            continue
        case = {"input_shape": shape, "layers": layers, "batch_size": rng.randint(2, 512),
                "dtype": rng.choice(dtypes), "optimizer": rng.choice(optimizers)}
        if dense:
            case["dense_units"] = [rng.randint(1, 1024) for _ in range(rng.randint(1, 3))]
        if checkpointing:
            case["checkpointing"] = True
        cases.append(case)
    return cases
_probe("training_memory", training_memory, _random_specs(303001, 30))
### END HIDDEN TESTS

# %% [markdown]
# **1b (1 point).** With a dense head (`Flatten` + `Dense` layers).

# %% nbgrader={"grade": true, "grade_id": "test_memory_dense_head", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from course.ch03 import build_model, measure_training_tensors
_arch = [{"filters": 6, "kernel_size": 3, "strides": 2, "padding": "same"},
         {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "valid"}]
_got = training_memory((17, 20, 2), _arch, 4, dense_units=[7, 3])
_model = build_model((17, 20, 2), _arch, [7, 3])
assert _got["params"] == 4 * _model.count_params(), f"Keras count_params(): {_model.count_params()}"
_real = measure_training_tensors(_model, batch_size=4)
for _part in ("params", "gradients", "optimizer_state", "activations", "inputs"):
    assert _got[_part] == _real[_part], f"{_part}: {_got[_part]:,} bytes, real tensors: {_real[_part]:,}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _random_specs(seed, count, dense=False, min_layers=1, dtypes=("float32",),
                  optimizers=("adam",), checkpointing=False):
    import random
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        h, w, c = rng.randint(8, 256), rng.randint(8, 256), rng.randint(1, 4)
        shape, layers = [h, w, c], []
        for _ in range(rng.randint(min_layers, max(min_layers, 6))):
            k, s = rng.randint(1, 7), rng.randint(1, 3)
            p = rng.choice(["same", "valid"])
            nh = -(-h // s) if p == "same" else (h - k) // s + 1
            nw = -(-w // s) if p == "same" else (w - k) // s + 1
            if nh < 1 or nw < 1:
                break
            spec = {"filters": rng.randint(1, 256), "kernel_size": k, "strides": s, "padding": p}
            if rng.random() < 0.3:
                spec["activation"] = "relu"
            layers.append(spec)
            h, w = nh, nw
        if len(layers) < min_layers:
            continue
        case = {"input_shape": shape, "layers": layers, "batch_size": rng.randint(2, 512),
                "dtype": rng.choice(dtypes), "optimizer": rng.choice(optimizers)}
        if dense:
            case["dense_units"] = [rng.randint(1, 1024) for _ in range(rng.randint(1, 3))]
        if checkpointing:
            case["checkpointing"] = True
        cases.append(case)
    return cases
_probe("training_memory", training_memory, _random_specs(303002, 20, dense=True))
### END HIDDEN TESTS

# %% [markdown]
# **1c (2 points).** Mixed precision: `"mixed_float16"` and `"mixed_bfloat16"`.

# %% nbgrader={"grade": true, "grade_id": "test_memory_mixed_precision", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from course.ch03 import build_model, measure_training_tensors
_arch = [{"filters": 6, "kernel_size": 3, "strides": 1, "padding": "same"},
         {"filters": 10, "kernel_size": 3, "strides": 2, "padding": "same"}]
_model = build_model((12, 14, 3), _arch, dtype="mixed_float16")
_real = measure_training_tensors(_model, batch_size=2)
_got = training_memory((12, 14, 3), _arch, 2, dtype="mixed_float16")
for _part in ("params", "gradients", "optimizer_state", "activations", "inputs"):
    assert _got[_part] == _real[_part], f"{_part}: {_got[_part]:,} bytes, real tensors: {_real[_part]:,}"
_f32 = training_memory((12, 14, 3), _arch, 2)
assert _got["params"] == _f32["params"], "mixed precision keeps float32 variables"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _random_specs(seed, count, dense=False, min_layers=1, dtypes=("float32",),
                  optimizers=("adam",), checkpointing=False):
    import random
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        h, w, c = rng.randint(8, 256), rng.randint(8, 256), rng.randint(1, 4)
        shape, layers = [h, w, c], []
        for _ in range(rng.randint(min_layers, max(min_layers, 6))):
            k, s = rng.randint(1, 7), rng.randint(1, 3)
            p = rng.choice(["same", "valid"])
            nh = -(-h // s) if p == "same" else (h - k) // s + 1
            nw = -(-w // s) if p == "same" else (w - k) // s + 1
            if nh < 1 or nw < 1:
                break
            spec = {"filters": rng.randint(1, 256), "kernel_size": k, "strides": s, "padding": p}
            if rng.random() < 0.3:
                spec["activation"] = "relu"
            layers.append(spec)
            h, w = nh, nw
        if len(layers) < min_layers:
            continue
        case = {"input_shape": shape, "layers": layers, "batch_size": rng.randint(2, 512),
                "dtype": rng.choice(dtypes), "optimizer": rng.choice(optimizers)}
        if dense:
            case["dense_units"] = [rng.randint(1, 1024) for _ in range(rng.randint(1, 3))]
        if checkpointing:
            case["checkpointing"] = True
        cases.append(case)
    return cases
_probe("training_memory", training_memory,
       _random_specs(303003, 20, dtypes=("mixed_float16", "mixed_bfloat16")))
### END HIDDEN TESTS

# %% [markdown]
# **1d (1 point).** Other dtypes (`"float16"`, `"bfloat16"`, `"float64"`) and optimizers
# (`"sgd"`, `"momentum"`, `"rmsprop"`).

# %% nbgrader={"grade": true, "grade_id": "test_memory_dtypes_optimizers", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from course.ch03 import build_model, measure_training_tensors
_arch = [{"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}]
_model = build_model((9, 9, 2), _arch, dtype="float16")
for _opt in ("sgd", "momentum", "rmsprop"):
    _real = measure_training_tensors(_model, batch_size=2, optimizer=_opt)
    _got = training_memory((9, 9, 2), _arch, 2, dtype="float16", optimizer=_opt)
    for _part in ("params", "gradients", "optimizer_state", "activations", "inputs"):
        assert _got[_part] == _real[_part], \
            f"float16 + {_opt}, {_part}: {_got[_part]:,} bytes, real tensors: {_real[_part]:,}"
_got = training_memory((9, 9, 2), _arch, 2, dtype="float64", optimizer="sgd")
assert _got["params"] == 8 * 76 and _got["optimizer_state"] == 0, "float64: 8 bytes; sgd keeps nothing"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _random_specs(seed, count, dense=False, min_layers=1, dtypes=("float32",),
                  optimizers=("adam",), checkpointing=False):
    import random
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        h, w, c = rng.randint(8, 256), rng.randint(8, 256), rng.randint(1, 4)
        shape, layers = [h, w, c], []
        for _ in range(rng.randint(min_layers, max(min_layers, 6))):
            k, s = rng.randint(1, 7), rng.randint(1, 3)
            p = rng.choice(["same", "valid"])
            nh = -(-h // s) if p == "same" else (h - k) // s + 1
            nw = -(-w // s) if p == "same" else (w - k) // s + 1
            if nh < 1 or nw < 1:
                break
            spec = {"filters": rng.randint(1, 256), "kernel_size": k, "strides": s, "padding": p}
            if rng.random() < 0.3:
                spec["activation"] = "relu"
            layers.append(spec)
            h, w = nh, nw
        if len(layers) < min_layers:
            continue
        case = {"input_shape": shape, "layers": layers, "batch_size": rng.randint(2, 512),
                "dtype": rng.choice(dtypes), "optimizer": rng.choice(optimizers)}
        if dense:
            case["dense_units"] = [rng.randint(1, 1024) for _ in range(rng.randint(1, 3))]
        if checkpointing:
            case["checkpointing"] = True
        cases.append(case)
    return cases
_probe("training_memory", training_memory,
       _random_specs(303004, 20, dtypes=("float16", "bfloat16", "float64"),
                     optimizers=("sgd", "momentum", "rmsprop")))
### END HIDDEN TESTS

# %% [markdown]
# **1e (2 points).** Gradient checkpointing.

# %% nbgrader={"grade": true, "grade_id": "test_memory_checkpointing", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_same4 = [{"filters": 2, "kernel_size": 3, "strides": 1, "padding": "same"}] * 4
_got = training_memory((10, 10, 1), _same4, 3, checkpointing=True)
_plain = training_memory((10, 10, 1), _same4, 3)
assert _plain["activations"] == 3 * 4 * 4 * 200, "4 layers of 10*10*2 outputs"
assert _got["activations"] == 3 * 4 * (200 + 200 + 200), "k = 2: keep layers 2 and 4, recompute one of 1 or 3"
assert _got["params"] == _plain["params"] and _got["inputs"] == _plain["inputs"]
_one = [{"filters": 5, "kernel_size": 1, "strides": 1, "padding": "valid"}]
assert training_memory((6, 6, 1), _one, 2, checkpointing=True) == training_memory((6, 6, 1), _one, 2), \
    "one layer: nothing to recompute"
_three = [{"filters": 8, "kernel_size": 3, "strides": 1, "padding": "same"},
          {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
          {"filters": 4, "kernel_size": 3, "strides": 1, "padding": "same"}]
# outputs 8*8*8 = 512, 4*4*4 = 64, 64; k = 2: keep 64 (layer 2), plus max(512, 64)
assert training_memory((8, 8, 1), _three, 1, checkpointing=True)["activations"] == 4 * (64 + 512)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _random_specs(seed, count, dense=False, min_layers=1, dtypes=("float32",),
                  optimizers=("adam",), checkpointing=False):
    import random
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        h, w, c = rng.randint(8, 256), rng.randint(8, 256), rng.randint(1, 4)
        shape, layers = [h, w, c], []
        for _ in range(rng.randint(min_layers, max(min_layers, 6))):
            k, s = rng.randint(1, 7), rng.randint(1, 3)
            p = rng.choice(["same", "valid"])
            nh = -(-h // s) if p == "same" else (h - k) // s + 1
            nw = -(-w // s) if p == "same" else (w - k) // s + 1
            if nh < 1 or nw < 1:
                break
            spec = {"filters": rng.randint(1, 256), "kernel_size": k, "strides": s, "padding": p}
            if rng.random() < 0.3:
                spec["activation"] = "relu"
            layers.append(spec)
            h, w = nh, nw
        if len(layers) < min_layers:
            continue
        case = {"input_shape": shape, "layers": layers, "batch_size": rng.randint(2, 512),
                "dtype": rng.choice(dtypes), "optimizer": rng.choice(optimizers)}
        if dense:
            case["dense_units"] = [rng.randint(1, 1024) for _ in range(rng.randint(1, 3))]
        if checkpointing:
            case["checkpointing"] = True
        cases.append(case)
    return cases
_probe("training_memory", training_memory, _random_specs(303005, 25, min_layers=3, checkpointing=True))
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 (2 points) — the largest batch that fits
#
# Write `largest_batch(budget_bytes, estimator, **spec)`: the largest batch size $b \ge 0$ such
# that `estimator(batch_size=b, **spec)["total"] <= budget_bytes`, as an `int`; `0` if even one
# image does not fit. `estimator` is any function like your `training_memory` whose total is
# affine in the batch size (section 3), so you can find the answer in closed form from two calls
# — or search. Example: `largest_batch(4e9, training_memory, input_shape=(224, 224, 3),
# layers=..., dtype="mixed_float16")`.

# %% nbgrader={"grade": false, "grade_id": "ex2_largest_batch", "locked": false, "schema_version": 3, "solution": true, "task": false}
def largest_batch(budget_bytes, estimator, **spec):
    """Largest batch size whose estimated total fits in budget_bytes (0 if none)."""
    ### BEGIN SOLUTION
    one = estimator(batch_size=1, **spec)["total"]
    per_image = estimator(batch_size=2, **spec)["total"] - one
    fixed = one - per_image
    if one > budget_bytes:
        return 0
    return int((budget_bytes - fixed) // per_image)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_largest_batch", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def _affine(batch_size, fixed, per_image):
    return {"total": fixed + batch_size * per_image}
# section 3's scenario: 420,446,880 fixed bytes + 14,854,184 bytes per image
_b = largest_batch(8 * 10**9, _affine, fixed=420_446_880, per_image=14_854_184)
assert isinstance(_b, int), "return an int"
assert _b == 510, f"section 3 found 510 images for 8 GB, got {_b}"
assert largest_batch(10**6, _affine, fixed=420_446_880, per_image=14_854_184) == 0, \
    "the fixed part alone exceeds 1 MB: not even one image fits"
assert largest_batch(1000, _affine, fixed=100, per_image=300) == 3, "100 + 3 * 300 = 1000 fits exactly"
assert largest_batch(999, _affine, fixed=100, per_image=300) == 2
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
from course.probe import probe as _probe
def _affine(batch_size, fixed, per_image):
    return {"total": fixed + batch_size * per_image}
_rng = _random.Random(303006)
_cases = []
for _i in range(30):
    _fixed, _per = _rng.randint(0, 10**10), _rng.randint(1, 10**8)
    if _i % 6 == 0:  # not even one image fits
        _budget = _rng.randint(0, _fixed + _per - 1)
    else:
        _b = _rng.choice([1, 2, _rng.randint(3, 100), _rng.randint(100, 10**5)])
        _budget = _fixed + _b * _per + (0 if _i % 5 == 0 else _rng.randint(0, _per - 1))
    _cases.append((_budget, _fixed, _per))
_probe("largest_batch", lambda budget, fixed, per: largest_batch(budget, _affine, fixed=fixed, per_image=per),
       _cases)
### END HIDDEN TESTS

# %% [markdown]
# ## Explore: the memory-budget explorer
#
# The explorer below runs **your** `training_memory` and `largest_batch` on the scenario network.
# Change the batch size, the image size, the dtype policy, the optimizer, checkpointing and the
# budget, and watch where the memory goes. Things to try: find the largest batch in float32 and
# in `mixed_float16`; compare `float16` with `mixed_float16` for `adam` vs `sgd`; switch
# checkpointing on at 224 and at 512 pixels.

# %%
from course.ch03 import memory_explorer

memory_explorer(training_memory, largest_batch)

# %% [markdown]
# ### Exercise 3 (3 points) — the remedies on the scenario
#
# Using your functions, fill in two dicts for the scenario (`course.ch03.SCENARIO`: 224×224×3
# images, the seven convolutional layers, `dense_units=(512, 10)`, batch 256, float32, Adam;
# budget `BUDGET_BYTES` = 4 GB):
#
# `remedy_totals`: the estimated total (bytes) for each of these keys —
#
# | key | change from the scenario |
# |---|---|
# | `"baseline"` | none |
# | `"halve_batch"` | batch 128 |
# | `"stride_2_first_layer"` | the first layer's `strides` 2 instead of 1 |
# | `"remove_first_layer"` | the first convolutional layer removed |
# | `"float16"` | dtype `"float16"` |
# | `"mixed_float16"` | dtype `"mixed_float16"` |
# | `"two_gpus"` | two GPUs, data parallel: the memory of **one** GPU |
# | `"checkpointing"` | `checkpointing=True` |
#
# `remedy_batches`: the largest batch that fits in `BUDGET_BYTES` for the same keys except
# `"halve_batch"` (the batch is what you are looking for); for `"two_gpus"` give the *total*
# batch over both GPUs (each GPU must fit its half).

# %% nbgrader={"grade": false, "grade_id": "ex3_remedies", "locked": false, "schema_version": 3, "solution": true, "task": false}
import copy
from course.ch03 import BUDGET_BYTES, SCENARIO

remedy_totals, remedy_batches = {}, {}
### BEGIN SOLUTION
def _variant(**changes):
    return {**SCENARIO, **changes}

_strided = copy.deepcopy(SCENARIO["layers"])
_strided[0]["strides"] = 2
_variants = {
    "baseline": _variant(),
    "halve_batch": _variant(batch_size=SCENARIO["batch_size"] // 2),
    "stride_2_first_layer": _variant(layers=_strided),
    "remove_first_layer": _variant(layers=SCENARIO["layers"][1:]),
    "float16": _variant(dtype="float16"),
    "mixed_float16": _variant(dtype="mixed_float16"),
    "two_gpus": _variant(batch_size=SCENARIO["batch_size"] // 2),
    "checkpointing": _variant(checkpointing=True),
}
for _name, _spec in _variants.items():
    remedy_totals[_name] = training_memory(**_spec)["total"]
for _name in ("baseline", "stride_2_first_layer", "remove_first_layer", "float16", "mixed_float16",
              "checkpointing"):
    _spec = {k: v for k, v in _variants[_name].items() if k != "batch_size"}
    remedy_batches[_name] = largest_batch(BUDGET_BYTES, training_memory, **_spec)
remedy_batches["two_gpus"] = 2 * remedy_batches["baseline"]
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_remedy_totals", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from course.ch03 import BUDGET_BYTES, REMEDIES
assert set(remedy_totals) == set(REMEDIES), f"keys: {sorted(REMEDIES)}"
assert all(type(v) is int for v in remedy_totals.values()), "totals in bytes, as ints"
assert remedy_totals["baseline"] > BUDGET_BYTES, "the scenario does not fit: that is the problem"
assert all(v < remedy_totals["baseline"] for k, v in remedy_totals.items() if k != "baseline"), \
    "every remedy saves memory here"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe_value as _probe_value
_probe_value("remedy_totals", remedy_totals)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_remedy_batches", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from course.ch03 import REMEDIES, SCENARIO
assert set(remedy_batches) == set(REMEDIES) - {"halve_batch"}, "every key but halve_batch"
assert all(type(v) is int for v in remedy_batches.values()), "batch sizes are ints"
assert remedy_batches["baseline"] < SCENARIO["batch_size"], "256 images do not fit"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe_value as _probe_value
_probe_value("remedy_batches", remedy_batches)
### END HIDDEN TESTS

# %% [markdown]
# Your numbers, ranked by the memory each remedy saves (the bars show where the memory goes):

# %%
from course.ch03 import show_remedies

ranking = show_remedies(remedy_totals, remedy_batches)
print("most to least memory saved:", ranking)

# %% [markdown] nbgrader={"grade": false, "grade_id": "written_prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 4 (3 points, graded by your instructor) — what would you try first?
#
# A colleague gets an out-of-memory error training the scenario network (batch 256, float32,
# Adam) on a GPU with 4 GB free. The final accuracy matters, and a second identical GPU is
# available. Rank the remedies of exercise 3 in the order you would try them and give one reason
# for each, weighing the memory it saves (your table) against what it costs: accuracy, training
# time, hardware. Say which ones change the model itself.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_answer", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# 1. **Mixed precision** (`mixed_float16`): halves activations and inputs (2.32 GB instead of
#    4.22 GB, fits), keeps float32 master weights so accuracy is unchanged, and is faster on
#    tensor-core GPUs. The model is the same.
# 2. **Two GPUs, data parallel**: each GPU holds the same 2.32 GB as a 128 batch, but the optimizer
#    still sees batches of 256, so the training dynamics do not change; costs the second GPU and
#    gradient synchronisation. Combined with mixed precision, larger batches fit.
# 3. **Smaller batch** (128): same saving, free, but noisier gradients, a learning rate to retune
#    and batch-norm statistics from fewer images; gradient accumulation can restore the effective
#    batch at the cost of time.
# 4. **Gradient checkpointing**: the model is unchanged and it fits (3.55 GB), but it saves the
#    least here (the big first-layer activation is still held in one segment) and costs about a
#    third more compute per step.
# 5. **Stride 2 in the first layer**: saves the most (1.18 GB), but changes the model: it throws
#    away resolution from the first layer, so accuracy must be re-validated.
# 6. **Removing the first layer**: saves 1.64 GB but also changes the model (less capacity, smaller
#    receptive field); removing a stride-2 layer would even increase memory. Pure float16 saves a
#    bit more than mixed precision (2.11 GB) but is numerically fragile.
# ### END SOLUTION
