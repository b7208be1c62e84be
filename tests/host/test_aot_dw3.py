"""tm_k_dwconv_3x3 (3x3 depthwise, multiplier 1, stride 1 or 2) against the TFLM host
runtime, byte for byte, on its edge shapes: channel counts 1, 3, 5, 7 and 8, 1-row,
1-column and 1-pixel images, odd and even widths and heights, SAME and VALID padding at
strides 1 and 2, every requantization form (TFLM's two roundings, the single rounding
with the activation clamp and with the int8 saturation), and shapes the rule sends to
the generic kernel (dilation, depth multiplier 2, unequal strides). Host gcc runs the
portable reference under UBSan; tests/emu/test_aot_qemu.py runs the same models on the
Cortex-M4 (Arm DSP variant and reference).
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

from aot_harness import assert_bit_exact, op_index, patch_op_options, to_int8_tflite
from tinyml.codegen.aot.ops.depthwise import dw3_rq_form


def _keras():
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(5)
    return keras()


def _chain(shape, layers) -> bytes:
    """A model: input `shape`, then DepthwiseConv2D(3) layers given as (strides, padding,
    activation), then a small dense head."""
    k = _keras()
    L = k.layers
    x = inp = k.Input(shape)
    for s, pad, act in layers:
        x = L.DepthwiseConv2D(3, strides=s, padding=pad, activation=act)(x)
    out = L.Dense(2)(L.Flatten()(x))
    return to_int8_tflite(k.Model(inp, out))


# (input shape, layers): every case reaches tm_k_dwconv_3x3 at least once
CASES = {
    "c5_odd_h_even_w": ((9, 8, 5), [(1, "same", "relu"), (2, "same", None), (1, "valid", "relu6")]),
    "c3_odd_both": ((7, 7, 3), [(2, "same", None), (1, "same", "relu"), (2, "valid", None)]),
    "c7_even_s2": ((8, 6, 7), [(2, "same", "relu6"), (1, "same", None)]),
    "c1_wide": ((5, 11, 1), [(1, "same", None), (2, "same", "relu"), (1, "valid", None)]),
    "c8_kws_like": ((10, 5, 8), [(1, "same", "relu"), (1, "same", "relu")]),
    "one_row": ((1, 9, 4), [(1, "same", None), (2, "same", None)]),
    "one_col": ((9, 1, 6), [(1, "same", "relu"), (2, "same", None)]),
    "one_pixel": ((1, 1, 5), [(1, "same", None), (2, "same", "relu")]),
    "two_by_two": ((2, 2, 3), [(2, "same", None), (1, "same", None)]),
    "valid_to_1px": ((3, 3, 9), [(1, "valid", None)]),
    "valid_s2_to_1px": ((4, 3, 2), [(2, "valid", "relu")]),
}


@functools.lru_cache(maxsize=None)
def dw3_tflite(name: str) -> bytes:
    shape, layers = CASES[name]
    return _chain(shape, layers)


@pytest.mark.parametrize("name", sorted(CASES))
def test_dw3_edges(name):
    res = assert_bit_exact(dw3_tflite(name), n_inputs=4)
    c = res.files["tm_aot_model.c"]
    assert c.count("tm_k_dwconv_3x3(") == len(CASES[name][1])


@functools.lru_cache(maxsize=None)
def generic_shapes_tflite() -> bytes:
    """3x3 depthwise layers the rule leaves to tm_k_dwconv: multiplier 2, strides (1, 2),
    dilation 2."""
    k = _keras()
    L = k.layers
    x = inp = k.Input((7, 8, 3))
    x = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    x = L.DepthwiseConv2D(3, strides=(1, 2), padding="same")(x)
    x = L.DepthwiseConv2D(3, padding="same")(x)          # dilation 2, patched below
    out = L.Dense(2)(L.Flatten()(x))
    tfl = to_int8_tflite(k.Model(inp, out))
    return patch_op_options(tfl, op_index(tfl, "DEPTHWISE_CONV_2D", 2),
                            dilationHFactor=2, dilationWFactor=2)


def test_dw3_rule_leaves_other_shapes_to_the_generic_kernel():
    res = assert_bit_exact(generic_shapes_tflite(), n_inputs=4)
    c = res.files["tm_aot_model.c"]
    assert "tm_k_dwconv_3x3(" not in c and c.count("tm_k_dwconv(") == 3


@functools.lru_cache(maxsize=None)
def dw3_two_roundings_tflite() -> bytes:
    """A 3x3 [+1, -1] depthwise filter on a nearly constant input: outputs near 0, a tiny
    output scale, an effective scale >= 1 (a left shift), so TFLM's two roundings stay
    (rq 0)."""
    k = _keras()
    L = k.layers
    x = inp = k.Input((6, 7, 4))
    dw = L.DepthwiseConv2D(3, padding="valid", use_bias=False)
    x = dw(x)
    out = L.Dense(2)(L.Flatten()(x))
    m = k.Model(inp, out)
    w = np.zeros((3, 3, 4, 1), np.float32)
    w[1, 1], w[1, 2] = 1.0, -1.0
    dw.set_weights([w])
    rng = np.random.default_rng(0)
    base = rng.uniform(-1, 1, (24, 1, 1, 4))
    rep = base + rng.normal(0, 0.0005, (24, 6, 7, 4))
    return to_int8_tflite(m, rep.astype(np.float32))


@functools.lru_cache(maxsize=None)
def dw3_relu_clamp_tflite() -> bytes:
    """A fused RELU patched onto a layer whose output zero point is mid-range: the clamp
    is [out_zp, 127], not the int8 range (rq 1)."""
    tfl = _chain((6, 5, 6), [(1, "same", None), (2, "same", None)])
    for i in (0, 1):
        tfl = patch_op_options(tfl, op_index(tfl, "DEPTHWISE_CONV_2D", i), fusedActivationFunction=1)
    return tfl


def test_dw3_every_requantization_form():
    forms = set()
    for tfl in (dw3_two_roundings_tflite(), dw3_relu_clamp_tflite(), dw3_tflite("c5_odd_h_even_w")):
        res = assert_bit_exact(tfl, n_inputs=4)
        c = res.files["tm_aot_model.c"]
        forms |= {f for f in (0, 1, 2) if f".rq = {f}," in c}
    assert forms == {0, 1, 2}


def test_dw3_rq_form_proof():
    """The single rounding is refused when a channel's multiplier is <= 2^30, r < 1 or
    the int32 steps could overflow; granted otherwise (2 for the int8 clamp)."""
    m = (1 << 30) + 12345
    assert dw3_rq_form([m], [-8], [-1000], [1000], -3, (-128, 127)) == 2
    assert dw3_rq_form([m], [-8], [-1000], [1000], -3, (-3, 127)) == 1
    assert dw3_rq_form([1 << 30], [-8], [-1000], [1000], 0, (-128, 127)) == 0
    assert dw3_rq_form([m], [0], [-1000], [1000], 0, (-128, 127)) == 0
    assert dw3_rq_form([m], [-30], [-(1 << 31) + 5], [1 << 30], 127, (-128, 127)) == 0


def _rq1_exact(x: int, m: int, r: int, zp: int) -> int:
    """tm_dw_rq1 in exact integers, and TFLM's two roundings, for one accumulator."""
    q = (x * m + (1 << 30)) >> 31
    mask = (1 << r) - 1
    tflm = (q >> r) + (1 if (q & mask) > (mask >> 1) + (1 if q < 0 else 0) else 0) + zp
    kz = (1 << (r - 1)) + zp * (1 << r)
    return tflm, (q + kz - (1 if x < 0 else 0)) >> r


def test_dw3_single_rounding_equals_tflm():
    rng = np.random.default_rng(7)
    for _ in range(20000):
        m = int(rng.integers((1 << 30) + 1, 1 << 31))
        r = int(rng.integers(1, 20))
        zp = int(rng.integers(-128, 128))
        x = int(rng.integers(-(1 << 24), 1 << 24)) if rng.random() < 0.9 else int(rng.integers(-64, 64))
        a, b = _rq1_exact(x, m, r, zp)
        assert a == b, (x, m, r, zp)
