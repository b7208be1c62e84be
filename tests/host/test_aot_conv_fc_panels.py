"""CONV_2D and FULLY_CONNECTED over interleaved weights (tinyml/codegen/aot/ops/layout.py)
and the panel functions of tm_aot_ref.h / tm_aot_arm_dsp.h, bit-exact against the TFLM
host runtime on edge shapes (host gcc: the portable path; tests/emu/
test_aot_conv_fc_panels_qemu.py runs the same models on both Cortex-M4 paths):

  * tm_k_conv_1x1 with in_c a multiple of 4 and not (zero-padded last quad), out_c with
    every remainder mod 4 (last channel group of 1, 2, 3), odd and even pixel counts,
    stride 2, a 1-pixel output;
  * tm_k_conv through int8 im2col rows (in_c % 4 != 0) and straight into the panel
    (in_c % 4 == 0), SAME and VALID padding, strides 1 and 2, dilation 2, kernel rows
    inside and across the border (row-run copies and per-tap copies), 1-pixel outputs;
  * tm_k_fc with in_features % 4 in 0..3 (in place, last partial quad), out_features
    % 4 in 0..3, batch > 1;
  * the three requantization forms (tm_aot_rq_apply: TFLM's two roundings, one
    rounding, one rounding with the full int8 range) on every layer kind.
"""
from __future__ import annotations

import functools
import subprocess

import numpy as np
import pytest

from aot_harness import (_BUILD_ROOT, CFLAGS, HERE, RUNTIME_DIR, assert_bit_exact, op_index,
                         patch_op_options, to_int8_tflite)

RELU = 1              # tflite ActivationFunctionType


def _keras():
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(11)
    return keras()


@functools.lru_cache(maxsize=None)
def conv_edges_tflite() -> bytes:
    k = _keras()
    L = k.layers
    x = inp = k.Input((7, 5, 5))                                    # 35 pixels, in_c 5
    x = L.Conv2D(6, 1)(x)                                           # 1x1, n % 4 = 1, tail 2
    x = L.Conv2D(8, 3, padding="same", activation="relu")(x)        # im2col rows (6 ch)
    x = L.Conv2D(12, 3, padding="same")(x)                          # panel (8 ch); dilated below
    x = L.Conv2D(7, 3, strides=2, padding="valid")(x)               # panel, stride 2: 3x2, tail 3
    x = L.Conv2D(9, 1, strides=2)(x)                                # 1x1 stride 2 on 7 ch: 2x1, tail 1
    x = L.Conv2D(2, (2, 1), padding="valid", activation="relu")(x)  # 1 pixel, k = 18, tail 2
    x = L.Flatten()(x)
    x = L.Dense(5)(x)                                               # in 2 (no whole quad), out 5
    out = L.Dense(3)(x)                                             # in 5, out 3
    tfl = to_int8_tflite(k.Model(inp, out))
    # dilation 2 on the third conv (SAME: same output shape, TFLM runs it too)
    tfl = patch_op_options(tfl, op_index(tfl, "CONV_2D", 2), dilationHFactor=2, dilationWFactor=2)
    return tfl


@functools.lru_cache(maxsize=None)
def conv_wide_tflite() -> bytes:
    """Kernel rows wider than the image at the border, stride 2 SAME with odd sizes,
    16 input channels (memcpy runs), 1-pixel image."""
    k = _keras()
    L = k.layers
    x = inp = k.Input((9, 6, 3))
    x = L.Conv2D(16, (3, 5), strides=2, padding="same")(x)         # 5x3, rows cross borders
    x = L.Conv2D(13, 3, padding="same", activation="relu")(x)      # 16 ch panel, 15 px
    x = L.Conv2D(4, (5, 3), padding="valid")(x)                     # 1x1 output from 13 ch
    x = L.Conv2D(6, 1)(x)                                           # 1x1 conv on one pixel
    out = L.Dense(4)(L.Flatten()(x))
    return to_int8_tflite(k.Model(inp, out))


@functools.lru_cache(maxsize=None)
def fc_edges_tflite() -> bytes:
    k = _keras()
    L = k.layers
    x = inp = k.Input((11,), batch_size=3)      # FULLY_CONNECTED with 3 batches, in 11
    x = L.Dense(6)(x)                           # in % 4 = 3, out % 4 = 2
    x = L.Dense(8, activation="relu")(x)        # in % 4 = 2, out % 4 = 0
    x = L.Dense(24)(x)
    x = L.Dense(9)(x)                           # in % 4 = 0, out % 4 = 1
    x = L.Dense(7)(x)                           # in % 4 = 1, out % 4 = 3
    out = L.Dense(1)(x)                         # one output
    return to_int8_tflite(k.Model(inp, out))


def _with_relu_everywhere(tfl: bytes, ops: tuple[str, ...]) -> bytes:
    """Fused RELU on layers whose output zero point is not -128: act_min = zp, so the
    kernels take the one-rounding form with a clamp (not the full int8 range)."""
    from tinyml.codegen.aot.reader import read_tflite
    g = read_tflite(tfl)
    for op in g.ops:
        if op.builtin in ops and op.options.get("fused_activation", "NONE") == "NONE":
            tfl = patch_op_options(tfl, op.index, fusedActivationFunction=RELU)
    return tfl


def test_conv_edges_bit_exact():
    res = assert_bit_exact(conv_edges_tflite(), n_inputs=6)
    c = res.files["tm_aot_model.c"]
    assert res.kernels.count("tm_k_conv_1x1") == 2
    assert sum(k in ("tm_k_fc", "tm_k_fc_pan") for k in res.kernels) == 2
    assert ".dil_h = 2" in c


def test_conv_wide_and_one_pixel_bit_exact():
    assert_bit_exact(conv_wide_tflite(), n_inputs=6)


def fc_inputs(n: int = 6) -> np.ndarray:
    """n inferences of the [3, 11] input (random_inputs takes one batch row)."""
    x = np.random.default_rng(1).integers(-128, 128, (n, 3, 11)).astype(np.int8)
    x[0], x[1] = -128, 127
    return x


def test_fc_edges_bit_exact():
    res = assert_bit_exact(fc_edges_tflite(), inputs=fc_inputs())
    assert ".batches = 3" in res.files["tm_aot_model.c"]


def test_fc_in_place_and_panel_bit_exact(monkeypatch):
    """Both FULLY_CONNECTED kernels on every edge: the panel one (default where RAM
    allows) and the in-place one (the compiler's low-RAM alternative)."""
    from tinyml.codegen.aot import ops
    from tinyml.codegen.aot.ops.fully_connected import lower_fc_in_place, lower_fully_connected
    for lowering, kernel in ((lower_fully_connected, "tm_k_fc_pan"), (lower_fc_in_place, "tm_k_fc")):
        monkeypatch.setitem(ops.load_all(), "FULLY_CONNECTED", lowering)
        # the alternative is the lowering itself: the RAM choice cannot switch it
        monkeypatch.setitem(ops.LOW_RAM, "FULLY_CONNECTED", ("fully_connected", lowering.__name__,
                                                               "fc_in_place_scratch"))
        res = assert_bit_exact(fc_edges_tflite(), inputs=fc_inputs())
        assert set(k for k in res.kernels if k.startswith("tm_k_fc")) == {kernel}


@pytest.mark.parametrize("make", [conv_edges_tflite, conv_wide_tflite, fc_edges_tflite],
                         ids=["conv", "wide", "fc"])
def test_requant_with_clamp_bit_exact(make):
    tfl = _with_relu_everywhere(make(), ("CONV_2D", "FULLY_CONNECTED"))
    assert_bit_exact(tfl, inputs=fc_inputs() if make is fc_edges_tflite else None, n_inputs=6)


def test_interleave4_layout():
    from tinyml.codegen.aot.ops.layout import interleave4, quad_pad
    assert [quad_pad(k) for k in (1, 4, 5, 27, 28)] == [4, 4, 8, 28, 28]
    rng = np.random.default_rng(0)
    for out_c, k in [(1, 3), (4, 8), (6, 5), (7, 12), (9, 1)]:
        w = rng.integers(-128, 128, (out_c, k)).astype(np.int8)
        kp = quad_pad(k)
        il = interleave4(w, kp)
        assert il.dtype == np.int8 and il.size == out_c * kp
        pos = 0
        for g in range(0, out_c, 4):
            nb = min(4, out_c - g)
            for q in range(kp // 4):
                for j in range(nb):
                    for t in range(4):
                        want = w[g + j, 4 * q + t] if 4 * q + t < k else 0
                        assert il[pos] == want
                        pos += 1
    with pytest.raises(ValueError):
        interleave4(np.zeros((2, 5), np.int8), 5)


RQ_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include "tm_aot.h"
/* stdin: acc m shift zp lo hi rm1 half; stdout: tm_aot_requant, then tm_aot_rq_apply
 * in the forms the arguments allow (TFLM always; FAST when rq_fast holds; FULL when
 * also lo = -128 and hi = 127), then FAST from the record {0, m, rm1, half} that
 * ops/common.py rq_records built (tm_aot_rq_rec), -999 where a form does not apply. */
int main(void)
{
    long acc, m, shift, zp, lo, hi, rm1, half;
    while (scanf("%ld %ld %ld %ld %ld %ld %ld %ld", &acc, &m, &shift, &zp, &lo, &hi, &rm1,
                 &half) == 8) {
        const int fast = m > (1L << 30) && shift <= -2;
        const int mode = tm_aot_rq_mode(fast, (int32_t)lo, (int32_t)hi);
        const tm_aot_rq_t c0 = tm_aot_rq_ch((int32_t)m, (int32_t)shift, TM_RQ_TFLM);
        int r1 = tm_aot_rq_apply(c0, (int32_t)acc, (int32_t)zp, (int32_t)lo, (int32_t)hi, TM_RQ_TFLM);
        int r2 = -999, r3 = -999, r4 = -999;
        if (fast) {
            const int32_t rec[TM_AOT_RQC_WORDS] = {0, (int32_t)m, (int32_t)rm1, (int32_t)half};
            r4 = tm_aot_rq_apply(tm_aot_rq_rec(rec), (int32_t)acc, (int32_t)zp, (int32_t)lo,
                                 (int32_t)hi, mode);
            const tm_aot_rq_t c = tm_aot_rq_ch((int32_t)m, (int32_t)shift, TM_RQ_FAST);
            r2 = tm_aot_rq_apply(c, (int32_t)acc, (int32_t)zp, (int32_t)lo, (int32_t)hi, TM_RQ_FAST);
            if (mode == TM_RQ_FULL) {
                r3 = tm_aot_rq_apply(c, (int32_t)acc, (int32_t)zp, -128, 127, TM_RQ_FULL);
            }
        }
        printf("%d %d %d %d %d\n", tm_aot_requant((int32_t)acc, (int32_t)m, (int)shift,
                                                  (int32_t)zp, (int32_t)lo, (int32_t)hi),
               r1, r2, r3, r4);
    }
    return 0;
}
"""


def test_rq_forms_equal_tflm_requant():
    """tm_aot_rq_ch / tm_aot_rq_apply in each form, and the compiler's per-channel
    records (rq_records, read by tm_aot_rq_rec), give tm_aot_requant's result (itself
    checked against the exact TFLM model by test_aot_fx.py)."""
    from tinyml.codegen.aot.ops.common import rq_records
    _BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    src = _BUILD_ROOT / "rq_forms_main.c"
    src.write_text(RQ_MAIN)
    exe = _BUILD_ROOT / "rq_forms"
    subprocess.run(["gcc", *CFLAGS, "-fsanitize=address", f"-I{RUNTIME_DIR}", str(src), "-o",
                    str(exe)], check=True)
    rng = np.random.default_rng(5)
    i32 = [-(1 << 31), -(1 << 31) + 1, -(1 << 20), -1, 0, 1, 1 << 20, (1 << 31) - 1]
    lines = []
    for _ in range(3000):
        acc = int(rng.choice(i32)) if rng.random() < 0.2 else int(rng.integers(-(1 << 24), 1 << 24))
        m = int(rng.integers(1 << 30, 1 << 31)) if rng.random() < 0.8 else int(rng.integers(0, 1 << 31))
        shift = int(rng.integers(-31, 3))
        zp = int(rng.choice([-128, -5, 0, 127]))
        lo, hi = (-128, 127) if rng.random() < 0.5 else (max(zp, -128), 127)
        rm1 = half = 0
        if m > (1 << 30) and shift <= -2:
            _, _, rm1, half = rq_records(np.zeros(1, np.int32), [m], [shift]).tolist()
        lines.append(f"{acc} {m} {shift} {zp} {lo} {hi} {rm1} {half}")
    out = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True).stdout.split("\n")
    full = fast = 0
    for line in out[:-1]:
        ref, r1, r2, r3, r4 = map(int, line.split())
        assert r1 == ref
        if r2 != -999:
            fast += 1
            assert r2 == ref and r4 == ref
        if r3 != -999:
            full += 1
            assert r3 == ref
    assert fast > 1000 and full > 500
    # one multiplier (per-tensor weights) is repeated for each channel's bias
    rec = rq_records(np.array([7, -9, 11], np.int32), [(1 << 30) + 5], [-3]).reshape(3, 4)
    assert rec.tolist() == [[7, (1 << 30) + 5, 2, 2], [-9, (1 << 30) + 5, 2, 2],
                            [11, (1 << 30) + 5, 2, 2]]
    with pytest.raises(ValueError, match="shift <= -2"):
        rq_records(np.zeros(2, np.int32), [1 << 30, 1 << 30], [-2, -1])
