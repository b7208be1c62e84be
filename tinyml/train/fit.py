"""Seeded Keras training with an epoch progress bar and early stopping on
validation accuracy (best weights restored)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core import tfcompat


PROGRESS_EVERY_S = 10.0   # seconds between progress lines when stderr is not a terminal


def _progress_callback(keras: Any, epochs: int, desc: str) -> Any:
    """Epoch progress through `tinyml.core.progress`: a bar on a terminal, a line
    every ~10 s otherwise (CI logs, pipes)."""
    from ..core.progress import Progress

    class _Epochs(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.p = Progress(desc, total=epochs, unit="epoch", every_s=PROGRESS_EVERY_S)

        def on_epoch_end(self, epoch, logs=None):
            self.p.update(1)

        def on_train_end(self, logs=None):
            self.p.close()

    return _Epochs()


class _BestWeights:
    """Early stopping on a metric, keeping the weights of the best epoch. Written
    out (rather than keras' EarlyStopping) so that ties go to the later epoch and
    `min_epoch` can hold it off while pruning is still ramping up."""

    def __new__(cls, keras: Any, monitor: str, patience: int | None, min_epoch: int,
                restore: bool = True) -> Any:
        class _Cb(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.best, self.best_w, self.wait, self.best_epoch = -np.inf, None, 0, -1

            def on_epoch_end(self, epoch, logs=None):
                v = (logs or {}).get(monitor)
                if v is None or epoch < min_epoch:
                    return
                if v >= self.best:
                    self.best, self.best_w, self.wait, self.best_epoch = v, self.model.get_weights(), 0, epoch
                else:
                    self.wait += 1
                    if patience is not None and self.wait > patience:
                        self.model.stop_training = True

            def on_train_end(self, logs=None):
                if restore and self.best_w is not None:
                    self.model.set_weights(self.best_w)

        return _Cb()


def classification_loss(num_classes: int, label_smoothing: float = 0.0) -> Any:
    """Cross-entropy on logits and integer labels, with optional label smoothing
    (the target is (1 - ls) * one_hot + ls / num_classes)."""
    keras = tfcompat.keras()
    if not label_smoothing:
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    tf = tfcompat.tf()
    ls = float(label_smoothing)

    def smoothed_ce(y_true, logits):
        y = tf.one_hot(tf.reshape(tf.cast(y_true, tf.int32), [-1]), num_classes)
        return keras.losses.categorical_crossentropy(y, logits, from_logits=True, label_smoothing=ls)

    smoothed_ce.__name__ = "smoothed_ce"
    return smoothed_ce


def accuracy_metric(num_classes: int | None = None) -> Any:
    """Top-1 accuracy on integer labels; with `num_classes` the targets are packed
    distillation targets [one-hot | teacher logits] (see distill.pack_targets)."""
    tf = tfcompat.tf()

    def acc(y_true, y_pred):
        if num_classes is None:
            labels = tf.reshape(tf.cast(y_true, tf.int64), [-1])
        else:
            labels = tf.argmax(y_true[:, :num_classes], axis=-1)
        # Per-sample values so Keras averages over samples, not over batches.
        return tf.cast(tf.equal(labels, tf.argmax(y_pred, axis=-1)), tf.float32)

    acc.__name__ = "acc"
    return acc


def train(model: Any, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, *,
          loss: Any, epochs: int, batch_size: int, learning_rate: float, seed: int,
          metric: Any = None, callbacks: list | None = None, patience: int | None = None,
          min_epoch: int = 0, restore_best: bool = True, cosine: bool = True, progress: bool = False, desc: str = "train",
          compile_model: bool = True) -> dict[str, Any]:
    """Compile (Adam, optional cosine decay) and fit `model`; return the history summary.

    `y`/`y_val` may be integer labels or packed distillation targets; `metric`
    decides how accuracy is read from them. `progress` shows epochs (see
    `_progress_callback`); tests leave it off.
    """
    keras = tfcompat.keras()
    tf = tfcompat.tf()
    tfcompat.seed_everything(seed)
    steps = int(np.ceil(len(x) / batch_size)) * epochs
    lr = (keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(steps, 1), alpha=0.02)
          if cosine else learning_rate)
    # Small models spend most of a step in Python and graph-call overhead: run a
    # whole epoch per graph call unless a callback (pruning) needs every step.
    per_step = bool(callbacks)
    if compile_model:
        model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss,
                      metrics=[metric or accuracy_metric()],
                      steps_per_execution=1 if per_step else int(np.ceil(len(x) / batch_size)))
    cbs = list(callbacks or [])
    best = _BestWeights(keras, "val_acc", patience, min_epoch, restore_best)
    cbs.append(best)
    if progress:
        cbs.append(_progress_callback(keras, epochs, desc))
    # Shuffle with our own seeded generator so runs repeat exactly.
    ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
          .batch(batch_size))
    # Built once (numpy validation data would be wrapped anew every epoch).
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(256).cache()
    hist = model.fit(ds, validation_data=val, epochs=epochs, verbose=0, callbacks=cbs)
    h = hist.history
    return {"epochs_run": len(h.get("loss", [])), "best_epoch": int(best.best_epoch) + 1,
            "best_val_acc": float(best.best) if np.isfinite(best.best) else None,
            "final_loss": float(h["loss"][-1]) if h.get("loss") else None}


def accuracy(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(pred, axis=1) == y))


def logits(model: Any, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
