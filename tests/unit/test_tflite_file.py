"""tinyml.model.tflite_file: op/tensor listing of real converted models, and bad files."""
import os

import numpy as np
import pytest

from test_check_models import models
from tinyml.core.errors import ModelError
from tinyml.model.tflite_file import layer_from_tensor_name, load_tflite, parse_tflite


@pytest.fixture(scope="module")
def m():
    return models()


def test_ops_listing_of_int8_conv_net(m):
    t = load_tflite(m.int8)
    assert [(op.name, op.layer) for op in t.ops] == [
        ("CONV_2D", "conv"), ("MAX_POOL_2D", "pool"), ("RESHAPE", "flat"),
        ("FULLY_CONNECTED", "logits"), ("SOFTMAX", "probs")]
    assert t.op_names() == ["CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    # each op's first output feeds the next op (a straight chain)
    for a, b in zip(t.ops, t.ops[1:]):
        assert a.outputs[0] in b.inputs
    assert t.ops[0].inputs[0] == t.inputs[0]
    assert t.ops[-1].outputs[0] == t.outputs[0]
    assert t.ops[0].output_name.startswith("digits_cnn/conv/")
    # conv: input, int8 weights [8,3,3,1] per-channel, int32 bias [8]
    w, b = t.tensors[t.ops[0].inputs[1]], t.tensors[t.ops[0].inputs[2]]
    assert (w.dtype, w.shape, w.scale.size, w.is_constant) == ("INT8", (8, 3, 3, 1), 8, True)
    assert (b.dtype, b.shape) == ("INT32", (8,))


def test_tensors_and_io(m):
    t = load_tflite(m.int8)
    i, o = t.input_tensor(), t.output_tensor()
    assert (i.dtype, i.shape, o.dtype, o.shape) == ("INT8", (1, 8, 8, 1), "INT8", (1, 10))
    assert i.scale.shape == (1,) and i.zero_point.shape == (1,)
    assert 0 < float(i.scale[0]) < 1 and -128 <= int(i.zero_point[0]) <= 127
    # softmax output is fixed by TFLite to scale 1/256, zero point -128
    assert float(o.scale[0]) == pytest.approx(1 / 256) and int(o.zero_point[0]) == -128
    assert t.is_full_int8() and t.non_int8_reason() is None
    assert t.size == os.path.getsize(m.int8) and len(t.sha256) == 64


def test_float_models_are_not_full_int8(m):
    f = load_tflite(m.float)
    assert not f.is_full_int8()
    assert "is FLOAT32, not INT8" in f.non_int8_reason()
    q = load_tflite(m.float_io)
    assert q.op_names()[0] == "QUANTIZE" and q.op_names()[-1] == "DEQUANTIZE"
    assert not q.is_full_int8()


@pytest.mark.parametrize("name,layer", [
    ("sequential/conv2d/Relu", "conv2d"),
    ("sequential/dense/MatMul;sequential/dense/BiasAdd", "dense"),
    ("model/quant_conv2d/Conv2D", "conv2d"),          # tfmot QAT wrapper prefix dropped
    ("tiler/Tile", "tiler"),
    ("StatefulPartitionedCall:0", None),
    ("serving_default_input_1:0", None),
    ("", None),
])
def test_layer_from_tensor_name(name, layer):
    assert layer_from_tensor_name(name) == layer


def _bad(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(ModelError) as ei:
        load_tflite(p)
    assert str(p) in str(ei.value)
    assert ei.value.hint
    return str(ei.value)


def test_random_bytes(tmp_path):
    data = np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    if data[4:8] == b"TFL3":  # pragma: no cover - 1 in 4 billion
        data = data[:4] + b"XXXX" + data[8:]
    msg = _bad(tmp_path, "random.tflite", data)
    assert f"not a TFLite flatbuffer: bytes 4..8 are {data[4:8]!r} not b'TFL3'" in msg


def test_text_file(tmp_path):
    msg = _bad(tmp_path, "model.tflite", b"this is a text file, not a model\n" * 4)
    assert "bytes 4..8 are b' is ' not b'TFL3'" in msg


def test_empty_and_tiny_and_missing(tmp_path):
    assert "is empty (0 bytes)" in _bad(tmp_path, "empty.tflite", b"")
    assert "too short" in _bad(tmp_path, "tiny.tflite", b"\x00\x00\x00\x00TFL3")
    with pytest.raises(ModelError, match="does not exist"):
        load_tflite(tmp_path / "nope.tflite")
    with pytest.raises(ModelError, match="not a regular file"):
        load_tflite(tmp_path)


@pytest.mark.parametrize("frac", [0.1, 0.5, 0.9, 0.99])
def test_truncated_tflite(tmp_path, m, frac):
    data = m.int8.read_bytes()
    msg = _bad(tmp_path, "cut.tflite", data[:int(len(data) * frac)])
    assert "truncated" in msg


def test_corrupt_buffer_length(m):
    # Grow the weights tensor's declared shape: its buffer no longer matches.
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    import flatbuffers
    data = m.int8.read_bytes()
    mt = s.ModelT.InitFromObj(s.Model.GetRootAs(data, 0))
    sg = mt.subgraphs[0]
    w = sg.tensors[sg.operators[0].inputs[1]]
    w.shape = [9, 3, 3, 1]
    b = flatbuffers.Builder(0)
    b.Finish(mt.Pack(b), file_identifier=b"TFL3")
    with pytest.raises(ModelError, match=r"needs 81 bytes but its buffer holds 72"):
        parse_tflite(bytes(b.Output()), "corrupt.tflite")


def test_qat_model_layer_names_agree_between_check_and_aot():
    """tfmot's QAT wrappers prefix layers with "quant_": the host check (op_table) and the
    AOT compiler (its errors and comments) name the same, user-facing layer."""
    import numpy as np

    from tinyml.core import tfcompat
    from tinyml.codegen.aot import compile_tflite
    from tinyml.compress import quantize as q
    from tinyml.train.models import StudentSpec, build_student
    tfcompat.seed_everything(0)
    x = np.random.default_rng(0).random((32, 8, 8, 1), dtype=np.float32)
    qat, _ = q.qat_wrap(q.with_softmax(build_student(StudentSpec("cnn", 4, 1), (8, 8, 1), 3)))
    tfl = q.to_int8_tflite(qat, q.representative_samples(x, 16, 0))
    fm = parse_tflite(tfl)
    assert any("quant_" in t.name for t in fm.tensors)          # the wrapper names are there
    res = compile_tflite(tfl)
    check_names = {op.index: op.layer for op in fm.ops}
    assert [op.layer for op in res.graph.ops] == [check_names[op.index] for op in res.graph.ops]
    assert res.layers and not any(name.startswith("quant_") for name in res.layers)
    conv = next(op for op in res.graph.ops if op.builtin == "CONV_2D")
    assert conv.outputs[0].layer == check_names[conv.index]      # the tensor rule agrees too
