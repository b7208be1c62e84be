"""AOT C on a Cortex-M4F in QEMU (mps2-an386): the DSP (SMLAD) kernel path must give
the same bytes as the TFLM host runtime."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))

from aot_harness import random_inputs, run_tflm, to_int8_tflite  # noqa: E402
from aot_qemu import run_model_qemu  # noqa: E402
from tinyml.codegen.aot import compile_tflite  # noqa: E402

pytestmark = pytest.mark.emu   # needs arm-none-eabi-gcc + qemu-system-arm (tests/conftest.py)


def _check(tfl: bytes, n: int = 4, extra_flags: tuple[str, ...] = ()):
    res = compile_tflite(tfl, "qemu")
    x = random_inputs(res, n, seed=3)
    assert n >= 3
    x[0], x[1] = -128, 127        # the extremes saturate the DSP path's sign extension and clamps
    y, instr, (cal, cal_expected) = run_model_qemu(res, x, extra_flags=extra_flags)
    ref = run_tflm(tfl, x).reshape(y.shape)
    assert (y == ref).all(), f"DSP path differs from TFLM in {(y != ref).sum()} bytes"
    assert abs(cal - cal_expected) <= 80          # counter = instructions (5 per tick)
    assert instr > res.macs // 4                  # sanity: the work was really done
    return res


@pytest.mark.parametrize("flags", [(), ("-DTM_AOT_FORCE_PORTABLE",)], ids=["dsp", "portable"])
def test_m4_paths_conv_dw_fc_add(flags):
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(2)
    k = keras()
    L = k.layers
    inp = k.Input((13, 9, 3))                          # 7x5 = 35 pixels: odd tails
    x = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inp)
    y = L.DepthwiseConv2D(3, padding="same", depth_multiplier=1)(x)
    x = L.Add()([x, y])
    x = L.Conv2D(7, 1, padding="same", activation="relu6")(x)   # 7 channels: tail loops
    x = L.DepthwiseConv2D(3, padding="same")(x)                 # m=1 on 7 channels
    x = L.DepthwiseConv2D(3, strides=2, padding="valid", depth_multiplier=2, activation="relu6")(x)
    x = L.Conv2D(13, 1, padding="same")(x)
    out = L.Dense(7)(L.Flatten()(x))
    _check(to_int8_tflite(k.Model(inp, out)), extra_flags=flags)


def test_dsp_path_kws_reference():
    from reference_models import reference_int8
    _check(reference_int8("kws"), n=3)


def test_m4_reverse_order_kernels():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
    from test_aot_compiler import _reverse_chain_model
    res = _check(_reverse_chain_model())
    assert res.plan.reverse_ops


@pytest.mark.parametrize("flags", [(), ("-DTM_AOT_FORCE_PORTABLE",)], ids=["dsp", "portable"])
def test_kernel_edges_on_m4(flags):
    """The edge-shape models of tests/host/test_aot_kernel_edges.py on the Cortex-M4,
    Arm DSP variants and portable references: tails, 1-pixel outputs, padding,
    strides, dilation, > 100 depthwise taps, both requantization forms, ADD tables."""
    import test_aot_kernel_edges as e
    for tfl in (e.depthwise_edges_tflite(), e.big_depthwise_tflite(), e.conv_edges_tflite(),
                e.generic_requant_tflite(), e.add_tflite(12)):
        _check(tfl, n=3, extra_flags=flags)


@pytest.mark.parametrize("flags", [(), ("-DTM_AOT_FORCE_PORTABLE",)], ids=["dsp", "portable"])
def test_fused_conv_add_on_m4(flags, monkeypatch):
    """tests/host/test_aot_fusion.py's models on the Cortex-M4, every fusable pair fused:
    CONV_2D+ADD in place over the skip tensor, the ADD's linear form (SSAT loop on the
    DSP path), no-fusion cases."""
    import test_aot_fusion as f
    from tinyml.codegen.aot import compiler
    monkeypatch.setattr(compiler, "FUSE_ALL", True)
    for tfl in (f.residual_edges_tflite(), f.residual_rows_tflite(), f.no_fusion_tflite()):
        _check(tfl, n=3, extra_flags=flags)
