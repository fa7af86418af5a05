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
# # Chapter 6 — From LeNet-5 to Xception: what did each architecture bring?
#
# **The question.** What are the main innovations in AlexNet, compared to LeNet-5? What about the
# main innovations in GoogLeNet, ResNet, SENet and Xception?
#
# **The short answer**, which this notebook builds and measures piece by piece:
#
# * **AlexNet** (2012) is LeNet-5's recipe made about a thousand times bigger, and made trainable at
#   that size: ReLU instead of saturating units, dropout and data augmentation against
#   overfitting, two GPUs (grouped convolutions), and convolutional layers stacked directly on top
#   of each other, without a pooling layer between them. It also used local response normalization
#   (chapter 5) and overlapping pooling.
# * **GoogLeNet** (2014): the *inception module*, parallel 1×1, 3×3 and 5×5 convolutions and a
#   pooling branch, made affordable by 1×1 *bottleneck* convolutions; a much deeper network (22
#   layers) with a fraction of AlexNet's parameters.
# * **ResNet** (2015): *skip connections*. A deep plain network trains worse than a shallower one
#   (the *degradation problem*), even with healthy gradients; residual units, which only have to
#   learn a correction to their input, make depth pay off again (152 layers).
# * **SENet** (2017): the *squeeze-and-excitation block*, added to an existing architecture: each
#   unit learns to reweight its feature maps from a global summary of them, for a few percent more
#   compute.
# * **Xception** (2017): *depthwise separable convolutions* everywhere, which split a convolution
#   into a per-channel spatial filter and a 1×1 mix of channels, for a fraction of the parameters
#   and multiply-adds.
#
# **How this notebook works.** Read and run the lesson cells in order. The exercises at the end are
# autograded: each has visible tests you can run now, and hidden tests the grader runs on other
# inputs. The last exercise is a short written answer graded by your instructor.

# %%
from course.env import setup

info = setup("ch06")

# %% [markdown]
# ## 1. LeNet-5 and AlexNet, layer by layer
#
# LeNet-5 (LeCun et al., 1998) read 32×32 digits: two convolution + subsampling stages, a third
# convolution and two fully connected layers. AlexNet (Krizhevsky, Sutskever & Hinton, 2012) won
# ILSVRC 2012 on 227×227 colour photos. Both are built below in Keras, and each layer's parameters
# come from Keras's own `count_params()`. (In exercise 1 you will compute these numbers from the
# layers' configurations alone.)

# %%
import keras
import numpy as np

from course.ch06 import LENET5_PAPER_PARAMS, alexnet, layer_table, lenet5, multiply_adds

lenet, alex = lenet5(), alexnet()
for model in (lenet, alex):
    print(f"{model.name}: input {model.inputs[0].shape[1:]}")
    for row in layer_table(model):
        if row["params"] or row["kind"].endswith("Pooling2D"):
            print(f"  {row['name']:8s} {row['kind']:17s} out {row['output']!s:15s} "
                  f"params {row['params']:>11,}  multiply-adds {row['mult_adds']:>13,}")
    print(f"  total {model.count_params():,} parameters, {multiply_adds(model):,} multiply-adds per image")
print(f"AlexNet / LeNet-5: {alex.count_params() / lenet.count_params():,.0f}x the parameters, "
      f"{multiply_adds(alex) / multiply_adds(lenet):,.0f}x the multiply-adds")
lenet_rows = {r["name"]: r["params"] for r in layer_table(lenet)}
print(f"LeNet-5 in the 1998 paper (quoted): {LENET5_PAPER_PARAMS}; here C3 has {lenet_rows['C3']:,} "
      f"(full connections) and S2, S4 have {lenet_rows['S2']} (plain average pooling)")
assert alex.count_params() == 60_965_224 and lenet.count_params() == 61_706

# %% [markdown]
# So AlexNet is about 1,000 times bigger than LeNet-5 and does about 1,700 times more work per
# image, but every layer is of a kind LeNet-5 already had: convolutions, pooling, fully connected
# layers. The 1998 LeNet-5 had two details Keras layers do not copy: its subsampling layers S2 and
# S4 learned a coefficient and a bias per map (12 and 32 parameters in the paper), and C3 connected
# each of its 16 maps to only some of S2's 6 maps (1,516 parameters instead of 2,416), "to break
# the symmetry" and to save computation. What made a network of AlexNet's size *trainable* on 1.2
# million images in 2012 were the following.
#
# **Convolutions stacked on convolutions.** LeNet-5 and its successors alternated convolution and
# pooling. AlexNet stacks conv3, conv4 and conv5 directly (the table above: no pooling between
# them). Two stacked 3×3 convolutions see a 5×5 window, like one 5×5 convolution, with fewer
# parameters and an extra non-linearity in between (an argument VGG later pushed to its end):

# %%
stacked = keras.Sequential([keras.Input((13, 13, 256)), keras.layers.Conv2D(256, 3, use_bias=False),
                            keras.layers.Conv2D(256, 3, use_bias=False)])
single = keras.Sequential([keras.Input((13, 13, 256)), keras.layers.Conv2D(256, 5, use_bias=False)])
print(f"two 3x3: output {stacked.layers[-1].output.shape[1:]}, {stacked.count_params():,} parameters; "
      f"one 5x5: output {single.layers[-1].output.shape[1:]}, {single.count_params():,} parameters")
assert stacked.layers[-1].output.shape == single.layers[-1].output.shape

# %% [markdown]
# **Two GPUs: grouped convolutions.** AlexNet's 60 million parameters and their activations did not
# fit in one 3 GB GPU, so the network was split in two halves, one per GPU, which exchanged maps
# only at some layers: conv2, conv4 and conv5 see only the 48 (or 192) maps on their own GPU. That is
# exactly a convolution with `groups=2`, which halves its parameters and multiply-adds:

# %%
conv2 = alex.get_layer("conv2")
ungrouped = keras.layers.Conv2D(256, 5, padding="same")
ungrouped.build(conv2.input.shape)
print(f"conv2 with groups=2: {conv2.count_params():,} parameters; the same layer fully "
      f"connected: {ungrouped.count_params():,}")

# %% [markdown]
# **ReLU instead of saturating units.** LeNet-5 used a (scaled) tanh. The sigmoid and tanh
# *saturate*: for large inputs their derivative goes to 0, so gradients shrink as they flow back
# through many units, while ReLU's derivative is exactly 1 for every positive input (and ReLU costs
# one comparison). The AlexNet paper (its Figure 1, quoted) found that a 4-layer CNN with ReLUs
# reached 25 % training error on CIFAR-10 six times faster than the same network with tanh. Here is
# a small measured version on MNIST: the same 4-convolution network, the same initialisation, SGD
# with momentum, with three activations:

# %%
from course.ch06 import EXPERIMENT_BUDGET, mnist_train_subset, small_cnn, training_losses

budget = EXPERIMENT_BUDGET[info["profile"]]
x_digits, y_digits = mnist_train_subset(budget["n_train"])
z = np.linspace(-6, 6, 1201, dtype=np.float32)
slopes = {"sigmoid": keras.ops.sigmoid(z) * (1 - keras.ops.sigmoid(z)),
          "tanh": 1 - keras.ops.tanh(z) ** 2, "relu": (z > 0).astype(np.float32)}
for name, slope in slopes.items():
    slope = keras.ops.convert_to_numpy(slope)
    print(f"{name:7s}: largest derivative {slope.max():.2f}, derivative at input 4: {slope[1000]:.4f}")

activation_runs = {}
for name in ("sigmoid", "tanh", "relu"):
    activation_runs[name] = training_losses(small_cnn(name), x_digits, y_digits, budget["epochs"])
    run = activation_runs[name]
    print(f"{name:7s}: training loss per epoch {[round(v, 3) for v in run['loss']]}, "
          f"accuracy {[round(v, 3) for v in run['accuracy']]} ({run['seconds']:.0f} s)")
if info["profile"] != "smoke":  # a seconds-long smoke run says nothing about training speed
    assert activation_runs["sigmoid"]["loss"][-1] > 2.0
    assert max(activation_runs[n]["loss"][-1] for n in ("tanh", "relu")) < 0.6

# %% [markdown]
# Measured here: the sigmoid network does not learn at all in this budget (its loss stays near
# $\ln 10 \approx 2.30$, chance level), while tanh and ReLU both learn quickly. In this small,
# well-initialised network tanh keeps up with ReLU; the gap grows with depth and with the
# initialisation AlexNet used (small Gaussian weights), which is where the paper measured its
# factor of six. The lasting lesson is the one about saturation, and ReLU became the default.
#
# **Dropout.** AlexNet's first two fully connected layers (fc6, fc7: 89 % of its parameters) were
# trained with dropout: each unit's output is set to zero with probability 0.5 at every training
# step, so that units cannot rely on particular other units (the paper: without it the network
# "exhibits substantial overfitting"). Keras's `Dropout` also scales the kept outputs by 1/(1-p)
# during training, so that nothing needs rescaling at inference, when it does nothing:

# %%
dropout = keras.layers.Dropout(0.5, seed=0)
ones = np.ones((1, 10_000), dtype=np.float32)
trained = keras.ops.convert_to_numpy(dropout(ones, training=True))
print(f"training: {np.mean(trained == 0):.1%} of the outputs zeroed, the others x{trained.max():.1f}, "
      f"mean {trained.mean():.3f}; inference: identical to the input: "
      f"{np.array_equal(keras.ops.convert_to_numpy(dropout(ones, training=False)), ones)}")
fc = sum(alex.get_layer(n).count_params() for n in ("fc6", "fc7"))
print(f"fc6 + fc7 hold {fc / alex.count_params():.0%} of AlexNet's parameters")

# %% [markdown]
# **Data augmentation.** AlexNet trained on random 224×224 crops of 256×256 images and their
# mirror images, "increasing the size of our training set by a factor of 2048" (quoted: 32 × 32
# crop positions × 2). Keras has these as layers that act only in training:

# %%
crop, flip = keras.layers.RandomCrop(224, 224, seed=1), keras.layers.RandomFlip("horizontal", seed=1)
photo = np.random.default_rng(0).random((1, 256, 256, 3)).astype(np.float32)
views = [keras.ops.convert_to_numpy(flip(crop(photo, training=True), training=True)) for _ in range(8)]
distinct = len({v.tobytes() for v in views})
at_inference = keras.ops.convert_to_numpy(crop(photo, training=False))
print(f"8 training views of one 256x256 image: shape {views[0].shape[1:]}, {distinct} distinct; "
      f"possible views: {(256 - 224) ** 2 * 2:,}")
print(f"at inference RandomCrop returns shape {at_inference.shape[1:]}, unchanged: {np.array_equal(at_inference, photo)}")

# %% [markdown]
# (At test time AlexNet did not pass the whole image either: it averaged its predictions over ten
# 224×224 views, the four corners and the centre and their mirrors, quoted from section 4.1.
# Mirroring is right for photos, not for digits: a mirrored 2 is not a 2. Augmentations must keep
# the label true.) AlexNet's last two novelties are **local response normalization** after conv1
# and conv2 (chapter 5: the paper reported 1.4 / 1.2 points less top-1 / top-5 error with it, but
# later networks dropped it) and **overlapping pooling**, 3×3 windows with stride 2, which the paper
# reports lowered the top-1 / top-5 error by 0.4 / 0.3 points (quoted, section 3.4).
#
# ## 2. GoogLeNet: the inception module and its 1×1 bottlenecks
#
# Which kernel size is right for a layer, 1×1, 3×3 or 5×5? The inception module does not choose: it
# runs all of them, and a 3×3 max pooling, in parallel on the same input, and concatenates their
# outputs along the channels. Done naively (the paper's Figure 2a) this is expensive, and the
# output only grows, since the pooling branch passes all input channels on. The module GoogLeNet
# actually uses puts a 1×1 convolution (a *bottleneck*) before the 3×3 and the 5×5 convolutions and
# after the pooling, to shrink the channels first. Here is module "3a" of GoogLeNet's Table 1 on its
# 28×28×192 input, both ways:

# %%
from course.ch06 import GOOGLENET_MODULES, googlenet, inception_model

inception_3a = {}
for bottleneck in (False, True):
    module = inception_model((28, 28, 192), GOOGLENET_MODULES["3a"], bottleneck)
    inception_3a[bottleneck] = module
    print(f"{'with bottlenecks' if bottleneck else 'naive':16s}: output {module.output.shape[1:]}, "
          f"{module.count_params():>9,} parameters, {multiply_adds(module):>13,} multiply-adds")
saving = multiply_adds(inception_3a[False]) / multiply_adds(inception_3a[True])
print(f"the bottlenecks cut the multiply-adds {saving:.1f}x")

google = googlenet()
print(f"GoogLeNet: {google.count_params():,} parameters ({alex.count_params() / google.count_params():.1f}x "
      f"fewer than AlexNet), {multiply_adds(google):,} multiply-adds per image")

# %% [markdown]
# With its bottlenecks, GoogLeNet is 22 weight layers deep, yet has about 9 times fewer parameters
# than AlexNet (its paper: "12 times fewer", counting without the final classifier) for about 2
# times AlexNet's compute. Two more ideas cut parameters: global average pooling replaces
# AlexNet's huge fully connected layers (fc6 alone has 37.8 million parameters), and the 1×1
# convolutions add depth and non-linearity almost for free. (The paper also attached two auxiliary
# classifiers to intermediate layers during training; they are left out here.) Inception v3 later
# factorized the 5×5 convolution into two 3×3, and 3×3 into 1×3 and 3×1.
#
# ## 3. ResNet: skip connections and the degradation problem
#
# If depth helps, why not stack more layers? He et al. (2016) found that deeper *plain* networks
# reach a **higher training error** than shallower ones. That is not overfitting (the training
# error is worse) and, with batch normalization, not vanishing gradients either: the paper checked
# that "backward propagated gradients exhibit healthy norms with BN". The deeper plain network is
# simply harder to optimize. Their fix is the residual unit: two convolutions compute a correction
# $F(x)$ that is *added* to the unit's input, $y = \mathrm{ReLU}(x + F(x))$, so a unit that has
# nothing useful to add only needs $F = 0$, and the signal (and gradient) has a direct path through
# the whole network.
#
# The experiment below trains three digit classifiers with the same training set, optimizer and
# budget: a shallow plain network, a deep plain one, and the same deep network with an identity
# shortcut around every pair of convolutions (exactly the same layers and parameters). All use
# batch normalization. First the gradient of the loss with respect to the first layer, at
# initialisation; then training.

# %%
from course.ch06 import deep_stack, first_layer_gradient_norm

contenders = {"shallow plain": deep_stack(budget["shallow"], skips=False),
              "deep plain": deep_stack(budget["deep"], skips=False),
              "deep residual": deep_stack(budget["deep"], skips=True)}
depth_runs = {}
for name, model in contenders.items():
    grad = first_layer_gradient_norm(model, x_digits[:256], y_digits[:256])
    depth_runs[name] = training_losses(model, x_digits, y_digits, budget["epochs"], learning_rate=0.05)
    depth_runs[name]["gradient"] = grad
    run = depth_runs[name]
    print(f"{name:13s} ({len([w for w in model.weights if 'kernel' in w.path]) - 1} conv layers, "
          f"{model.count_params():,} params): first-layer gradient norm {grad:.3f}; training loss per "
          f"epoch {[round(v, 3) for v in run['loss']]} ({run['seconds']:.0f} s)")
if info["profile"] != "smoke":
    final = {n: r["loss"][-1] for n, r in depth_runs.items()}
    assert final["deep plain"] > final["shallow plain"] > final["deep residual"]
    assert depth_runs["deep plain"]["gradient"] > depth_runs["shallow plain"]["gradient"]

# %% [markdown]
# Read the numbers: the deep plain network's first layer gets a *larger* gradient than the shallow
# network's, not a vanishing one, and still the deep plain network ends with a higher training
# loss: that is the degradation problem. The same deep network with shortcuts trains best of the
# three. The common short answer "ResNet solved vanishing gradients" is therefore incomplete: batch
# normalization (and careful initialisation) already keep gradients alive; skip connections make
# very deep networks *optimizable*. When a unit changes the shape (stride 2, more filters), the
# shortcut cannot be the identity: ResNet then uses a *projection*, a strided 1×1 convolution on the
# shortcut (exercise 3).
#
# ## 4. SENet: a block that recalibrates channels
#
# Squeeze-and-excitation (Hu et al., 2018) won ILSVRC 2017. It is not a new network family but a
# **block added to existing units** (SE-ResNet, SE-Inception, SE-ResNeXt): *squeeze* each feature
# map to one number (global average pooling), *excite* with a tiny two-layer network (C → C/16 →
# C, ReLU then sigmoid) that outputs one weight between 0 and 1 per channel, and *recalibrate*:
# multiply each map by its weight. The block can thus emphasize the maps that matter for this
# image, using information from the whole image, which a convolution's local window cannot see.
# What does it cost? Below, for ResNet-50's units (their output channels per stage, 16 units in
# all), as Keras counts it:

# %%
from course.ch06 import keras_applications, layer_multiply_adds, se_model

resnet50 = keras_applications(["ResNet50"])["ResNet50"]
units = {256: 3, 512: 4, 1024: 6, 2048: 3}          # ResNet-50: output channels -> units per stage
se_params = {c: se_model((7, 7, c)).count_params() for c in units}
added = sum(n * se_params[c] for c, n in units.items())
print("SE block parameters per unit:", {c: f"{p:,}" for c, p in se_params.items()})
print(f"ResNet-50: {resnet50.count_params():,} parameters; with an SE block in every unit: "
      f"{resnet50.count_params() + added:,} (+{added / resnet50.count_params():.1%})")
se_madds = multiply_adds(se_model((7, 7, 2048)))
last = [layer for layer in resnet50.layers if layer.name.startswith("conv5_block3_")]
last_params = sum(layer.count_params() for layer in last)
last_madds = sum(layer_multiply_adds(layer) for layer in last)
print(f"last unit (7x7x2048): {last_params:,} parameters, {last_madds:,} multiply-adds; its SE block "
      f"{se_params[2048]:,} parameters ({se_params[2048] / last_params:.1%}), {se_madds:,} multiply-adds "
      f"({se_madds / last_madds:.2%})")

# %% [markdown]
# About 10 % more parameters in all, 11.8 % of the last unit's own (the paper reports 28.1 million for SE-ResNet-50 against 25.6, and a
# top-5 error of 6.62 % instead of 7.48 % on ImageNet validation, quoted from its Table 2) for well
# under 1 % more compute. You will write the block's forward pass in exercise 4.
#
# ## 5. Xception: depthwise separable convolutions
#
# A regular convolution filters space and mixes channels in one step: each of its $C_{out}$ filters
# is $k \times k \times C_{in}$. A **depthwise separable** convolution splits that in two: a
# *depthwise* convolution filters each input channel on its own ($k \times k$ per channel), then a
# *pointwise* 1×1 convolution mixes the channels. Xception (Chollet, 2017; "extreme Inception")
# builds the whole network from them, with residual connections. Keras has it as
# `SeparableConv2D`; compare it with `Conv2D` on a 19×19×728 feature map, Xception's middle flow:

# %%
from course.ch06 import cost_by_kind

shape = (19, 19, 728)
costs = {}
for layer in (keras.layers.Conv2D(728, 3, padding="same"), keras.layers.SeparableConv2D(728, 3, padding="same")):
    net = keras.Sequential([keras.Input(shape), layer])
    costs[type(layer).__name__] = (net.count_params(), multiply_adds(net))
    print(f"{type(layer).__name__:16s}: {net.count_params():>9,} parameters, {multiply_adds(net):>12,} multiply-adds")
ratio = costs["Conv2D"][1] / costs["SeparableConv2D"][1]
print(f"separable: {ratio:.1f}x fewer multiply-adds (1 / (1/C_out + 1/k^2) = {1 / (1 / 728 + 1 / 9):.1f})")
xception = keras_applications(["Xception"])["Xception"]
kinds = cost_by_kind(xception)
print("Xception by layer kind (parameters):", {k: f"{v['params']:,}" for k, v in kinds.items()})

# %% [markdown]
# Nearly 9 times fewer multiply-adds for a 3×3 kernel, and in Xception most parameters end up in the
# pointwise 1×1 convolutions. Do not confuse *depthwise* separable with *spatially* separable: a
# spatially separable kernel is an outer product of a column and a row ($k \times 1$ then $1 \times
# k$, the Sobel filter is one), which only a rank-1 kernel allows, while a depthwise separable
# convolution separates *channels from space* and works for any spatial kernel:

# %%
sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)
random_kernel = np.random.default_rng(3).normal(size=(3, 3))
for name, k in (("Sobel", sobel), ("random 3x3", random_kernel)):
    print(f"{name:10s}: rank {np.linalg.matrix_rank(k)} -> spatially separable: {np.linalg.matrix_rank(k) == 1}")
print("Sobel = column x row:", np.array_equal(np.outer([1, 2, 1], [1, 0, -1]), sobel))

# %% [markdown]
# ## 6. Explore the architectures
#
# Pick a network: its parameters, multiply-adds per image and depth (weight layers on the longest
# path, the way the papers count) are measured on the Keras model (random weights; nothing is
# downloaded), and the bars show where its parameters or its compute sit. Watch AlexNet and VGG16
# keep most parameters in dense layers, GoogLeNet and ResNet50 in their convolutions, and Xception
# in 1×1 pointwise convolutions. The right panel plots the ILSVRC top-5 errors by year, **quoted**
# from the sources in `course.ch06.ILSVRC_TOP5`, next to the measured size of each network you have
# looked at.

# %%
from course.ch06 import ILSVRC_TOP5, architecture_explorer, architecture_stats

known = {"LeNet-5": architecture_stats("LeNet-5", lenet), "AlexNet": architecture_stats("AlexNet", alex),
         "GoogLeNet": architecture_stats("GoogLeNet", google),
         "ResNet50": architecture_stats("ResNet50", resnet50), "Xception": architecture_stats("Xception", xception)}
for s in known.values():
    print(f"{s['name']:10s} {s['year']}: {s['params']:>11,} parameters, {s['mult_adds']:>14,} multiply-adds, "
          f"depth {s['depth']}")
for year, team, arch, error, source in ILSVRC_TOP5:
    print(f"ILSVRC {year} {team:16s} {arch:28s} top-5 error {error:5.2f} %  (quoted: {source})")
assert [known[n]["depth"] for n in ("LeNet-5", "AlexNet", "GoogLeNet", "ResNet50")] == [5, 8, 22, 50]
architecture_explorer(known)

# %% [markdown]
# ## 7. Summary
#
# | network | year | main innovations | measured here |
# |---|---|---|---|
# | LeNet-5 | 1998 | convolution + subsampling stages trained by backpropagation | 61,706 parameters (Keras version) |
# | AlexNet | 2012 | much bigger and deeper; ReLU; dropout; data augmentation; two GPUs (grouped convolutions); stacked convolutions; LRN; overlapping pooling | 61.0 M parameters; sigmoid does not train, tanh/ReLU do |
# | GoogLeNet | 2014 | inception modules with 1×1 bottlenecks; global average pooling; 22 layers | bottlenecks: 2.4x fewer multiply-adds in module 3a; 7.0 M parameters |
# | ResNet | 2015 | residual units (identity and projection shortcuts) against the degradation problem | deep plain trains worse than shallow, with larger gradients; residual trains best |
# | SENet | 2017 | squeeze-and-excitation blocks added to existing units | +10 % parameters, < 1 % compute on ResNet-50 |
# | Xception | 2017 | depthwise separable convolutions throughout (+ residual connections) | 8.9x fewer multiply-adds per 3×3 layer |
#
# ## Exercises
#
# Tensors are NHWC (batch, height, width, channels), `float32`. Counts of multiply-adds follow
# `course.ch06.layer_multiply_adds`: a convolution does $k_h k_w C_{in} / \text{groups}$ of them per
# output value; biases, activations and pooling are not counted.

# %% [markdown]
# ### Exercise 1 (3 points) — parameters from a layer's configuration
#
# Write `layer_params(kind, config, in_channels)`, which returns the number of parameters Keras's
# `count_params()` reports for a layer of class `kind` (a string such as `"Conv2D"`) built with the
# configuration `config` (the dict `layer.get_config()` returns) on inputs with `in_channels`
# channels, **without building a Keras layer**. Handle `"Conv2D"` (with `groups` and `use_bias`),
# `"Dense"`, `"DepthwiseConv2D"` (with `depth_multiplier`), `"SeparableConv2D"`, and
# `"BatchNormalization"` (`center`, `scale`, and its two moving statistics, which `count_params()`
# counts too); every other kind has no parameters. The visible tests account for LeNet-5 and AlexNet
# layer by layer.

# %% nbgrader={"grade": false, "grade_id": "ex1_layer_params", "locked": false, "schema_version": 3, "solution": true, "task": false}
def layer_params(kind, config, in_channels):
    """Parameters of a Keras layer of class ``kind`` with ``config``, on ``in_channels`` channels."""
    ### BEGIN SOLUTION
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        kh, kw = config["kernel_size"]
        bias = config.get("use_bias", True)
        if kind == "Conv2D":
            groups = config.get("groups", 1)
            return kh * kw * (in_channels // groups) * config["filters"] + bias * config["filters"]
        mid = in_channels * config.get("depth_multiplier", 1)
        if kind == "DepthwiseConv2D":
            return kh * kw * mid + bias * mid
        return kh * kw * mid + mid * config["filters"] + bias * config["filters"]
    if kind == "Dense":
        return in_channels * config["units"] + config.get("use_bias", True) * config["units"]
    if kind == "BatchNormalization":
        return in_channels * (2 + config.get("center", True) + config.get("scale", True))
    return 0
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_layer_params", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import keras
from course.ch06 import alexnet, lenet5

for _model in (lenet5(), alexnet()):
    for _layer in _model.layers:
        _got = layer_params(type(_layer).__name__, _layer.get_config(), int(_layer.input.shape[-1]))
        assert _got == _layer.count_params(), (
            f"{_model.name} {_layer.name} ({type(_layer).__name__}): you count {_got:,}, "
            f"Keras counts {_layer.count_params():,}")
for _layer, _c in ((keras.layers.BatchNormalization(), 32), (keras.layers.BatchNormalization(center=False), 8),
                   (keras.layers.DepthwiseConv2D(3, depth_multiplier=2), 5),
                   (keras.layers.SeparableConv2D(7, 3, use_bias=False), 4)):
    _layer.build((None, 9, 9, _c))
    _got = layer_params(type(_layer).__name__, _layer.get_config(), _c)
    assert _got == _layer.count_params(), (
        f"{type(_layer).__name__} on {_c} channels, {_layer.get_config()}: you count {_got}, "
        f"Keras counts {_layer.count_params()}")
assert "count_params" not in layer_params.__code__.co_names, "compute it from the configuration"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import keras as _keras
import numpy as _np
from course.probe import probe as _probe

_rng = _np.random.default_rng(206001)
_cases = []
for _i in range(40):
    _kind = ["Conv2D", "Dense", "DepthwiseConv2D", "SeparableConv2D", "BatchNormalization",
             "MaxPooling2D"][_i % 6]
    _groups = int(_rng.choice([1, 2, 4]))
    _c = _groups * int(_rng.integers(1, 9))
    _k = (int(_rng.integers(1, 6)), int(_rng.integers(1, 6)))
    _bias = bool(_rng.integers(0, 2))
    if _kind == "Conv2D":
        _layer = _keras.layers.Conv2D(_groups * int(_rng.integers(1, 6)), _k, groups=_groups, use_bias=_bias)
    elif _kind == "Dense":
        _layer = _keras.layers.Dense(int(_rng.integers(1, 50)), use_bias=_bias)
    elif _kind == "DepthwiseConv2D":
        _layer = _keras.layers.DepthwiseConv2D(_k, depth_multiplier=int(_rng.integers(1, 4)), use_bias=_bias)
    elif _kind == "SeparableConv2D":
        _layer = _keras.layers.SeparableConv2D(int(_rng.integers(1, 20)), _k,
                                               depth_multiplier=int(_rng.integers(1, 4)), use_bias=_bias)
    elif _kind == "BatchNormalization":
        _layer = _keras.layers.BatchNormalization(center=bool(_rng.integers(0, 2)), scale=bool(_rng.integers(0, 2)))
    else:
        _layer = _keras.layers.MaxPooling2D(2)
    _config = _layer.get_config()
    del _config["name"]                        # auto-numbered by Keras: not part of the case
    _cases.append((_kind, _config, _c))
_probe("layer_params", layer_params, _cases)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 (3 points) — what the bottlenecks save
#
# Write `inception_cost(h, w, c_in, filters, bottleneck=True)` for an inception module on an
# `h × w × c_in` input, built like `course.ch06.inception_module`: stride 1, `"same"` padding, a
# bias in every convolution, `filters = (n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj)`;
# with `bottleneck=False` the 3×3 and 5×5 convolutions see the whole input and the pooling branch
# passes its `c_in` channels on unprojected (the reduce and pool-proj numbers are then unused).
# Return `{"params": ..., "mult_adds": ..., "channels": ...}`: the module's parameters, its
# multiply-adds for one input (convolutions only) and the number of channels of its output. Use
# arithmetic, not Keras.

# %% nbgrader={"grade": false, "grade_id": "ex2_inception_cost", "locked": false, "schema_version": 3, "solution": true, "task": false}
def inception_cost(h, w, c_in, filters, bottleneck=True):
    """Parameters, multiply-adds and output channels of an inception module."""
    ### BEGIN SOLUTION
    n1, n3r, n3, n5r, n5, pool_proj = filters
    convs = [(1, c_in, n1)]                       # (kernel size, input channels, filters)
    if bottleneck:
        convs += [(1, c_in, n3r), (3, n3r, n3), (1, c_in, n5r), (5, n5r, n5), (1, c_in, pool_proj)]
        channels = n1 + n3 + n5 + pool_proj
    else:
        convs += [(3, c_in, n3), (5, c_in, n5)]
        channels = n1 + n3 + n5 + c_in
    params = sum(k * k * c * f + f for k, c, f in convs)
    mult_adds = sum(h * w * k * k * c * f for k, c, f in convs)
    return {"params": params, "mult_adds": mult_adds, "channels": channels}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_inception_cost", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from course.ch06 import GOOGLENET_MODULES, inception_model, multiply_adds

for _shape, _filters in (((28, 28, 192), GOOGLENET_MODULES["3a"]), ((14, 14, 480), GOOGLENET_MODULES["4a"]),
                         ((5, 7, 3), (2, 3, 4, 1, 2, 5))):
    for _bottleneck in (True, False):
        _module = inception_model(_shape, _filters, _bottleneck)
        _want = {"params": _module.count_params(), "mult_adds": multiply_adds(_module),
                 "channels": int(_module.output.shape[-1])}
        _got = inception_cost(*_shape, _filters, bottleneck=_bottleneck)
        assert isinstance(_got, dict) and set(_got) == set(_want), f"return a dict with keys {sorted(_want)}"
        assert _got == _want, f"input {_shape}, filters {_filters}, bottleneck={_bottleneck}: {_got}, want {_want}"
assert not {"keras", "count_params"} & set(inception_cost.__code__.co_names), "use arithmetic, not Keras"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
from course.probe import probe as _probe

_rng = _random.Random(206002)
_cases = [(_rng.randint(1, 40), _rng.randint(1, 40), _rng.randint(1, 600),
           tuple(_rng.randint(1, 400) for _ in range(6)), _rng.random() < 0.6) for _ in range(30)]
_probe("inception_cost", inception_cost, _cases)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3 (3 points) — a residual unit
#
# Write `residual_unit(x, filters, strides=1)`, which applies ResNet's basic unit to the Keras
# tensor `x` (functional API) and returns the output tensor:
#
# * main path: `Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)` →
#   `BatchNormalization()` → ReLU → `Conv2D(filters, 3, padding="same", use_bias=False)` →
#   `BatchNormalization()`;
# * shortcut: `x` itself when the shapes already match (`strides == 1` and `x` has `filters`
#   channels); otherwise a projection, `Conv2D(filters, 1, strides=strides, use_bias=False)` →
#   `BatchNormalization()`;
# * output: ReLU of the sum of the two.
#
# Use only standard Keras layers (`keras.layers.Conv2D`, `BatchNormalization`, `Activation` or
# `ReLU`, `Add`).

# %% nbgrader={"grade": false, "grade_id": "ex3_residual_unit", "locked": false, "schema_version": 3, "solution": true, "task": false}
import keras
from keras import layers


def residual_unit(x, filters, strides=1):
    """ResNet's basic residual unit on Keras tensor ``x``."""
    ### BEGIN SOLUTION
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.Activation("relu")(layers.Add()([y, shortcut]))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_residual_unit", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import keras
import numpy as np

def _unit_model(shape, filters, strides):
    _inp = keras.Input(shape)
    return keras.Model(_inp, residual_unit(_inp, filters, strides))

_x = np.random.default_rng(8).normal(size=(2, 8, 8, 16)).astype(np.float32)
_identity = _unit_model((8, 8, 16), 16, 1)
assert _identity.output.shape == (None, 8, 8, 16), f"output shape {_identity.output.shape}"
assert _identity.count_params() == 2 * 9 * 16 * 16 + 2 * 4 * 16, (
    f"identity unit: {_identity.count_params():,} parameters, expected {2 * 9 * 16 * 16 + 2 * 4 * 16:,} "
    "(two 3x3 convolutions without bias, two batch normalizations, no projection)")
for _w in _identity.weights:                   # silence the main path: only the shortcut is left
    if len(_w.shape) == 4:
        _w.assign(np.zeros(_w.shape, np.float32))
np.testing.assert_allclose(keras.ops.convert_to_numpy(_identity(_x)), np.maximum(_x, 0), atol=1e-6,
                           err_msg="with the main path at zero, the unit should output ReLU(x)")
_projection = _unit_model((8, 8, 16), 32, 2)
assert _projection.output.shape == (None, 4, 4, 32), f"strides=2, 32 filters: output shape {_projection.output.shape}"
_want = 9 * 16 * 32 + 9 * 32 * 32 + 16 * 32 + 3 * 4 * 32
assert _projection.count_params() == _want, f"projection unit: {_projection.count_params():,} parameters, expected {_want:,}"
assert sum(isinstance(_l, keras.layers.Add) for _l in _projection.layers) == 1, "one Add layer joins the two paths"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import keras as _keras
import numpy as _np
from course.probe import probe as _probe

def _unit_case(h, w, c, filters, strides, seed):
    _inp = _keras.Input((h, w, c))
    _m = _keras.Model(_inp, residual_unit(_inp, filters, strides))
    for _v in _m.weights:                      # weights that depend only on each tensor's shape
        if len(_v.shape) == 4:
            _n = int(_np.prod(_v.shape))
            _v.assign((_np.sin(_np.arange(_n) * 0.37 + sum(_v.shape)) / _np.sqrt(_n / _v.shape[-1]))
                      .reshape(_v.shape).astype(_np.float32))
    _x = _np.random.default_rng(seed).normal(size=(2, h, w, c)).astype(_np.float32)
    return {"shape": list(_m.output.shape[1:]), "params": int(_m.count_params()),
            "output": _keras.ops.convert_to_numpy(_m(_x, training=False)).round(4)}

_rng = _np.random.default_rng(206003)
_cases = []
for _i in range(12):
    _c = int(_rng.integers(1, 9))
    _strides = int(_rng.choice([1, 2]))
    _filters = _c if _i % 3 == 0 else int(_rng.integers(1, 9))
    _cases.append((int(_rng.integers(3, 8)), int(_rng.integers(3, 8)), _c, _filters, _strides, 206100 + _i))
_probe("residual_unit", _unit_case, _cases, rtol=1e-3, atol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 (3 points) — a squeeze-and-excitation block in numpy
#
# Write `se_forward(x, w1, b1, w2, b2)`, the forward pass of `course.ch06.se_block` in numpy: `x`
# has shape (N, H, W, C); `w1` (C, R) and `b1` (R,) are the weights of the reducing dense layer
# (ReLU), `w2` (R, C) and `b2` (C,) those of the expanding one (sigmoid). Squeeze (mean over the
# pixels of each map), excite, recalibrate; return a `float32` array shaped like `x`.

# %% nbgrader={"grade": false, "grade_id": "ex4_se_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def se_forward(x, w1, b1, w2, b2):
    """Squeeze-and-excitation forward pass (NHWC) in numpy."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float32)
    squeezed = x.mean(axis=(1, 2))                                 # (N, C)
    hidden = np.maximum(squeezed @ w1 + b1, 0.0)                   # (N, R)
    excitation = 1.0 / (1.0 + np.exp(-(hidden @ w2 + b2)))         # (N, C), each in (0, 1)
    return (x * excitation[:, None, None, :]).astype(np.float32)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_se_forward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
import keras
import numpy as np
from course.ch06 import se_model

_rng = np.random.default_rng(9)
_block = se_model((5, 6, 32), ratio=4)
_weights = [_rng.normal(size=_w.shape).astype(np.float32) for _w in _block.get_weights()]
_block.set_weights(_weights)
_x = _rng.normal(size=(3, 5, 6, 32)).astype(np.float32) * 2
_got = se_forward(_x, *_weights)
assert isinstance(_got, np.ndarray) and _got.shape == _x.shape, "return an array shaped like x"
np.testing.assert_allclose(_got, keras.ops.convert_to_numpy(_block(_x)), rtol=1e-4, atol=1e-5,
                           err_msg="differs from the Keras SE block with the same weights")
_scale = _got / _x
assert np.allclose(_scale, _scale[:, :1, :1, :], atol=1e-4), "each channel is scaled by one factor per image"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import numpy as _np
from course.probe import probe as _probe

_rng = _np.random.default_rng(206004)
_cases = []
for _i in range(16):
    _n, _h, _w, _c = (int(_v) for _v in (_rng.integers(1, 4), _rng.integers(1, 6), _rng.integers(1, 6),
                                         _rng.integers(2, 24)))
    _r = int(_rng.integers(1, _c + 1))
    _cases.append((_rng.normal(size=(_n, _h, _w, _c)).astype(_np.float32) * 3,
                   _rng.normal(size=(_c, _r)).astype(_np.float32), _rng.normal(size=_r).astype(_np.float32),
                   _rng.normal(size=(_r, _c)).astype(_np.float32), _rng.normal(size=_c).astype(_np.float32)))
_probe("se_forward", se_forward, _cases, rtol=1e-4, atol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5 (4 points) — a depthwise separable convolution in numpy
#
# Write `separable_conv2d(x, depthwise_kernel, pointwise_kernel, bias, strides=1, padding="valid")`,
# which computes what `keras.layers.SeparableConv2D` computes (no activation) with these weights:
# `x` (N, H, W, C_in); `depthwise_kernel` (kh, kw, C_in, M) with depth multiplier M: channel `c` is
# filtered by M kernels, and the depthwise output channel `c * M + m` is channel `c` filtered by
# kernel `m`; `pointwise_kernel` (1, 1, C_in·M, C_out); `bias` (C_out,). `strides` is an int;
# `padding` is `"valid"` or `"same"` (Keras pads `"same"` so that the output has ⌈H / stride⌉ rows,
# with the extra row of padding, when the total is odd, at the bottom; likewise for columns).
# Return `float32`. Like Keras, compute a cross-correlation (the kernel is not flipped).

# %% nbgrader={"grade": false, "grade_id": "ex5_separable_conv2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, bias, strides=1, padding="valid"):
    """Depthwise separable convolution (NHWC), like keras.layers.SeparableConv2D."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    kh, kw, c_in, m = depthwise_kernel.shape
    n, h, w, _ = x.shape
    if padding == "same":
        out_h, out_w = -(-h // strides), -(-w // strides)
        pad_h = max((out_h - 1) * strides + kh - h, 0)
        pad_w = max((out_w - 1) * strides + kw - w, 0)
        x = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    else:
        out_h, out_w = (h - kh) // strides + 1, (w - kw) // strides + 1
    depthwise = np.zeros((n, out_h, out_w, c_in, m))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + strides * out_h:strides, j:j + strides * out_w:strides, :]  # (n, oh, ow, c)
            depthwise += patch[..., None] * depthwise_kernel[i, j]
    depthwise = depthwise.reshape(n, out_h, out_w, c_in * m)
    out = depthwise @ pointwise_kernel[0, 0] + bias
    return out.astype(np.float32)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_separable_conv2d", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
import keras
import numpy as np

_rng = np.random.default_rng(10)
for _shape, _k, _m, _f, _s, _pad in (((2, 7, 7, 3), 3, 1, 4, 1, "valid"), ((1, 8, 9, 2), 3, 2, 5, 2, "same"),
                                     ((1, 9, 8, 3), 2, 1, 2, 1, "same"), ((2, 10, 10, 4), 4, 3, 3, 3, "valid"),
                                     ((1, 11, 10, 2), 5, 1, 3, 3, "same")):
    _layer = keras.layers.SeparableConv2D(_f, _k, strides=_s, padding=_pad, depth_multiplier=_m)
    _layer.build(_shape)
    _weights = [_rng.normal(size=_w.shape).astype(np.float32) for _w in _layer.get_weights()]
    _layer.set_weights(_weights)
    _x = _rng.normal(size=_shape).astype(np.float32)
    _want = keras.ops.convert_to_numpy(_layer(_x))
    _got = separable_conv2d(_x, *_weights, strides=_s, padding=_pad)
    assert np.shape(_got) == _want.shape, f"kernel {_k}, strides {_s}, {_pad}: shape {np.shape(_got)}, want {_want.shape}"
    np.testing.assert_allclose(_got, _want, rtol=1e-4, atol=1e-4,
                               err_msg=f"kernel {_k}, depth multiplier {_m}, strides {_s}, padding {_pad!r}")
assert "keras" not in separable_conv2d.__code__.co_names, "write it with numpy, without Keras"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import numpy as _np
from course.probe import probe as _probe

_rng = _np.random.default_rng(206005)
_cases = []
for _i in range(16):
    _kh, _kw = int(_rng.integers(1, 5)), int(_rng.integers(1, 5))
    _c, _m, _f = int(_rng.integers(1, 5)), int(_rng.integers(1, 4)), int(_rng.integers(1, 6))
    _h, _w = int(_rng.integers(_kh, 11)), int(_rng.integers(_kw, 11))
    _cases.append({"x": _rng.normal(size=(int(_rng.integers(1, 3)), _h, _w, _c)).astype(_np.float32),
                   "depthwise_kernel": _rng.normal(size=(_kh, _kw, _c, _m)).astype(_np.float32),
                   "pointwise_kernel": _rng.normal(size=(1, 1, _c * _m, _f)).astype(_np.float32),
                   "bias": _rng.normal(size=_f).astype(_np.float32), "strides": int(_rng.integers(1, 4)),
                   "padding": str(_rng.choice(["valid", "same"]))})
_probe("separable_conv2d", separable_conv2d, _cases, rtol=1e-4, atol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6 (2 points) — separable versus regular, for any configuration
#
# Write `separable_savings(k, c_in, c_out, h_out, w_out, depth_multiplier=1)`, comparing a regular
# `Conv2D(c_out, k)` with a `SeparableConv2D(c_out, k, depth_multiplier=...)` that both produce an
# `h_out × w_out × c_out` output from `c_in` channels (biases included, as Keras builds them by
# default). Return `{"regular": (params, mult_adds), "separable": (params, mult_adds)}`, with
# multiply-adds for one input, counted as in `course.ch06.layer_multiply_adds`.

# %% nbgrader={"grade": false, "grade_id": "ex6_separable_savings", "locked": false, "schema_version": 3, "solution": true, "task": false}
def separable_savings(k, c_in, c_out, h_out, w_out, depth_multiplier=1):
    """Parameters and multiply-adds of a regular and a depthwise separable convolution."""
    ### BEGIN SOLUTION
    positions = h_out * w_out
    mid = c_in * depth_multiplier
    regular = (k * k * c_in * c_out + c_out, positions * k * k * c_in * c_out)
    separable = (k * k * mid + mid * c_out + c_out, positions * (k * k * mid + mid * c_out))
    return {"regular": regular, "separable": separable}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_separable_savings", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import keras
from course.ch06 import multiply_adds

for _k, _c, _f, _size, _m in ((3, 728, 728, 19, 1), (5, 3, 8, 10, 2), (1, 16, 4, 7, 1)):
    _want = {}
    for _name, _layer in (("regular", keras.layers.Conv2D(_f, _k, padding="same")),
                          ("separable", keras.layers.SeparableConv2D(_f, _k, padding="same", depth_multiplier=_m))):
        _net = keras.Sequential([keras.Input((_size, _size, _c)), _layer])
        _want[_name] = (_net.count_params(), multiply_adds(_net))
    _got = separable_savings(_k, _c, _f, _size, _size, depth_multiplier=_m)
    assert isinstance(_got, dict) and set(_got) == {"regular", "separable"}, "keys: 'regular', 'separable'"
    assert {_n: tuple(_v) for _n, _v in _got.items()} == _want, (
        f"k={_k}, c_in={_c}, c_out={_f}, {_size}x{_size}, depth multiplier {_m}: {_got}, want {_want}")
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import random as _random
from course.probe import probe as _probe

_rng = _random.Random(206006)
_cases = [(_rng.randint(1, 7), _rng.randint(1, 1024), _rng.randint(1, 1024), _rng.randint(1, 64),
           _rng.randint(1, 64), _rng.randint(1, 4)) for _ in range(30)]
_probe("separable_savings", separable_savings, _cases)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "written_prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 7 (4 points, graded by your instructor) — answer the question
#
# In a few sentences each: (a) what were the main innovations of AlexNet compared to LeNet-5?
# (b) of GoogLeNet, (c) of ResNet, (d) of SENet and (e) of Xception? For (c), say what problem skip
# connections address and what this notebook measured about it; for (d) and (e), say what the
# innovation costs and saves, with numbers from this notebook.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_answer", "locked": false, "points": 4, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# (a) AlexNet kept LeNet-5's kinds of layers but was about 1,000 times bigger (61 M vs 62 k
# parameters) and deeper (8 weight layers), with convolutions stacked directly on each other, and
# it made that size trainable: ReLU instead of saturating sigmoid/tanh units (here the sigmoid net
# did not learn at all in the same budget), dropout on the big dense layers and data augmentation
# (random crops and mirrors) against overfitting, two GPUs (grouped convolutions), plus LRN and
# overlapping pooling.
# (b) GoogLeNet: inception modules running 1x1, 3x3, 5x5 convolutions and pooling in parallel,
# made cheap by 1x1 bottleneck convolutions (module 3a: 2.4x fewer multiply-adds), global average
# pooling instead of big dense layers: 22 layers with 7 M parameters, 9x fewer than AlexNet.
# (c) ResNet: residual units with identity (or 1x1 projection) shortcuts, y = ReLU(x + F(x)). They
# address the degradation problem: a deeper plain network trains worse than a shallower one even
# with batch normalization; here the deep plain net had a larger first-layer gradient than the
# shallow one yet ended with a higher training loss, while the same net with shortcuts trained best.
# (d) SENet: a squeeze-and-excitation block added to each unit of an existing network: global
# average pooling, a C -> C/16 -> C bottleneck with a sigmoid, and a per-channel rescaling. On
# ResNet-50 it adds about 10 % parameters and well under 1 % compute.
# (e) Xception: depthwise separable convolutions (a per-channel spatial filter, then a 1x1 channel
# mix; not spatially separable kernels) throughout, with residual connections: a 3x3 layer on
# 728 channels costs about 8.9x fewer multiply-adds and parameters.
# ### END SOLUTION
