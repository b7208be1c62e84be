"""Differential fuzzing on the DSP (SMLAD) kernel path: the same random int8 models as
tests/host/test_aot_fuzz.py, built for a Cortex-M4F (many models per image) and run
in QEMU mps2-an386; every output must equal the TFLM host runtime's (CRC of the
bytes; a mismatch is re-run alone for the byte diff). See tests/host/aot_fuzz.py."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))

from aot_fuzz import (TEST_MODELS, TEST_SEED, check_tflite, gen_spec, input_seed,  # noqa: E402
                      load_regressions, run_dsp, run_specs)

pytestmark = pytest.mark.emu   # needs arm-none-eabi-gcc + qemu-system-arm (tests/conftest.py)


def test_random_models_bit_exact_on_dsp():
    ref = run_specs([gen_spec(TEST_SEED + i) for i in range(TEST_MODELS)], host=False, keep=True)
    dsp = run_dsp(ref)
    bad = [r for r in dsp if r.status in ("mismatch", "error")]
    if bad:
        pytest.fail(f"{len(bad)} of {len(dsp)} models fail on the DSP path:\n" + "\n".join(
            f"{r.summary()}\n  spec {json.dumps(r.spec)}" for r in bad[:8]))
    ran = sum(r.status == "ok" for r in dsp)
    assert ran >= TEST_MODELS - TEST_MODELS // 50      # only TFLM-invalid models are not run
    assert sum(r.features.get("op_DEPTHWISE_CONV_2D", 0) > 0 for r in dsp) >= 60


def test_random_models_bit_exact_on_portable_m4():
    """The portable reference kernels (TM_AOT_FORCE_PORTABLE) on the same Cortex-M4F:
    every kernel variant is checked on the device, not only on host gcc."""
    n = TEST_MODELS // 4          # the first 50 of the DSP run's models: suite time
    ref = run_specs([gen_spec(TEST_SEED + i) for i in range(n)], host=False, keep=True)
    port = run_dsp(ref, flags=("-DTM_AOT_FORCE_PORTABLE",))
    bad = [r for r in port if r.status in ("mismatch", "error")]
    if bad:
        pytest.fail(f"{len(bad)} of {len(port)} models fail on the portable path:\n" + "\n".join(
            f"{r.summary()}\n  spec {json.dumps(r.spec)}" for r in bad[:8]))
    assert sum(r.status == "ok" for r in port) >= n - n // 50


def test_regressions_on_dsp():
    import base64
    docs = load_regressions()
    assert docs, "tests/host/aot_regressions/ holds no regression case"
    ref = [check_tflite(base64.b64decode(d["tflite_b64"]), input_seed(d["spec"]), host=False,
                        keep=True, spec=d["spec"]) for d in docs]
    for d, r in zip(docs, run_dsp(ref)):
        assert r.status == "ok", f"{d['name']}: {r.summary()}"
