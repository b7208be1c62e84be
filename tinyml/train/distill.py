"""Hinton knowledge distillation against precomputed teacher logits.

loss = alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(y, s)

The T^2 factor keeps the soft term's gradients (which scale as 1/T^2) on the
same scale as the hard term whatever the temperature.

Training: the teacher's logits are computed once and packed with the one-hot
labels into the target tensor, `[one_hot(y) | teacher_logits]`. The student is
then an ordinary Keras model trained with `DistillationLoss`, so `model.fit`,
the pruning callbacks and QAT wrappers all work unchanged.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core import tfcompat
from . import fit


def distillation_loss(y_true: Any, student_logits: Any, teacher_logits: Any,
                      temperature: float, alpha: float) -> Any:
    """Per-sample loss (shape [batch]). `y_true` holds integer labels."""
    tf = tfcompat.tf()
    s = tf.convert_to_tensor(student_logits, tf.float32)
    t = tf.convert_to_tensor(teacher_logits, tf.float32)
    y = tf.reshape(tf.cast(y_true, tf.int32), [-1])
    T = float(temperature)
    p_t = tf.nn.softmax(t / T)
    log_p_t = tf.nn.log_softmax(t / T)
    log_p_s = tf.nn.log_softmax(s / T)
    kl = tf.reduce_sum(p_t * (log_p_t - log_p_s), axis=-1)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=s)
    return alpha * T * T * kl + (1.0 - alpha) * ce


def pack_targets(y: np.ndarray, teacher_logits: np.ndarray, num_classes: int) -> np.ndarray:
    """[one_hot(y) | teacher_logits] as float32, the target format of DistillationLoss."""
    onehot = np.eye(num_classes, dtype=np.float32)[np.asarray(y, dtype=np.int64)]
    return np.concatenate([onehot, np.asarray(teacher_logits, np.float32)], axis=1)


def make_loss(num_classes: int, temperature: float, alpha: float) -> Any:
    """A Keras loss reading packed targets (see `pack_targets`)."""
    tf = tfcompat.tf()

    def distill(y_packed, student_logits):
        y = tf.argmax(y_packed[:, :num_classes], axis=-1)
        t = y_packed[:, num_classes:]
        return distillation_loss(y, student_logits, t, temperature, alpha)

    distill.__name__ = "distill"
    return distill


class Distiller:
    """Trains a student against a teacher's precomputed logits."""

    def __init__(self, teacher_logits_train: np.ndarray, teacher_logits_val: np.ndarray,
                 num_classes: int, temperature: float, alpha: float):
        self.t_train = teacher_logits_train
        self.t_val = teacher_logits_val
        self.num_classes = num_classes
        self.temperature = temperature
        self.alpha = alpha

    @classmethod
    def from_teacher(cls, teacher: Any, x_train: np.ndarray, x_val: np.ndarray, num_classes: int,
                     temperature: float, alpha: float) -> "Distiller":
        return cls(fit.logits(teacher, x_train), fit.logits(teacher, x_val), num_classes, temperature, alpha)

    def loss(self) -> Any:
        return make_loss(self.num_classes, self.temperature, self.alpha)

    def metric(self) -> Any:
        return fit.accuracy_metric(self.num_classes)

    def fit(self, student: Any, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
            **train_kwargs: Any) -> dict[str, Any]:
        """`fit.train` with distillation targets; kwargs as for `fit.train`."""
        yp = pack_targets(y, self.t_train, self.num_classes)
        yvp = pack_targets(y_val, self.t_val, self.num_classes)
        return fit.train(student, x, yp, x_val, yvp, loss=self.loss(), metric=self.metric(), **train_kwargs)
