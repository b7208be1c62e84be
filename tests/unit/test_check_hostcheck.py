"""Host check numbers: input quantization as TFLite's QUANTIZE kernel does it,
accuracies and LiteRT-vs-TFLM agreement equal a direct computation."""
import numpy as np
import pytest

from test_check_models import models
from tinyml.convert import hostcheck
from tinyml.convert.hostcheck import quantize_input
from tinyml.core.errors import DataError, ModelError
from tinyml.model.tflite_file import load_tflite


@pytest.fixture(scope="module")
def m():
    return models()


def test_quantize_rounding_rules():
    # scale 0.5 makes x/scale exact: halves round away from zero (not to even), then clamp
    x = np.array([0.25, -0.25, 0.75, -0.75, 0.2, 1000.0, -1000.0, 0.0], np.float32)
    assert quantize_input(x, 0.5, 0).tolist() == [1, -1, 2, -2, 0, 127, -128, 0]
    assert quantize_input(x, 0.5, -128).tolist() == [-127, -128, -126, -128, -128, 127, -128, -128]
    assert quantize_input(x, 0.5, 0).dtype == np.int8


def test_quantize_matches_tflm_quantize_op(m):
    # The float-I/O model starts with a QUANTIZE op; read its output from TFLM.
    from tflite_micro.python.tflite_micro import runtime
    t = load_tflite(m.float_io)
    qop = t.ops[0]
    assert qop.name == "QUANTIZE"
    out_t = t.tensors[qop.outputs[0]]
    scale, zp = float(out_t.scale[0]), int(out_t.zero_point[0])
    it = runtime.Interpreter.from_bytes(t.data, arena_size=1 << 16,
                                        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    rng = np.random.default_rng(7)
    k = rng.integers(-140, 140, size=(20, 64)).astype(np.float32)
    near_half = (k + 0.5) * np.float32(scale) + np.float32(zp * -scale)   # x/scale lands on ~k+zp+.5
    cases = [near_half[i] for i in range(20)] + [rng.uniform(-0.5, 1.5, 64).astype(np.float32) for _ in range(10)]
    for xs in cases:
        x = xs.reshape(1, 8, 8, 1).astype(np.float32)
        it.set_input(x, 0)
        it.invoke()
        tflm_q = it.GetTensor(qop.outputs[0], 0)["tensor_data"]
        np.testing.assert_array_equal(quantize_input(x, scale, zp), tflm_q)


@pytest.fixture(scope="module")
def hc(m):
    t = load_tflite(m.int8)
    ds = m.dataset
    return t, hostcheck.host_check(t, ds.x_test, ds.y_test, arena_size=1 << 16, float_model_path=m.float)


def test_accuracies_equal_direct_computation(m, hc):
    from ai_edge_litert.interpreter import Interpreter
    from tflite_micro.python.tflite_micro import runtime
    t, r = hc
    ds = m.dataset
    s, z = float(t.input_tensor().scale[0]), int(t.input_tensor().zero_point[0])
    tflm = runtime.Interpreter.from_bytes(t.data, arena_size=1 << 16)
    lite = Interpreter(model_content=t.data)
    lite.allocate_tensors()
    fl = Interpreter(model_path=str(m.float))
    fl.allocate_tensors()
    t_pred, l_pred, f_pred, t_raw, l_raw = [], [], [], [], []
    for x in ds.x_test:
        q = np.clip(np.sign(x / s) * np.floor(np.abs(x / s) + 0.5) + z, -128, 127).astype(np.int8)[None]
        tflm.set_input(q, 0)
        tflm.invoke()
        t_raw.append(tflm.get_output(0)[0])
        lite.set_tensor(lite.get_input_details()[0]["index"], q)
        lite.invoke()
        l_raw.append(lite.get_tensor(lite.get_output_details()[0]["index"])[0])
        fl.set_tensor(fl.get_input_details()[0]["index"], x[None])
        fl.invoke()
        f_pred.append(int(np.argmax(fl.get_tensor(fl.get_output_details()[0]["index"]))))
    t_raw, l_raw = np.array(t_raw), np.array(l_raw)
    t_pred, l_pred = t_raw.argmax(1), l_raw.argmax(1)
    y = ds.y_test
    mt = r.metrics
    assert mt["test_samples"] == len(y)
    assert mt["accuracy_int8_tflm"] == float(np.mean(t_pred == y))
    assert mt["accuracy_int8_litert"] == float(np.mean(l_pred == y))
    assert mt["accuracy_float"] == float(np.mean(np.array(f_pred) == y))
    np.testing.assert_array_equal(r.tflm_outputs, t_raw)
    np.testing.assert_array_equal(r.litert_outputs, l_raw)
    same = (t_raw == l_raw).all(axis=1)
    assert mt["runtime_exact_agreement"] == float(np.mean(same))
    assert r.disagreements["bytes"] == np.flatnonzero(~same).tolist()
    assert r.disagreements["top1"] == np.flatnonzero(t_pred != l_pred).tolist()
    assert mt["runtime_top1_agreement"] == float(np.mean(t_pred == l_pred))
    assert mt["runtime_max_abs_diff_lsb"] == int(np.abs(t_raw.astype(int) - l_raw.astype(int)).max())
    # a trained digits net: the numbers are meaningful, not chance
    assert mt["accuracy_int8_tflm"] > 0.8
    assert abs(mt["accuracy_float"] - mt["accuracy_int8_tflm"]) < 0.03


def test_keras_float_reference(m, hc):
    _, r = hc
    preds = hostcheck.float_top1(m.keras, m.dataset.x_test)
    acc = float(np.mean(preds == m.dataset.y_test))
    # same network as the float .tflite; float kernels may flip at most a couple of near-ties
    assert abs(acc - r.metrics["accuracy_float"]) <= 2 / len(preds)


def test_shape_and_label_mismatch(m):
    t = load_tflite(m.int8)
    with pytest.raises(ModelError, match=r"takes \[8, 8, 1\] per sample but the test data has \[10\]"):
        hostcheck.host_check(t, np.zeros((4, 10), np.float32), np.zeros(4), 1 << 16)
    with pytest.raises(ModelError, match="has 10 classes but the test labels go up to 12"):
        hostcheck.host_check(t, np.zeros((4, 8, 8, 1), np.float32), np.array([0, 1, 2, 12]), 1 << 16)
    with pytest.raises(DataError, match="test split is empty"):
        hostcheck.host_check(t, np.zeros((0, 8, 8, 1), np.float32), np.zeros(0), 1 << 16)
