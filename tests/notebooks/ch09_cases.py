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

TUTORIAL_TRAIN = '''
keras.utils.set_random_seed(1)
model = build_model()
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(preprocess(x_train), y_train, validation_data=(preprocess(x_val), y_val),
          epochs=3, batch_size=128, verbose=0)
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
