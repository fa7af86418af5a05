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
# # Chapter 9 — The highest MNIST accuracy you can reach
#
# **The question.** Build your own CNN from scratch and try to achieve the highest possible accuracy
# on MNIST.
#
# **How you are graded.** You save your final model to `mnist_model.keras` in this folder. The grader
# loads that file (safely: no custom code) and measures its accuracy on the 10,000 official test
# images itself; the numbers you print earn nothing. Credit is linear between two thresholds that
# depend on the profile (`cpu` for laptops and CI, `gpu` for GPU machines) — the cell after the
# setup prints them. Two smaller exercises check your preprocessing and your model's interface, and a
# written answer asks about the test set.
#
# **What the graded run starts from.** The grader re-runs this notebook from the top and keeps the
# test set to itself: in that run `load_mnist()` gives the notebook a labelled stand-in for
# `x_test, y_test` (training images 50,000–59,999) and prints a line saying so. Files you submit
# beside the notebook are not available to it, a cell you write may hold 8 kB of code (all of them
# 16 kB), and only the model that your training cell (Exercise 3) trains and saves in that run is
# graded. So the points come from your code, trained on the training set, every time.

# %%
from course.env import setup
from course.thresholds import tiers

info = setup("ch09")
PROFILE = info["profile"]
TIERS = tiers("ch09_mnist", PROFILE)
print(f"profile {PROFILE}: {TIERS['zero']:.1%} test accuracy earns 0 points, "
      f"{TIERS['full']:.1%} earns full points, linear in between")

# %% [markdown]
# ## 1. Data: a validation set, and a test set you touch once
#
# `course.data.load_mnist()` returns exactly what `keras.datasets.mnist.load_data()` returns (offline
# here): 60,000 training and 10,000 test images, 28×28, `uint8`. Every decision — architecture,
# epochs, learning rate — is made on a **validation set carved out of the training set**; the test set
# is used once, at the very end, to report the final number. A stratified split keeps the class
# proportions identical in both parts.

# %%
import numpy as np
from sklearn.model_selection import train_test_split

from course.data import load_mnist
from course.graded_data import test_set_withheld

(x_train_full, y_train_full), (x_test, y_test) = load_mnist()
x_train, x_val, y_train, y_val = train_test_split(
    x_train_full, y_train_full, test_size=5_000, stratify=y_train_full, random_state=42)
if PROFILE == "smoke":  # seconds-long end-to-end check of the notebook, not a real run
    x_train, y_train, x_val, y_val = x_train[:1_000], y_train[:1_000], x_val[:500], y_val[:500]
print(f"train {x_train.shape}, validation {x_val.shape}, test {x_test.shape} ({x_test.dtype})")
share = np.bincount(y_val, minlength=10) / np.bincount(y_train, minlength=10)
print(f"validation/train ratio per class: {share.min():.4f} .. {share.max():.4f}")

# %% [markdown]
# ## 2. The tutorial baseline, trained live
#
# Most tutorials use the same small network: two convolution + max-pooling stages, a dense layer of
# 128 units and dropout. Trained for about a dozen epochs it reaches roughly 99.1–99.2 % test accuracy
# (a widely reported figure, not measured here). Here it trains for a short, profile-dependent budget
# while the widget redraws the curves every 50 batches (a Keras callback, `course.ch09.LiveHistory`,
# so it works on any Keras backend).

# %%
import keras
from IPython.display import display

from course.ch09 import LiveHistory

def to_input(images):
    return (images.astype("float32") / 255.0)[..., None]

baseline = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
    keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
    keras.layers.Dropout(0.5), keras.layers.Dense(10, activation="softmax"),
])
baseline.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
live = LiveHistory(every=50, title="tutorial baseline")
display(live.widget)
baseline_epochs = {"cpu": 1, "gpu": 12, "smoke": 1}[PROFILE]
baseline.fit(to_input(x_train), y_train, validation_data=(to_input(x_val), y_val),
             epochs=baseline_epochs, batch_size=128, verbose=0, callbacks=[live])
baseline_val = live.records[-1][1]["val_accuracy"]
print(f"baseline: {baseline.count_params():,} parameters, validation accuracy {baseline_val:.4f} "
      f"after {baseline_epochs} epoch(s), {np.mean(live.epoch_times):.0f} s per epoch")

# %% [markdown]
# ## 3. Where does it fail?
#
# Before adding techniques, look at the errors. The explorer shows the confusion matrix of the
# baseline on the **validation** set and the misclassified digits; filter by true and predicted class.
# Many errors are digits a human would hesitate on too; others (thin strokes, off-centre digits,
# slanted sevens) suggest what to do: augment with small shifts and rotations, normalise activations,
# train longer with a schedule.

# %%
from course.ch09 import error_explorer

val_pred = baseline.predict(to_input(x_val), verbose=0, batch_size=1000).argmax(axis=1)
print(f"{(val_pred != y_val).sum()} validation errors out of {len(y_val):,}")
error_explorer(x_val, y_val, val_pred)

# %% [markdown]
# ## 4. From 99.2 % to 99.5 % and beyond
#
# Each technique below is shown on real tensors; the recipe you will write combines them.
#
# **Batch normalization** standardises each channel over the mini-batch (then rescales with learned
# γ, β), which keeps activations well-scaled in deep stacks and allows higher learning rates.

# %%
bn = keras.layers.BatchNormalization()
conv = keras.layers.Conv2D(16, 3)
acts = keras.ops.convert_to_numpy(conv(to_input(x_train[:256])))
normed = keras.ops.convert_to_numpy(bn(acts, training=True))
print(f"before BN: per-channel means {np.ptp(np.mean(acts, axis=(0, 1, 2))):.3f} apart, "
      f"std {float(np.std(acts)):.3f}; after: mean {float(np.mean(normed)):+.3f}, "
      f"std {float(np.std(normed)):.3f}")

# %% [markdown]
# **Data augmentation** shows the network slightly shifted and rotated copies of each digit, a
# different one every epoch. Keras preprocessing layers do it inside the model, active only during
# training (`training=True`), so the saved model needs nothing special at prediction time.

# %%
import matplotlib.pyplot as plt

augment = keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
                            keras.layers.RandomRotation(0.05, fill_mode="constant")])
batch = to_input(x_train[:8])
fig, axes = plt.subplots(3, 8, figsize=(8, 3))
for row in range(3):
    shown = batch if row == 0 else keras.ops.convert_to_numpy(augment(batch, training=True))
    for ax, img in zip(axes[row], shown):
        ax.imshow(img.squeeze(), cmap="gray_r")
        ax.axis("off")
axes[0, 0].set_title("original", fontsize=8, loc="left")
plt.show()
same = np.allclose(keras.ops.convert_to_numpy(augment(batch, training=False)), batch)
print(f"at prediction time (training=False) the images pass unchanged: {same}")

# %% [markdown]
# **A learning-rate schedule**: warm up for one epoch, then decay along a cosine to zero
# (`keras.optimizers.schedules.CosineDecay` with `warmup_steps`). Large steps early explore, tiny
# steps at the end settle into a good minimum; one-cycle schedules behave alike.
# **Label smoothing** replaces the one-hot target 1.0 by 0.9 (and 0 by 0.1/10), discouraging
# over-confident logits; it often buys a few tenths of a percent on small images.

# %%
steps_per_epoch = int(np.ceil(len(x_train) / 128))
schedule = keras.optimizers.schedules.CosineDecay(
    1e-4, decay_steps=7 * steps_per_epoch, warmup_target=3e-3, warmup_steps=steps_per_epoch)
lr = [float(schedule(s)) for s in range(0, 8 * steps_per_epoch, 10)]
plt.figure(figsize=(5, 2))
plt.plot(np.arange(len(lr)) * 10 / steps_per_epoch, lr)
plt.xlabel("epoch")
plt.ylabel("learning rate")
plt.show()
smooth = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)
onehot = keras.utils.to_categorical([3], 10)
confident = np.full((1, 10), 1e-4)
confident[0, 3] = 1 - 9e-4
print(f"peak learning rate {max(lr):.4f}; smoothed target for the true class: "
      f"{1 - 0.1 + 0.1 / 10:.2f}; loss of a 99.9%-confident right answer: "
      f"{float(keras.losses.CategoricalCrossentropy()(onehot, confident)):.4f} without, "
      f"{float(smooth(onehot, confident)):.4f} with smoothing")

# %% [markdown]
# **A short experiment.** The same small two-stage CNN, trained on a subset with an identical budget,
# with one technique added at a time; then an *ensemble* that averages the predicted probabilities of
# the four models. Budgets this small are noisy (a different seed can swap neighbouring rows), so read
# the table as a sign of direction, and compare with your own runs on the full training set.

# %%
import time

def small_cnn(batchnorm, augment):
    layers = [keras.Input((28, 28, 1))]
    if augment:
        layers.append(keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant"))
    for filters in (32, 64):
        layers.append(keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batchnorm))
        if batchnorm:
            layers.append(keras.layers.BatchNormalization())
        layers += [keras.layers.ReLU(), keras.layers.MaxPooling2D()]
    layers += [keras.layers.Flatten(), keras.layers.Dropout(0.3),
               keras.layers.Dense(10, activation="softmax")]
    return keras.Sequential(layers)

if PROFILE == "smoke":  # a seconds-long end-to-end check: the experiment needs a real budget
    print("smoke profile: the experiment is left out (cpu and gpu profiles)")
else:
    n_small = {"cpu": 8_000, "gpu": 55_000}[PROFILE]
    small_epochs = {"cpu": 2, "gpu": 8}[PROFILE]
    steps = small_epochs * int(np.ceil(min(n_small, len(x_train)) / 128))
    variants = [("plain (tutorial-style)", False, False, False), ("+ batch normalization", True, False, False),
                ("+ shift augmentation", True, True, False), ("+ warm-up/cosine schedule", True, True, True)]
    val_probs = []
    for name, use_bn, use_aug, use_schedule in variants:
        keras.utils.set_random_seed(0)
        small = small_cnn(use_bn, use_aug)
        warm = steps // max(small_epochs, 4)
        rate = (keras.optimizers.schedules.CosineDecay(1e-4, steps - warm, warmup_target=3e-3,
                                                       warmup_steps=warm) if use_schedule else 1e-3)
        small.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
        t0 = time.perf_counter()
        small.fit(to_input(x_train[:n_small]), y_train[:n_small], epochs=small_epochs, batch_size=128,
                  verbose=0)
        val_probs.append(small.predict(to_input(x_val), verbose=0, batch_size=1000))
        acc = float(np.mean(val_probs[-1].argmax(axis=1) == y_val))
        print(f"{name:28s} validation accuracy {acc:.4f}  ({time.perf_counter() - t0:.0f} s)")
    ensemble_acc = float(np.mean(np.mean(val_probs, axis=0).argmax(axis=1) == y_val))
    print(f"{'ensemble of the four':28s} validation accuracy {ensemble_acc:.4f}")


# %% [markdown]
# **Ensembles** average the predicted probabilities of several independently trained networks (the
# last line above measures it for the four small ones). Their errors differ, so the average corrects
# some of each; the price is the training and prediction cost of every member, which is why it
# belongs to the `gpu` profile.
#
# **How far can one go?** Quoted, not measured here: An et al. (2020, "An Ensemble of Simple
# Convolutional Neural Network Models for MNIST Digit Recognition", arXiv:2008.10400) report up to 99.87 %
# test accuracy for a majority vote of three simple CNNs (batch normalization, rotation and
# translation augmentation, long training), 99.91 % for an ensemble of such ensembles. Some of the
# last errors are digits a person cannot read either (look at the error explorer above). Be wary of
# claims much above that: they are often tuned on the test set.
#
# **Why tuning on the test set is cheating.** Every time you look at the test accuracy and change
# something, the test set leaks into your choices. After enough tries, you have selected the variant
# that happens to fit those 10,000 images, and the number no longer estimates accuracy on new digits.
# Tune on the validation set; report the test set once.

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 (2 points) — preprocessing
#
# `preprocess(images)` takes `uint8` images of shape `(N, 28, 28)` and returns `float32` images of
# shape `(N, 28, 28, 1)` with values in [0, 1] (pixel / 255). The grader feeds the test images to your
# model exactly this way.

# %% nbgrader={"grade": false, "grade_id": "ex1_preprocess", "locked": false, "schema_version": 3, "solution": true, "task": false}
def preprocess(images):
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    ### BEGIN SOLUTION
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., None]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_preprocess", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_p = preprocess(x_train[:5])
assert _p.shape == (5, 28, 28, 1), f"shape should be (5, 28, 28, 1), got {_p.shape}"
assert _p.dtype == np.float32, f"dtype should be float32, got {_p.dtype}"
assert 0.0 <= _p.min() and _p.max() <= 1.0, "values must lie in [0, 1]"
assert np.isclose(_p.max(), 1.0), "255 must become 1.0"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
_rng = np.random.default_rng(909)
_cases = [(_rng.integers(0, 256, size=(_n, 28, 28), dtype=np.uint8),) for _n in (1, 2, 3)]
_probe("preprocess", lambda a: [str(preprocess(a).dtype), list(preprocess(a).shape),
                                preprocess(a)], _cases, rtol=1e-6, atol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 (2 points) — your CNN
#
# `build_model()` returns a new, uncompiled Keras model built from scratch (no pretrained weights,
# no `keras.applications`) with input shape `(28, 28, 1)` and 10 outputs (class probabilities or
# logits), containing convolutional layers. Use only built-in Keras layers (the grader loads your
# saved model with `safe_mode=True`: `Lambda` layers and custom classes are refused). Suggested
# recipe: a shift-augmentation layer, then conv-BN-ReLU blocks with max pooling, flatten, dropout, a
# dense softmax layer.

# %% nbgrader={"grade": false, "grade_id": "ex2_build_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_model(width=24):
    """A CNN for MNIST: shift augmentation, conv-BN-ReLU blocks, max pooling, dropout, softmax."""
    ### BEGIN SOLUTION
    def block(x, filters):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        return keras.layers.ReLU()(x)

    inputs = keras.Input((28, 28, 1))
    x = keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant")(inputs)
    x = block(x, width)
    x = keras.layers.MaxPooling2D()(x)
    x = block(block(x, 2 * width), 2 * width)
    x = keras.layers.MaxPooling2D()(x)
    x = block(x, 4 * width)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.25)(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="mnist_cnn")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_build_model", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_m = build_model()
assert tuple(_m.input_shape[1:]) == (28, 28, 1), f"input shape {_m.input_shape}"
assert _m.output_shape[-1] == 10, f"output shape {_m.output_shape}"
assert any("Conv" in type(_l).__name__ for _l in _m.layers), "a CNN needs convolutional layers"
print(f"Visible tests passed: {_m.count_params():,} parameters.")
### BEGIN HIDDEN TESTS
from course.probe import probe as _probe
def _interface(_unused):
    _mm = build_model()
    return [list(_mm.input_shape[1:]), _mm.output_shape[-1],
            any("Conv" in type(_l).__name__ for _l in _mm.layers),
            _mm.count_params() < 5_000_000, len(_mm.weights) > 0]
_probe("build_model", _interface, [(0,)])
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3 (10 points) — train, save, report
#
# Train your model on `x_train`/`y_train` only (validation on `x_val`), within your profile's budget,
# then save it with `model.save("mnist_model.keras")` and evaluate it **once** on the test set. The
# grader re-runs this notebook and evaluates the saved file itself. A reasonable budget: a few
# minutes on a 2-core CPU (`cpu` profile); longer and wider on a GPU.

# %% nbgrader={"grade": false, "grade_id": "ex3_train", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
EPOCHS = {"cpu": 8, "gpu": 30, "smoke": 1}[PROFILE]
WIDTH = {"cpu": 24, "gpu": 64, "smoke": 8}[PROFILE]
BATCH = 128
keras.utils.set_random_seed(42)
model = build_model(WIDTH)
steps = EPOCHS * int(np.ceil(len(x_train) / BATCH))
warmup = steps // max(EPOCHS, 4)  # one epoch (a quarter of a 1-epoch run)
schedule = keras.optimizers.schedules.CosineDecay(
    1e-4, decay_steps=steps - warmup, warmup_target=3e-3, warmup_steps=warmup)
model.compile(keras.optimizers.Adam(schedule),
              keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])
live = LiveHistory(title=f"final model ({PROFILE} profile)")
display(live.widget)
model.fit(preprocess(x_train), keras.utils.to_categorical(y_train, 10),
          validation_data=(preprocess(x_val), keras.utils.to_categorical(y_val, 10)),
          epochs=EPOCHS, batch_size=BATCH, verbose=0, callbacks=[live])
### END SOLUTION
model.save("mnist_model.keras")
test_accuracy = float(np.mean(model.predict(preprocess(x_test), verbose=0, batch_size=1000)
                              .argmax(axis=1) == y_test))
what = "stand-in (graded run)" if test_set_withheld("mnist") else "test"
print(f"saved mnist_model.keras ({model.count_params():,} parameters); "
      f"{what} accuracy {test_accuracy:.4f} (the grader measures the test accuracy itself)")

# %% nbgrader={"grade": true, "grade_id": "test_model_file", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
import os
assert os.path.isfile("mnist_model.keras"), "save your model with model.save('mnist_model.keras')"
print("mnist_model.keras saved; the grader measures its test accuracy.")
### BEGIN HIDDEN TESTS
from course.probe import probe_model as _probe_model
_probe_model("mnist_model", "mnist_model.keras", "ch09_mnist")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "written_prompt", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 4 (3 points, graded by your instructor) — the test set
#
# (a) Which techniques moved your validation accuracy the most, and by how much (your numbers)?
# (b) A classmate reports 99.9 % after trying 40 variants and keeping the best *test* accuracy.
# Why is this number not trustworthy, and what should they have done?

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_answer", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# (a) Depends on the student's runs; expect batch normalization plus a warm-up/cosine schedule and
# augmentation (small shifts) to matter most, label smoothing a little.
# (b) Choosing among 40 variants by test accuracy fits the test set: the maximum of 40 noisy
# estimates is biased upwards (the standard error of an accuracy near 99.6 % on 10,000 images is about
# 0.06 %, so the luckiest of 40 variants gains several tenths). They should select on a validation
# split (or cross-validation) and evaluate the chosen model once on the test set.
# ### END SOLUTION
