"""Ops check: TFLM's builtin set, and a real op TFLM lacks (GELU) named with its layer."""
import pytest

from test_check_models import models
from tinyml.convert import ops
from tinyml.core.errors import UnsupportedOpError
from tinyml.model.tflite_file import load_tflite


@pytest.fixture(scope="module")
def m():
    return models()


def test_static_set_names_are_schema_builtins():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    for name in ops.TFLM_BUILTIN_OPS:
        assert hasattr(s.BuiltinOperator, name), name
    assert "GELU" not in ops.TFLM_BUILTIN_OPS and "CONV_2D" in ops.TFLM_BUILTIN_OPS


def test_supported_model(m):
    info = ops.check_ops(load_tflite(m.int8), m.int8)
    assert info["ops"] == ["CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    assert [(r["op"], r["layer"]) for r in info["op_table"]][:2] == [("CONV_2D", "conv"), ("MAX_POOL_2D", "pool")]


def _assert_gelu(e: UnsupportedOpError):
    assert e.op == "GELU"
    assert e.layer == "gelu_dense"
    assert e.tensor.startswith("gelu_net/gelu_dense/Gelu")
    msg = str(e)
    assert "gelu.tflite" in msg and "op #2 GELU" in msg and "(layer 'gelu_dense')" in msg
    assert "relu" in e.hint


def test_gelu_static_check(m):
    with pytest.raises(UnsupportedOpError) as ei:
        ops.check_ops(load_tflite(m.gelu), m.gelu)
    _assert_gelu(ei.value)
    assert "no kernel for this op" in str(ei.value)


def test_gelu_real_tflm_run(m):
    # the proof by instantiation, without the static list: TFLM itself refuses the op
    with pytest.raises(UnsupportedOpError) as ei:
        ops.prove_runs(load_tflite(m.gelu), m.gelu)
    _assert_gelu(ei.value)
    assert "no kernel registered" in str(ei.value)


@pytest.mark.parametrize("name,op,stage", [("exp", "EXP", "prepare"), ("sqrt", "SQRT", "invoke")])
def test_op_tflm_has_only_for_float(m, name, op, stage):
    # TFLM registers these ops, but their kernels reject int8: found only by running the model
    path = getattr(m, name)
    t = load_tflite(path)
    assert t.is_full_int8() and op in ops.TFLM_BUILTIN_OPS
    with pytest.raises(UnsupportedOpError) as ei:
        ops.check_ops(t, path)
    e = ei.value
    assert (e.op, e.layer) == (op, f"{name}_layer")
    assert f"failed to {stage} this op" in str(e)
    assert f"TFLM's {op} kernel takes FLOAT32, not the INT8 this model gives it" in e.hint


def test_float_island_is_named_by_its_op(m):
    t = load_tflite(m.sin)
    assert t.op_names() == ["RESHAPE", "DEQUANTIZE", "SIN", "QUANTIZE", "FULLY_CONNECTED"]
    reason = t.non_int8_reason()
    assert reason.startswith("op #2 SIN") and "(layer 'sin_layer') uses FLOAT32 tensor" in reason


def test_model_given_as_bytes(m):
    from tinyml.model.tflite_file import parse_tflite
    t = parse_tflite(m.gelu.read_bytes(), "in-memory.tflite")
    with pytest.raises(UnsupportedOpError, match="in-memory.tflite: op #2 GELU"):
        ops.prove_runs(t)
    assert ops.prove_runs(parse_tflite(m.int8.read_bytes())).ok
