"""AOT SUB, MUL, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE and PRELU: same shapes, broadcasting (per channel, per
row, scalar), a constant operand and fused activations, bit-exact against the TFLM
host runtime on inputs that cover every int8 value of each operand."""
from __future__ import annotations

import numpy as np
import pytest

from aot_harness import assert_bit_exact, to_int8_tflite


def _k():
    from tinyml.core.tfcompat import keras, seed_everything, tf
    seed_everything(0)
    return keras(), tf()


def _all_pairs(shape: tuple[int, ...], n: int = 6, seed: int = 0) -> np.ndarray:
    """Inputs whose bytes sweep every int8 value (shuffled), so both operands of each
    elementwise pair take all values over the batch."""
    size = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    vals = np.resize(np.arange(-128, 128, dtype=np.int16), n * size)
    return rng.permutation(vals).astype(np.int8).reshape(n, *shape)


def _two_branch(k, tf, kind: str, shape, mode: str, act: str | None):
    """x and a conv / mean / constant of x combined by `kind`: two differently
    quantized operands, the second broadcast per `mode`."""
    L = k.layers
    inp = k.Input(shape)
    c = shape[-1]
    if mode == "same":
        other = L.Conv2D(c, 1, name="branch")(inp)
    elif mode == "chan":           # [1, 1, 1, C] against [1, H, W, C]
        other = L.Lambda(lambda v: tf.reduce_mean(v, axis=[1, 2], keepdims=True), name="m")(inp)
        other = L.Conv2D(c, 1, name="branch")(other)
    elif mode == "row":            # [1, H, 1, C]
        other = L.Lambda(lambda v: tf.reduce_mean(v, axis=[2], keepdims=True), name="m")(inp)
    else:                          # a constant operand
        const = np.random.default_rng(3).normal(0, 1.5, (c,)).astype(np.float32)
        other = None
    ops = {"SUB": lambda a, b: a - b, "MUL": lambda a, b: a * b,
           "MAXIMUM": tf.maximum, "MINIMUM": tf.minimum,
           "SQUARED_DIFFERENCE": tf.math.squared_difference}
    if other is None:
        y = L.Lambda(lambda v, c0=const: ops[kind](v, c0), name="op")(inp)
    else:
        first, second = (inp, other) if mode != "row" else (other, inp)
        y = L.Lambda(lambda vs: ops[kind](vs[0], vs[1]), name="op")([first, second])
    if act:
        y = L.Activation(act, name="act")(y)
    return k.Model(inp, y)


CASES = [(kind, mode, act)
         for kind in ("SUB", "MUL", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE")
         for mode in ("same", "chan", "row", "const") for act in (None, "relu")
         if not (act and kind in ("MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE"))]


@pytest.mark.parametrize("kind,mode,act", CASES)
def test_binary_bit_exact(kind, mode, act):
    k, tf = _k()
    shape = (5, 6, 3)
    for lo, hi in [(-1.0, 1.0), (-0.3, 2.5)]:
        m = _two_branch(k, tf, kind, shape, mode, act)
        rep = np.random.default_rng(1).uniform(lo, hi, size=(24, *shape)).astype(np.float32)
        tfl = to_int8_tflite(m, rep)
        res = assert_bit_exact(tfl, inputs=_all_pairs(shape))
        assert kind in res.ops, res.ops


def test_sub_large_takes_the_fast_paths():
    """A same-shape SUB of 1024+ elements goes through the proven linear form or the
    negated tables: still bit-exact."""
    k, tf = _k()
    shape = (16, 16, 4)
    m = _two_branch(k, tf, "SUB", shape, "same", None)
    rep = np.random.default_rng(1).uniform(-1, 1, size=(24, *shape)).astype(np.float32)
    res = assert_bit_exact(to_int8_tflite(m, rep), inputs=_all_pairs(shape, n=2))
    c = res.files["tm_aot_model.c"]
    assert "tm_k_add_lin(" in c or "tm_k_add_lut(" in c


@pytest.mark.parametrize("shared", [(1, 2), (), (1,)])
def test_prelu_bit_exact(shared):
    """Keras PReLU with slopes shared over space, per element, and per row: negative,
    fractional and steeper-than-one slopes (a trained PReLU has all three)."""
    k, _ = _k()
    L = k.layers
    shape = (5, 6, 4)
    inp = k.Input(shape)
    h = L.Conv2D(4, 1, name="conv")(inp)
    pr = L.PReLU(shared_axes=list(shared) or None, name="prelu")
    y = pr(h)
    m = k.Model(inp, y)
    alpha = pr.get_weights()[0]
    pr.set_weights([np.random.default_rng(2).uniform(-0.7, 1.6, alpha.shape).astype(np.float32)])
    rep = np.random.default_rng(1).uniform(-1, 1, size=(24, *shape)).astype(np.float32)
    res = assert_bit_exact(to_int8_tflite(m, rep), inputs=_all_pairs(shape))
    assert "PRELU" in res.ops, res.ops
