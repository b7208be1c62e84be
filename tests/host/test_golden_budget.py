"""Golden-vector byte budget of the firmware self-test (tinyml.model.golden) and the flash
split `tinyml export` reports (code + weights + goldens)."""
from __future__ import annotations

import numpy as np

from tinyml.model import golden
from tinyml.flows.export import flash_split
from tinyml.targets.budget import Need, golden_bytes


def _g(n: int, in_shape: tuple[int, ...], out_n: int) -> golden.Golden:
    rng = np.random.default_rng(0)
    return golden.Golden(rng.integers(-128, 128, (n, *in_shape)).astype(np.int8),
                         rng.integers(-128, 128, (n, out_n)).astype(np.int8),
                         np.arange(n), 0.5, -3, 1 / 256, -128, "ab" * 32)


def test_large_inputs_keep_fewer_vectors_but_at_least_one():
    vww = _g(10, (96, 96, 3), 2)                     # 27,650 B per vector
    sub = golden.firmware_subset(vww)
    assert len(sub) == 1 and golden.firmware_bytes(1, 96 * 96 * 3, 2) <= golden.FIRMWARE_BUDGET_BYTES
    assert (sub.inputs[0] == vww.inputs[0]).all() and sub.labels[0] == vww.labels[0]
    assert sub.model_sha256 == vww.model_sha256 and sub.output_zero_point == -128
    huge = _g(3, (200, 200, 3), 2)                   # one vector alone is over the budget
    assert len(golden.firmware_subset(huge)) == 1


def test_small_inputs_keep_all_vectors():
    kws = _g(10, (49, 10, 1), 12)
    assert golden.firmware_subset(kws) is kws
    assert golden.firmware_count(10, 3072, 10) == 10            # IC: 30.8 KB fits
    assert golden.firmware_count(10, 3072, 10, budget=10_000) == 3
    assert golden.firmware_count(0, 10, 10) == 0


def test_firmware_bytes_match_the_budget_estimate():
    for n, i, o in ((1, 27648, 2), (10, 490, 12), (7, 640, 640)):
        assert golden.firmware_bytes(n, i, o) == golden_bytes(n, i, o)


def test_flash_split_adds_up():
    need = Need()
    need.items.update({"firmware (harness+port+runtime core, estimate)": 9000, "weights": 50_000,
                       "kernel code (estimate)": 4000, "generated model code (estimate)": 700,
                       "golden vectors": 5040})
    s = flash_split(need)
    assert s == {"code": 13_700, "weights": 50_000, "goldens": 5040}
    assert sum(s.values()) == need.total
    tflm = Need()
    tflm.items.update({"model .tflite": 60_000, "TFLM kernels (estimate)": 30_000, "golden vectors": 10})
    assert flash_split(tflm)["weights"] == 60_000
