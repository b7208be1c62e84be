"""The four MLPerf Tiny reference models (random weights): AOT C == TFLM, and the
static plan needs at most 70% of the TFLM host runtime's minimum arena."""
from __future__ import annotations

import pytest

from aot_harness import assert_bit_exact, tflm_runs

pytest.importorskip("tflite_micro")


@pytest.fixture(scope="module", params=["ad", "kws", "ic", "vww"])
def reference(request):
    from tinyml.train.reference import reference_int8
    return request.param, reference_int8(request.param)


def test_reference_model_bit_exact(reference):
    name, tfl = reference
    res = assert_bit_exact(tfl, n_inputs=4, name=name)
    expected_macs = {"ad": 264_192, "kws": 2_664_792, "ic": 12_505_748, "vww": 7_491_972}
    assert res.macs == expected_macs[name]
    # Target: the static plan needs at most 70% of TFLM's arena, i.e. TFLM fails
    # with an arena of peak / 0.7 bytes (and runs with a generous one).
    assert not tflm_runs(tfl, int(res.peak_ram_bytes / 0.7) // 16 * 16)
    assert tflm_runs(tfl, 1 << 20)
