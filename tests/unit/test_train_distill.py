"""Distillation loss on hand-computed cases, and its T^2 scaling."""
import math

import numpy as np
import pytest

from tinyml.core import tfcompat
from tinyml.train.distill import distillation_loss, make_loss, pack_targets


def _loss(y, s, t, T, alpha):
    return distillation_loss(np.array(y), np.array(s, np.float32), np.array(t, np.float32), T, alpha).numpy()


def test_known_case_T1():
    # teacher [0,0] -> p = [1/2, 1/2]; student [ln 3, 0] -> q = [3/4, 1/4]
    # KL(p||q) = 1/2 ln(4/3) = 0.143841036;  CE(y=0) = -ln(3/4) = 0.287682072
    # alpha = 0.5, T = 1: 0.5 * 0.143841036 + 0.5 * 0.287682072 = 0.215761554
    out = _loss([0], [[math.log(3.0), 0.0]], [[0.0, 0.0]], 1.0, 0.5)
    assert out.shape == (1,)
    assert out[0] == pytest.approx(0.215761554, abs=1e-6)


def test_known_case_T2_soft_only():
    # T = 2: q = softmax([ln 3 / 2, 0]) = [sqrt3/(sqrt3+1), 1/(sqrt3+1)] = [0.633974596, 0.366025404]
    # KL(p||q) = 1/2 ln(0.25 / (0.633974596 * 0.366025404)) = 0.037252286
    # alpha = 1 -> T^2 * KL = 4 * 0.037252286 = 0.149009144 (label is ignored)
    out = _loss([1], [[math.log(3.0), 0.0]], [[0.0, 0.0]], 2.0, 1.0)
    assert out[0] == pytest.approx(0.149009144, abs=1e-6)


def test_alpha_zero_is_cross_entropy():
    out = _loss([1, 0], [[math.log(3.0), 0.0], [2.0, 0.0]], [[5.0, -5.0], [0.0, 9.0]], 3.0, 0.0)
    assert out[0] == pytest.approx(-math.log(0.25), abs=1e-6)
    assert out[1] == pytest.approx(-math.log(math.exp(2) / (math.exp(2) + 1)), abs=1e-6)


@pytest.mark.parametrize("T", [1.0, 4.0, 10.0])
def test_T_squared_scaling_of_soft_gradient(T):
    # d/ds [T^2 KL(softmax(t/T) || softmax(s/T))] = T * (softmax(s/T) - softmax(t/T)):
    # the T^2 factor cancels the 1/T^2 shrinking of the soft gradients.
    tf = tfcompat.tf()
    rng = np.random.default_rng(0)
    s = tf.Variable(rng.normal(size=(3, 5)).astype(np.float32))
    t = rng.normal(size=(3, 5)).astype(np.float32) * 3
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(distillation_loss(np.zeros(3), s, t, T, 1.0))
    g = tape.gradient(loss, s).numpy()
    sm = lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)  # noqa: E731
    expect = T * (sm(s.numpy() / T) - sm(t / T))
    np.testing.assert_allclose(g, expect, atol=1e-5)


def test_packed_keras_loss_matches_function():
    y = np.array([2, 0])
    s = np.array([[0.1, 0.2, 3.0], [1.0, -1.0, 0.5]], np.float32)
    t = np.array([[0.0, 1.0, 4.0], [2.0, 0.0, 0.0]], np.float32)
    packed = pack_targets(y, t, 3)
    assert packed.shape == (2, 6)
    got = make_loss(3, 2.5, 0.7)(packed, s).numpy()
    np.testing.assert_allclose(got, distillation_loss(y, s, t, 2.5, 0.7).numpy(), rtol=1e-6)
