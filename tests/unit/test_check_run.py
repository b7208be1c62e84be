"""run_check end to end on a real int8 model: files, golden vectors bit-exact
against a fresh TFLM run, and bad inputs failing cleanly with nothing written."""
import json

import numpy as np
import pytest

from test_check_models import models
from tinyml.model import golden
from tinyml.config.schema import CheckConfig
from tinyml.convert.check import run_check
from tinyml.convert.hostcheck import quantize_input
from tinyml.core.errors import CheckError, ModelError, UnsupportedOpError
from tinyml.core.runs import sha256_file


@pytest.fixture(scope="module")
def m():
    return models()


@pytest.fixture(scope="module")
def done(m, tmp_path_factory):
    out = tmp_path_factory.mktemp("check") / "run"
    metrics = run_check(m.int8, m.dataset, CheckConfig(golden_count=7), out,
                        float_tflite_path=m.float, progress=False)
    return out, metrics


def test_writes_exactly_check_json_golden_and_testset(done):
    out, metrics = done
    assert sorted(p.name for p in out.iterdir()) == ["check.json", "golden.npz", "testset.npz"]
    gold, full = golden.load(out / "golden.npz"), golden.load(out / "testset.npz")
    assert len(gold) == 7 and len(full) == metrics["test_samples"]
    assert (full.inputs[:7] == gold.inputs).all() and (full.outputs[:7] == gold.outputs).all()


def test_check_json_contents(m, done):
    out, metrics = done
    c = json.loads((out / "check.json").read_text())
    assert c["metrics"]["accuracy_int8_tflm"] == metrics["accuracy_int8_tflm"]
    assert c["model"]["sha256"] == sha256_file(m.int8) == metrics["model_sha256"]
    assert c["model"]["bytes"] == m.int8.stat().st_size == metrics["model_bytes"]
    assert c["ops"] == ["CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    assert [r["layer"] for r in c["op_table"]] == ["conv", "pool", "flat", "logits", "probs"]
    a = c["arena"]
    assert a["min_bytes"] % 16 == 0 and a["recommended_bytes"] >= a["min_bytes"]
    assert metrics["arena_min_bytes"] == a["min_bytes"]
    assert c["accuracy"] == {"float": metrics["accuracy_float"], "int8_tflm": metrics["accuracy_int8_tflm"],
                             "int8_litert": metrics["accuracy_int8_litert"]}
    ra = c["runtime_agreement"]
    assert len(ra["exact_disagreements"]) == metrics["runtime_exact_mismatches"]
    assert ra["top1"] >= 0.995
    assert c["test_samples"] == len(m.dataset.y_test)


def test_golden_is_bit_exact_with_a_fresh_tflm_run(m, done):
    from tflite_micro.python.tflite_micro import runtime
    out, metrics = done
    g = golden.load(out / "golden.npz")
    ds = m.dataset
    assert len(g) == 7 == metrics["golden_count"]
    assert g.inputs.shape == (7, 8, 8, 1) and g.outputs.shape == (7, 10)
    assert g.model_sha256 == sha256_file(m.int8)
    np.testing.assert_array_equal(g.labels, ds.y_test[:7])
    np.testing.assert_array_equal(g.inputs, quantize_input(ds.x_test[:7], g.input_scale, g.input_zero_point))
    it = runtime.Interpreter.from_bytes(m.int8.read_bytes(), arena_size=1 << 16)
    for i in range(7):
        it.set_input(g.inputs[i][None], 0)
        it.invoke()
        assert it.get_output(0)[0].tobytes() == g.outputs[i].tobytes()


def test_golden_round_trip(done, tmp_path):
    out, _ = done
    g = golden.load(out / "golden.npz")
    golden.save(tmp_path / "g.npz", g)
    h = golden.load(tmp_path / "g.npz")
    for f in ("inputs", "outputs", "labels"):
        a, b = getattr(g, f), getattr(h, f)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert (g.input_scale, g.input_zero_point, g.output_scale, g.output_zero_point, g.model_sha256) == \
           (h.input_scale, h.input_zero_point, h.output_scale, h.output_zero_point, h.model_sha256)


def test_keras_float_reference_and_sample_limit(m, tmp_path):
    metrics = run_check(m.int8, m.dataset, CheckConfig(golden_count=2, max_test_samples=50), tmp_path / "k",
                        float_tflite_path=m.keras, progress=False)
    assert metrics["test_samples"] == 50 and metrics["golden_count"] == 2
    assert 0.7 < metrics["accuracy_float"] <= 1.0


def _fails(tmp_path, exc, path, cfg=None, match=None, **kw):
    out = tmp_path / "out"
    with pytest.raises(exc, match=match) as ei:
        run_check(path, models().dataset, cfg or CheckConfig(), out, progress=False, **kw)
    assert not out.exists(), "a failed check must not write anything"
    return ei.value


def test_float_model_is_refused(m, tmp_path):
    e = _fails(tmp_path, ModelError, m.float, match="is not a full-int8 model")
    assert str(m.float) in str(e) and "tinyml quantize" in e.hint


def test_float_io_model_is_refused(m, tmp_path):
    e = _fails(tmp_path, ModelError, m.float_io, match="is not a full-int8 model")
    assert "FLOAT32" in str(e)


def test_float_island_is_refused(m, tmp_path):
    e = _fails(tmp_path, ModelError, m.sin, match="is not a full-int8 model: op #2 SIN")
    assert "sin_layer" in str(e)


def test_not_a_flatbuffer(tmp_path):
    bad = tmp_path / "notes.tflite"
    bad.write_text("model weights go here\n")
    e = _fails(tmp_path, ModelError, bad, match="not a TFLite flatbuffer")
    assert str(bad) in str(e)


def test_unsupported_op(m, tmp_path):
    e = _fails(tmp_path, UnsupportedOpError, m.gelu)
    assert (e.op, e.layer) == ("GELU", "gelu_dense")


def test_runtime_disagreement_is_a_check_error(m, tmp_path):
    # agreement can never exceed 100 %, so this threshold must fail, after all the work
    e = _fails(tmp_path, CheckError, m.int8, cfg=CheckConfig(min_runtime_agreement=1.01),
               match="agree on the top-1 class")
    assert "min_runtime_agreement" in e.hint
