"""Chapter 9 helpers: data splits for display, live training curves, error analysis.

These are lesson tools, not answers: the model, its training recipe, the
preprocessing and the split are yours to write in the notebook.

* :class:`LiveHistory` — a Keras callback that redraws loss and accuracy
  curves in an ipywidgets ``Output`` while ``fit`` runs (any Keras backend).
* :func:`confusion_matrix` and :func:`plot_confusion_matrix`.
* :func:`error_explorer` — a widget: confusion matrix plus a gallery of
  misclassified digits, filtered by true and predicted class.
"""

from __future__ import annotations

import time

import numpy as np

MODEL_FILE = "mnist_model.keras"
"""The file name the grader evaluates, in the assignment folder."""


def _keras_callback_base():
    import keras

    return keras.callbacks.Callback


class LiveHistory(_keras_callback_base()):
    """Redraw training curves in a widget every ``every`` batches and at each epoch end.

    ``history.widget`` is the ipywidgets box to display; ``history.records``
    keeps ``(epoch_float, metrics)`` tuples, ``history.epoch_times`` the
    wall time of each epoch.
    """

    def __init__(self, every: int = 100, title: str = "training"):
        super().__init__()
        import ipywidgets as w

        self.every, self.title = every, title
        self.out = w.Output()
        self.status = w.HTML()
        self.status.add_class("cnn-live-status")
        self.widget = w.VBox([self.status, self.out])
        self.batch_records: list[tuple[float, dict]] = []
        self.records: list[tuple[int, dict]] = []
        self.epoch_times: list[float] = []
        self._steps = 1
        self._epoch = 0
        self._t0 = time.perf_counter()

    def on_train_begin(self, logs=None):
        self._steps = max(1, int(self.params.get("steps") or 1))
        self._t0 = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_t0 = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if logs and (batch + 1) % self.every == 0:
            self.batch_records.append((self._epoch + (batch + 1) / self._steps, dict(logs)))
            self._draw(in_epoch=(batch + 1) / self._steps)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_times.append(time.perf_counter() - self._epoch_t0)
        self.records.append((epoch + 1, {k: float(v) for k, v in (logs or {}).items()}))
        self._draw()

    def _draw(self, in_epoch: float | None = None):
        """Redraw; ``in_epoch`` is the share of the current epoch done (None at an epoch's end)."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        last = self.records[-1][1] if self.records else {}
        if in_epoch is None:
            progress = f"epoch {len(self.records)} done"
        else:
            progress = f"epoch {self._epoch + 1} of {self.params.get('epochs', '?')}, {in_epoch:.0%}"
        self.status.value = (
            f"<b>{self.title}</b>: {progress}, {time.perf_counter() - self._t0:.0f} s"
            + (f", val accuracy <span class='cnn-val-acc'>{last['val_accuracy']:.4f}</span>"
               if "val_accuracy" in last else ""))
        with self.out:
            self.out.clear_output(wait=True)
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
            for key, ax in (("loss", ax1), ("accuracy", ax2)):
                if self.batch_records:
                    ax.plot([e for e, _ in self.batch_records],
                            [m.get(key, np.nan) for _, m in self.batch_records],
                            alpha=0.4, label=f"train {key} (running)")
                if self.records:
                    ax.plot([e for e, _ in self.records], [m.get(f"val_{key}", np.nan)
                                                           for _, m in self.records],
                            "o-", label=f"validation {key}")
                ax.set_xlabel("epoch")
                ax.set_title(key)
                ax.legend(fontsize=8)
            fig.tight_layout()
            display(fig)
            plt.close(fig)


def confusion_matrix(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """``counts[true, predicted]`` as an int array (rows: true class)."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts


def plot_confusion_matrix(counts: np.ndarray, ax=None):
    """Draw a confusion matrix with the off-diagonal counts written in."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    off = counts.copy()
    np.fill_diagonal(off, 0)
    ax.imshow(off, cmap="Reds")
    for (i, j), v in np.ndenumerate(counts):
        if v and i != j:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_xticks(range(len(counts)))
    ax.set_yticks(range(len(counts)))
    ax.set_title(f"errors: {off.sum()} of {counts.sum()}")
    return ax


def error_explorer(images, y_true, y_pred, max_images: int = 24):
    """Widget: confusion matrix and the misclassified digits for a chosen true/predicted pair.

    Shows at most ``max_images`` digits (capped at 32, the gallery's 4 × 8 grid).
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    images, y_true, y_pred = np.asarray(images), np.asarray(y_true), np.asarray(y_pred)
    options = [("any", -1)] + [(str(c), c) for c in range(10)]
    true_dd = w.Dropdown(options=options, value=-1, description="True")
    pred_dd = w.Dropdown(options=options, value=-1, description="Predicted")
    count = w.HTML()
    count.add_class("cnn-error-count")
    out = w.Output()

    def update(_=None):
        wrong = y_true != y_pred
        if true_dd.value >= 0:
            wrong &= y_true == true_dd.value
        if pred_dd.value >= 0:
            wrong &= y_pred == pred_dd.value
        idx = np.flatnonzero(wrong)
        count.value = f"<span class='cnn-errors'>{len(idx)}</span> misclassified image(s) selected"
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=(10, 4))
            plot_confusion_matrix(confusion_matrix(y_true, y_pred), fig.add_subplot(1, 3, 1))
            for k, i in enumerate(idx[:min(max_images, 32)]):
                ax = fig.add_subplot(4, 12, 12 * (k // 8) + 5 + k % 8)
                ax.imshow(images[i].squeeze(), cmap="gray_r")
                ax.set_title(f"{y_true[i]}→{y_pred[i]}", fontsize=7)
                ax.axis("off")
            display(fig)
            plt.close(fig)

    true_dd.observe(update, names="value")
    pred_dd.observe(update, names="value")
    update()
    return w.VBox([w.HBox([true_dd, pred_dd, count]), out])
