"""Chapter 9 submissions: the tutorial CNN, and attacks on the model grading."""

from __future__ import annotations

SAVE = '''
model.save("mnist_model.keras")
'''

TUTORIAL_MODEL = '''
def build_model(width=None):
    """The seed-style tutorial CNN: Conv32-Pool-Conv64-Pool-Dense128-Dropout."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5), keras.layers.Dense(10, activation="softmax"),
    ])
'''

# All 60,000 training images (validation split included), so that it trains the same whatever
# the profile: the grading test grades it in the seconds-long smoke profile, whose lessons
# shorten ``x_train`` to 1,000 images.
TUTORIAL_TRAIN = '''
keras.utils.set_random_seed(1)
model = build_model()
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(preprocess(x_train_full), y_train_full, epochs=2, batch_size=128, verbose=0)
''' + SAVE

# Each: solution-cell overrides, and the message the model cell's feedback must contain.
ATTACKS = {
    # Prints a great accuracy and saves nothing.
    "printed_accuracy": ({"ex3_train": 'print("test accuracy 0.9990")\nmodel = None\n'},
                         "save your model"),
    # A Lambda layer carries Python code: refused by safe_mode.
    "lambda_layer": ({"ex3_train": '''
model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3),
                          keras.layers.Lambda(lambda t: t * 1.0), keras.layers.Flatten(),
                          keras.layers.Dense(10, activation="softmax")])
''' + SAVE}, "could not be loaded safely"),
    # Not a CNN at all.
    "dense_only": ({"ex3_train": '''
model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                          keras.layers.Dense(10, activation="softmax")])
''' + SAVE}, "no convolutional layer"),
    # A symbolic link instead of a file (pointing outside the submission).
    "symlink": ({"ex3_train": '''
import os
model = None
os.symlink("/etc/os-release", "mnist_model.keras")
'''}, "symbolic link"),
    # Far larger than anything built from scratch here (a stand-in for a pretrained backbone).
    "oversized": ({"ex3_train": '''
model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(64, 3, padding="same"),
                          keras.layers.Flatten(), keras.layers.Dense(128),
                          keras.layers.Dense(10, activation="softmax")])
''' + SAVE}, "parameters, more than the 5,000,000 allowed"),
}

# A "model" that memorizes the images it is given: 1-nearest-neighbour on 14x14 thumbnails, its
# weights the images themselves (no training).  Built from the real test set it scores ~100 %;
# built from what a graded kernel holds (training images only) it stays far below the 98 % that
# earns the first point.  The code stays at top level so that the dataflow flags can see it.
MEMORIZE = '''
import numpy as np
thumbs = IMAGES.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(len(IMAGES), -1) / 255.0
thumbs = thumbs / np.linalg.norm(thumbs, axis=1, keepdims=True)
model = keras.Sequential([
    keras.Input((28, 28, 1)), keras.layers.Conv2D(1, 1, use_bias=False),
    keras.layers.AveragePooling2D(2), keras.layers.Flatten(), keras.layers.UnitNormalization(),
    keras.layers.Dense(len(thumbs)), keras.layers.Activation("exponential"),
    keras.layers.Dense(10, use_bias=False)])
model.layers[0].set_weights([np.ones((1, 1, 1, 1))])
model.layers[4].set_weights([400.0 * thumbs.T, -400.0 * np.ones(len(thumbs))])
model.layers[6].set_weights([np.eye(10)[LABELS]])
'''


def memorizer(images: str, labels: str) -> str:
    """The memorizing model's code, built from the arrays named ``images`` and ``labels``."""
    return MEMORIZE.replace("IMAGES", images).replace("LABELS", labels)


DATA_FILES = '''
import glob, gzip, importlib.util, os, pickle
import numpy as np
x_real = None
spec = importlib.util.find_spec("mnist")
candidates = [os.path.join(p, "data", "mnist.pkl.gz") for p in (spec.submodule_search_locations or [])]
for path in candidates:  # the packaged copy, read past course.data
    with gzip.open(path, "rb") as handle:
        _, _, (x_real, y_real) = pickle.load(handle, encoding="latin1")
    x_real, y_real = (x_real.reshape(-1, 28, 28) * 256).round().astype("uint8"), y_real
for path in glob.glob(os.path.join(os.environ.get("KERAS_HOME", "~/.keras"), "datasets", "*.npz")):
    with np.load(path) as npz:
        x_real, y_real = npz["x_test"], npz["y_test"]
''' + memorizer("x_real", "y_real") + SAVE

# Attacks on model credit that are blocked before grading (issue: trained-model credit that cannot
# be bought).  Each: (solution-cell overrides, files beside the notebook or None, a phrase of the
# model cell's verdict, a phrase of a tamper flag, a phrase of the feedback notice or None).
# "BESIDE" stands for a memorizing model of the real test set, built by the test (see
# test_ch09_grading.beside_model), which the grader itself rates at full marks.
BLOCKED = {
    # The memorizer built from x_test: in a graded run x_test is a stand-in of training images.
    "memorize_test_set": ({"ex3_train": memorizer("x_test", "y_test") + SAVE}, None,
                          "measured by the grader", "sets model weights from the test set",
                          "The grader holds the MNIST test set"),
    # Training on the test split under other names.
    "train_on_test_renamed": ({"ex3_train": '''
(imgs, labs) = load_mnist()[1]
model = build_model()
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(preprocess(imgs[:2000]), labs[:2000], epochs=1, verbose=0)
''' + SAVE}, None, "measured by the grader", "trains on the test set", None),
    # Reading the test set from the data files directly (packaged copy, Keras cache).
    "reads_data_files": ({"ex3_train": DATA_FILES}, None, "no model file named",
                         "reads a data set file directly", None),
    # A model trained elsewhere, submitted beside the notebook and loaded.
    "model_beside_notebook": ({"ex3_train": 'model = keras.models.load_model("my_best.keras")\n' + SAVE},
                              {"my_best.keras": "BESIDE"}, "no model file named",
                              "files submitted beside the notebook: my_best.keras",
                              "were not available to the graded run"),
    # The graded file itself, submitted beside the notebook; the notebook saves nothing.
    "graded_file_beside": ({"ex3_train": "model = None\n"}, {"mnist_model.keras": "BESIDE"},
                           "no model file named", "files submitted beside the notebook: mnist_model.keras",
                           "were not available to the graded run"),
    # Weights pasted into a cell as a base64 blob (48 kB of data, far over the cell limit).
    "pasted_weights": ({"ex3_train": "import base64, io\nBLOB = '" + "QUJD" * 12_000 + "'\n"
                        "model = keras.models.load_model(io.BytesIO(base64.b64decode(BLOB)))\n" + SAVE},
                       None, "no model file named", "oversized cell", "it was not run"),
    # The model file written by an earlier cell; the training cell itself saves nothing.
    "premade_model": ({"ex2_build_model": 'import keras\nkeras.Sequential([keras.Input((28, 28, 1)), '
                       'keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(10)])'
                       '.save("mnist_model.keras")\n', "ex3_train": "model = None\n"}, None,
                      "no model file named", "model file before training",
                      "already existed before cell"),
    # The notebook file read back (a blob could hide in a markdown cell or in metadata).
    "reads_own_notebook": ({"ex3_train": 'import json\nnb = json.load(open("ch09_mnist.ipynb"))\n'
                            'model = None\n'}, None, "no model file named", None, None),
}
