"""The four MLPerf Tiny reference models (random weights): AOT C == TFLM, and the
static plan needs at most 70% of the TFLM host runtime's minimum arena."""
from __future__ import annotations

import pytest

from aot_harness import assert_bit_exact, tflm_runs


@pytest.fixture(scope="module", params=["ad", "kws", "ic", "vww"])
def reference(request):
    from reference_models import keras_macs, reference
    model, tfl = reference(request.param)
    return request.param, tfl, keras_macs(model)


def test_reference_model_bit_exact(reference):
    name, tfl, macs = reference
    res = assert_bit_exact(tfl, n_inputs=4, name=name)
    assert res.macs == macs        # counted independently, from the Keras layers' shapes
    # Target: the static plan needs at most 70% of TFLM's arena, i.e. TFLM fails
    # with an arena of peak / 0.7 bytes (and runs with a generous one).
    assert not tflm_runs(tfl, int(res.peak_ram_bytes / 0.7) // 16 * 16)
    assert tflm_runs(tfl, 1 << 20)
