"""AOT BATCH_MATMUL (tf.matmul of two activations, as in attention): plain,
transposed operands (adj_x, adj_y: q.k^T), 4-D with a broadcast batch dim and a
constant operand, bit-exact against the TFLM host runtime."""
from __future__ import annotations

import numpy as np
import pytest

from aot_harness import assert_bit_exact, to_int8_tflite

SHAPE = (6, 8)


def _graphs(tf):
    r4 = lambda v, s: tf.reshape(v, (1, *s))  # noqa: E731
    const = np.random.default_rng(5).normal(0, 1, (3, 8, 5)).astype(np.float32)
    return {
        "plain": lambda a, b: tf.matmul(a, tf.transpose(b, (0, 2, 1))[:, :, :5]),
        "qkT": lambda a, b: tf.matmul(a, b, transpose_b=True),           # adj_y
        "aTb": lambda a, b: tf.matmul(a, b, transpose_a=True),           # adj_x
        "bcast": lambda a, b: tf.matmul(r4(a, (2, 6, 4)), r4(b, (1, 4, 12))),
        "const": lambda a, b: tf.matmul(tf.stack([a[0] + b[0]] * 3), const),
    }


@pytest.mark.parametrize("name", ["plain", "qkT", "aTb", "bcast", "const"])
def test_batch_matmul_bit_exact(name):
    from tinyml.core.tfcompat import keras, seed_everything, tf
    seed_everything(0)
    k, t = keras(), tf()
    L = k.layers
    inp = k.Input(SHAPE, batch_size=1)
    q = L.Dense(8, name="q")(inp)
    kk = L.Dense(8, name="k")(inp)
    y = L.Lambda(lambda v: _graphs(t)[name](v[0], v[1]), name="mm")([q, kk])
    m = k.Model(inp, L.Flatten(name="flat")(y))
    rep = np.random.default_rng(1).uniform(-1, 1, size=(24, *SHAPE)).astype(np.float32)
    res = assert_bit_exact(to_int8_tflite(m, rep), n_inputs=4)
    assert "BATCH_MATMUL" in res.ops, res.ops
