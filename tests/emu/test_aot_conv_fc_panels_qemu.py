"""The conv / FC edge models of tests/host/test_aot_conv_fc_panels.py on a Cortex-M4F in
QEMU, on both kernel paths: the Arm DSP panels (int16 panels, the hand-scheduled 2x2
loop, SSAT requantization) and the portable references must give TFLM's bytes."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))

from aot_harness import random_inputs, run_tflm  # noqa: E402
from aot_qemu import run_model_qemu  # noqa: E402
from tinyml.codegen.aot import compile_tflite  # noqa: E402

pytestmark = pytest.mark.emu   # needs arm-none-eabi-gcc + qemu-system-arm (tests/conftest.py)

PATHS = pytest.mark.parametrize("flags", [(), ("-DTM_AOT_FORCE_PORTABLE",)],
                                ids=["dsp", "portable"])


def _check(tfl: bytes, flags: tuple[str, ...], x: np.ndarray | None = None) -> None:
    res = compile_tflite(tfl, "qemu")
    if x is None:
        x = random_inputs(res, 5, seed=4)
    y, _, _ = run_model_qemu(res, x, extra_flags=flags)
    ref = run_tflm(tfl, x).reshape(y.shape)
    assert (y == ref).all(), f"differs from TFLM in {(y != ref).sum()} bytes"


@PATHS
@pytest.mark.parametrize("name", ["conv", "wide", "fc", "conv_relu", "fc_relu"])
def test_panels_on_m4(flags, name):
    import test_aot_conv_fc_panels as t
    make = {"conv": t.conv_edges_tflite, "wide": t.conv_wide_tflite, "fc": t.fc_edges_tflite,
            "conv_relu": t.conv_edges_tflite, "fc_relu": t.fc_edges_tflite}[name]
    tfl = make()
    if name.endswith("_relu"):
        tfl = t._with_relu_everywhere(tfl, ("CONV_2D", "FULLY_CONNECTED"))
    _check(tfl, flags, t.fc_inputs(5) if name.startswith("fc") else None)


@PATHS
def test_fc_in_place_and_panel_on_m4(flags, monkeypatch):
    """FULLY_CONNECTED both ways on the Cortex-M4: through its panel (tm_k_fc_pan, the
    default where RAM allows) and in place (tm_k_fc, the low-RAM alternative), each
    with the odd-quad prologue and the two-quad asm loop of the DSP path."""
    import test_aot_conv_fc_panels as t
    from tinyml.codegen.aot import ops
    from tinyml.codegen.aot.ops.fully_connected import lower_fc_in_place, lower_fully_connected
    for lowering, kernel in ((lower_fully_connected, "tm_k_fc_pan"), (lower_fc_in_place, "tm_k_fc")):
        monkeypatch.setitem(ops.load_all(), "FULLY_CONNECTED", lowering)
        monkeypatch.setitem(ops.LOW_RAM, "FULLY_CONNECTED", ("fully_connected", lowering.__name__,
                                                               "fc_in_place_scratch"))
        assert kernel in compile_tflite(t.fc_edges_tflite()).kernels
        _check(t.fc_edges_tflite(), flags, t.fc_inputs(5))
