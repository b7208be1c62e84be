"""Edge shapes of every kernel variant against the TFLM host runtime, byte for byte.

Host gcc runs the portable references; the same models under QEMU on the Cortex-M4
(tests/emu/test_aot_qemu.py: test_kernel_edges_on_m4) run the Arm DSP variants and the
references again. Shapes: odd channel counts (group-of-four tails), 1-pixel outputs,
SAME and VALID padding on even and odd sizes, strides 1 and 2, dilation, depth
multipliers, depthwise kernels past the old 100-tap limit, both requantization forms
(single rounding where the compiler proves it exact, TFLM's two roundings elsewhere)
and ADD with and without its compile-time tables.
"""
from __future__ import annotations

import functools

import numpy as np

from aot_harness import assert_bit_exact, op_index, patch_op_options, to_int8_tflite


def _keras():
    from tinyml.tfcompat import keras, seed_everything
    seed_everything(3)
    return keras()


@functools.lru_cache(maxsize=None)
def depthwise_edges_tflite() -> bytes:
    k = _keras()
    L = k.layers
    x = inp = k.Input((9, 8, 5))                                          # 5 channels: tail of 1
    x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)       # odd H, even W
    x = L.DepthwiseConv2D(3, strides=2, padding="same")(x)               # 5x4
    x = L.DepthwiseConv2D(2, strides=1, padding="valid", depth_multiplier=2)(x)   # 4x3x10
    x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6")(x)    # 2x2x10
    x = L.DepthwiseConv2D(2, padding="valid")(x)                          # 1-pixel output
    x = L.Reshape((1, 1, 10))(x)
    out = L.Dense(3)(L.Flatten()(x))
    tfl = to_int8_tflite(k.Model(inp, out))
    # SAME padding keeps the output shape under dilation: patch it into the first one
    return patch_op_options(tfl, op_index(tfl, "DEPTHWISE_CONV_2D", 0),
                            dilationHFactor=2, dilationWFactor=3)


def test_depthwise_edges():
    res = assert_bit_exact(depthwise_edges_tflite(), n_inputs=6)
    assert res.ops.count("DEPTHWISE_CONV_2D") == 5
    assert ".dil_w = 3" in res.files["tm_aot_model.c"]


@functools.lru_cache(maxsize=None)
def big_depthwise_tflite() -> bytes:
    """11x11 = 121 and 1x13 taps: the kernel used to return silently past 100 taps."""
    k = _keras()
    L = k.layers
    x = inp = k.Input((12, 14, 3))
    x = L.DepthwiseConv2D(11, padding="same")(x)
    x = L.DepthwiseConv2D((1, 13), padding="valid", depth_multiplier=2)(x)
    out = L.Dense(2)(L.Flatten()(x))
    return to_int8_tflite(k.Model(inp, out))


def test_depthwise_past_100_taps_runs_and_counts_its_scratch():
    from tinyml.codegen.aot.ops.conv import dw_scratch_bytes
    res = assert_bit_exact(big_depthwise_tflite(), n_inputs=4)
    scratch = [b.size for b in res.plan.buffers if b.key.startswith("s")]
    assert scratch and max(scratch) >= dw_scratch_bytes(121, 3)
    assert res.peak_ram_bytes >= 12 * 14 * 3 + dw_scratch_bytes(121, 3)   # input + scratch live


@functools.lru_cache(maxsize=None)
def conv_edges_tflite() -> bytes:
    k = _keras()
    L = k.layers
    x = inp = k.Input((7, 6, 3))                                           # 3 input channels
    x = L.Conv2D(5, 3, strides=2, padding="same", activation="relu")(x)   # 4x3x5, odd out_c
    x = L.Conv2D(7, 3, strides=1, padding="valid")(x)                     # 2x1x7
    x = L.Conv2D(3, 1, strides=1, padding="valid")(x)                     # 1x1 kernel, odd pixels
    x = L.Conv2D(9, (2, 1), strides=2, padding="valid")(x)                # 1-pixel output
    out = L.Dense(2)(L.Flatten()(x))
    return to_int8_tflite(k.Model(inp, out))


def test_conv_edges():
    res = assert_bit_exact(conv_edges_tflite(), n_inputs=6)
    assert "tm_k_conv_1x1(" in res.files["tm_aot_model.c"]


@functools.lru_cache(maxsize=None)
def generic_requant_tflite() -> bytes:
    """Layers whose effective scale is >= 1/4 (shift > -2, even a left shift): the
    calibration input is nearly constant over space, so a [+1, -1] depthwise filter
    gives outputs close to 0 and a tiny output scale. The compiler must keep TFLM's
    two-step rounding there (rq_fast = 0)."""
    k = _keras()
    L = k.layers
    x = inp = k.Input((6, 6, 4))
    dw = L.DepthwiseConv2D((1, 2), padding="valid", use_bias=False)
    x = dw(x)
    c = L.Conv2D(4, (1, 2), padding="valid", use_bias=False)
    x = c(x)
    out = L.Dense(2)(L.Flatten()(x))
    m = k.Model(inp, out)
    dw.set_weights([np.array([1.0, -1.0], np.float32).reshape(1, 2, 1, 1) * np.ones((1, 1, 4, 1))])
    w = np.zeros((1, 2, 4, 4), np.float32)
    for i in range(4):
        w[0, 0, i, i], w[0, 1, i, i] = 1.0, -1.0
    c.set_weights([w])
    rng = np.random.default_rng(0)
    base = rng.uniform(-1, 1, (24, 1, 1, 4))
    rep = base + rng.normal(0, 0.004, (24, 6, 6, 4))
    return to_int8_tflite(m, rep.astype(np.float32))


def test_both_requantization_forms():
    res = assert_bit_exact(generic_requant_tflite(), n_inputs=6)
    c = res.files["tm_aot_model.c"]
    assert ".rq_fast = 0" in c
    res2 = assert_bit_exact(conv_edges_tflite(), n_inputs=2)
    assert ".rq_fast = 1" in res2.files["tm_aot_model.c"]


@functools.lru_cache(maxsize=None)
def add_tflite(hw: int) -> bytes:
    k = _keras()
    L = k.layers
    x = inp = k.Input((hw, hw, 8))
    a = L.Conv2D(8, 1)(x)
    b = L.DepthwiseConv2D(3, padding="same")(x)
    x = L.Activation("relu")(L.Add()([a, b]))
    out = L.Dense(2)(L.Flatten()(x))
    return to_int8_tflite(k.Model(inp, out))


def test_add_with_and_without_tables():
    big = assert_bit_exact(add_tflite(12), n_inputs=6)       # 1152 elements: tables
    small = assert_bit_exact(add_tflite(5), n_inputs=6)      # 200 elements: plain
    assert "tm_k_add_lut" in big.kernels[big.ops.index("ADD")]
    assert small.kernels[small.ops.index("ADD")] == "tm_k_add"
