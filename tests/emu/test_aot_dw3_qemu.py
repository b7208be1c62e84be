"""tm_k_dwconv_3x3 on the Cortex-M4 in QEMU: the edge models of
tests/host/test_aot_dw3.py on the Arm DSP variant (SMLAD pairs, SMMLAR requantization,
SSAT) and on the portable reference, byte for byte against the TFLM host runtime."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_aot_qemu import _check  # noqa: E402

pytestmark = pytest.mark.emu


@pytest.mark.parametrize("flags", [(), ("-DTM_AOT_FORCE_PORTABLE",)], ids=["dsp", "portable"])
def test_dw3_edges_on_m4(flags):
    import test_aot_dw3 as t
    models = [t.dw3_tflite(n) for n in sorted(t.CASES)]
    models += [t.dw3_two_roundings_tflite(), t.dw3_relu_clamp_tflite(), t.generic_shapes_tflite()]
    for tfl in models:
        _check(tfl, n=3, extra_flags=flags)
