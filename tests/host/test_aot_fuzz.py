"""Differential fuzzing: random int8 Keras models, AOT C (host gcc, portable kernels)
must equal the TFLM host runtime byte for byte (see aot_fuzz.py).

A failure prints each bad model's spec. Minimise it and keep it as a regression with
    .venv/bin/python benchmarks/aot_fuzz.py --models N --seed S --shrink
"""
from __future__ import annotations

import json

import pytest

from aot_fuzz import (TEST_MODELS, TEST_SEED, FuzzResult, coverage, gen_spec, load_regressions,
                      node_shapes, replay, run_specs, save_regression, shrink)


# Models (of TEST_MODELS) that must exercise each feature, counted on the compiled
# graphs; about half of what the generator gives, so a degenerating generator fails.
MIN_MODELS = {
    "width1": 25, "height1": 20, "chan1": 25, "odd_chan": 50, "stride2": 15, "dilation": 25,
    "depth_mult_gt1": 12, "nonsquare_kernel": 60, "kernel5": 30, "pad_same": 75, "pad_valid": 40,
    "act_relu": 60, "act_relu6": 60, "conv1x1_expand": 40, "dw_then_1x1_expand_w1": 12,
    "add_residual": 40, "add_broadcast": 10, "add_const": 12, "concat_inputs3": 8,
    "partial_overlap": 60, "reverse_op": 40,
    "op_CONV_2D": 75, "op_DEPTHWISE_CONV_2D": 60, "op_FULLY_CONNECTED": 40, "op_ADD": 50,
    "op_RESHAPE": 45, "op_AVERAGE_POOL_2D": 12, "op_MAX_POOL_2D": 8, "op_SOFTMAX": 18,
    "op_MEAN": 15, "op_PAD": 10, "op_CONCATENATION": 25, "op_LOGISTIC": 15, "op_QUANTIZE": 8,
    "pool_fused_act": 6, "fc_per_channel": 20, "fc_per_tensor": 10, "op_TRANSPOSE": 6,
    "op_MUL": 9, "op_SUB": 4, "op_MAXIMUM": 4, "op_MINIMUM": 4, "op_RELU": 2, "op_RELU6": 4,
    "op_LEAKY_RELU": 2, "op_TANH": 3, "op_HARD_SWISH": 2, "op_STRIDED_SLICE": 8,
    "op_SPLIT_V": 6, "op_UNPACK": 2, "op_PACK": 2, "op_GATHER": 6,
    "op_RESIZE_NEAREST_NEIGHBOR": 6, "op_RESIZE_BILINEAR": 2, "op_TRANSPOSE_CONV": 5,
    "op_SQUARED_DIFFERENCE": 5, "op_PRELU": 1, "op_UNIDIRECTIONAL_SEQUENCE_LSTM": 5,
    "op_BATCH_MATMUL": 1,
}


def _report(bad: list[FuzzResult]) -> str:
    return "\n".join(f"{r.summary()}\n  spec {json.dumps(r.spec)}" for r in bad[:8])


@pytest.fixture(scope="module")
def host_results() -> list[FuzzResult]:
    return run_specs([gen_spec(TEST_SEED + i) for i in range(TEST_MODELS)])


def test_random_models_bit_exact_on_host(host_results):
    bad = [r for r in host_results if r.status in ("mismatch", "error")]
    if bad:                               # pytest.fail: no repr of the results' C text
        pytest.fail(f"{len(bad)} of {len(host_results)} models fail:\n{_report(bad)}")
    # No reference when TFLM itself cannot run a model (e.g. an ADD whose output range
    # collapsed): allowed, but rare, or the generator makes useless models.
    invalid = [r for r in host_results if r.status == "invalid"]
    assert len(invalid) <= TEST_MODELS // 50, _report(invalid)
    assert sum(r.status == "ok" for r in host_results) >= TEST_MODELS - TEST_MODELS // 50


def test_generator_covers_features(host_results):
    cov = coverage(host_results)
    low = {k: f"{cov[k]} < {n}" for k, n in MIN_MODELS.items() if cov[k] < n}
    assert not low, f"generator coverage too low (models with feature): {low}"


@pytest.mark.parametrize("doc", load_regressions(), ids=lambda d: d["name"])
def test_regression_replays(doc):
    """Every minimised failure found so far, on its stored .tflite."""
    r = replay(doc)
    assert r.status == "ok", f"{doc['name']} ({doc['stage']} {doc['status']} when found): {r.summary()}"


def _dw_feeds_expanding_1x1_on_width1(spec: dict) -> bool:
    """Synthetic failure (shapes only): a depthwise output on a width-1 tensor read by
    a 1x1 conv with more filters than input channels."""
    shapes = node_shapes(spec)
    for ly in spec["layers"]:
        if ly["op"] == "conv" and ly["k"] == [1, 1]:
            src = ly["in"][0]
            if src > 0 and spec["layers"][src - 1]["op"] == "dw" and shapes[src][1] == 1 \
                    and ly["f"] > shapes[src][2]:
                return True
    return False


def test_shrinker_minimises_synthetic_failure():
    start = next(s for s in (gen_spec(i, "bug") for i in range(500))
                 if _dw_feeds_expanding_1x1_on_width1(s) and len(s["layers"]) >= 5)
    calls = []

    def fails(specs):
        calls.append(len(specs))
        return [_dw_feeds_expanding_1x1_on_width1(s) for s in specs]

    small = shrink(start, fails)
    assert _dw_feeds_expanding_1x1_on_width1(small)
    assert [ly["op"] for ly in small["layers"]] == ["dw", "conv"], small
    dw, conv = small["layers"]
    assert small["input"] == [1, 1, 1] and conv["f"] == 2 and dw["k"] == [1, 1] and dw["m"] == 1
    assert conv["act"] == dw["act"] == "none" and dw["dil"] == [1, 1]
    assert max(calls) <= 2 and sum(calls) < 400          # batched, bounded


def test_regression_file_roundtrip(tmp_path):
    """save_regression stores spec + .tflite; replay runs the stored model."""
    spec = {"input": [6, 1, 3], "range": [-1.0, 1.0], "seed": 1, "layers": [
        {"op": "dw", "in": [0], "m": 1, "k": [3, 1], "s": [1, 1], "pad": "same", "dil": [1, 1],
         "act": "relu", "bias": True},
        {"op": "conv", "in": [1], "f": 8, "k": [1, 1], "s": [1, 1], "pad": "same", "dil": [1, 1],
         "act": "none", "bias": True}]}
    r = run_specs([spec], keep=True)[0]
    assert r.status == "ok", r.summary()
    assert r.ops == ["DEPTHWISE_CONV_2D", "CONV_2D"] and r.features["dw_then_1x1_expand_w1"] == 1
    path = save_regression(r, original=spec, name="roundtrip", directory=tmp_path)
    (doc,) = load_regressions(tmp_path)
    assert doc["name"] == "roundtrip" and doc["spec"] == spec and path.name == "roundtrip.json"
    again = replay(doc)
    assert again.status == "ok" and again.ops == r.ops
