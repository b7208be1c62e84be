"""Edge shapes of every kernel variant against the TFLM host runtime, byte for byte.

Host gcc runs the portable references; the same models under QEMU on the Cortex-M4
(tests/emu/test_aot_qemu.py: test_kernel_edges_on_m4) run the Arm DSP variants and the
references again. Shapes: odd channel counts (group-of-four tails), 1-pixel outputs,
SAME and VALID padding on even and odd sizes, strides 1 and 2, dilation, depth
multipliers, depthwise kernels past the old 100-tap limit, both requantization forms
(single rounding where the compiler proves it exact, TFLM's two roundings elsewhere)
and ADD in its three forms: linear (proven on all input pairs), tables, plain.
"""
from __future__ import annotations

import functools

import numpy as np

from aot_harness import assert_bit_exact, op_index, patch_op_options, to_int8_tflite


def _keras():
    from tinyml.core.tfcompat import keras, seed_everything
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
    from tinyml.codegen.aot.ops.depthwise import dw_scratch_bytes
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


def test_add_linear_form_tables_and_plain(monkeypatch):
    lin = assert_bit_exact(add_tflite(12), n_inputs=6)       # 1152 elements: linear form
    small = assert_bit_exact(add_tflite(5), n_inputs=6)      # 200 elements: plain
    assert lin.kernels[lin.ops.index("ADD")] == "tm_k_add_lin"
    assert small.kernels[small.ops.index("ADD")] == "tm_k_add"
    from tinyml.codegen.aot.ops import add
    monkeypatch.setattr(add, "linear_form", lambda *a, **k: None)   # scales without a form
    lut = assert_bit_exact(add_tflite(12), n_inputs=6)
    assert lut.kernels[lut.ops.index("ADD")] == "tm_k_add_lut"


def test_add_linear_form_is_tflm_on_every_pair():
    """exact_outputs (numpy) equals the scalar TFLM arithmetic of tinyml's quant module,
    and linear_form's constants reproduce it, clamps included, or it declines."""
    from tinyml.codegen.aot import quant
    from tinyml.codegen.aot.ops.add import LEFT_SHIFT, exact_outputs, linear_form
    rng = np.random.default_rng(7)
    found = 0
    for _ in range(12):
        sa, sb, so = (float(np.float32(rng.uniform(0.002, 0.05))) for _ in range(3))
        za, zb, zo = (int(z) for z in rng.integers(-128, 128, 3))
        tm = 2.0 * max(sa, sb)
        m1, s1 = quant.quantize_multiplier_smaller_than_one(sa / tm)
        m2, s2 = quant.quantize_multiplier_smaller_than_one(sb / tm)
        mo, so_ = quant.quantize_multiplier_smaller_than_one(tm / ((1 << LEFT_SHIFT) * so))
        for lo, hi in ((-128, 127), (zo, 127), (max(zo, -128), min(zo + 60, 127))):
            ref = exact_outputs(za, zb, m1, s1, m2, s2, mo, so_, zo, lo, hi)
            for a, b in rng.integers(-128, 128, (40, 2)):
                s = quant.mul_by_qm_lt1((int(a) - za) << LEFT_SHIFT, m1, s1) + \
                    quant.mul_by_qm_lt1((int(b) - zb) << LEFT_SHIFT, m2, s2)
                want = min(max(quant.mul_by_qm_lt1(s, mo, so_) + zo, lo), hi)
                assert ref[a + 128, b + 128] == want
            form = linear_form(ref, sa / so, sb / so, lo, hi)
            if form is None:
                continue
            found += 1
            ka, kb, kc, sh = form
            assert 128 * (abs(ka) + abs(kb)) + abs(kc) < 1 << 31
            v = np.arange(-128, 128, dtype=np.int64)
            assert np.array_equal(np.clip((ka * v[:, None] + kb * v[None, :] + kc) >> sh, lo, hi), ref)
    assert found >= 30          # most scale triples have a form (85 of 86 on a wider sample)
    # a form that does not fit: no shift can separate the steps of this table
    ref = np.add.outer(np.arange(256), np.arange(256)) % 2 - 128
    assert linear_form(ref, 0.5, 0.5, -128, 127) is None
