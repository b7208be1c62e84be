"""Code generators: C arrays, op resolver, model metadata, golden vectors.

Every generated C file is also compiled with the host gcc (-Wall -Wextra -Werror)."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from test_export_support import LABELS, _model_dir, parse_c_array
from tinyml.model import golden as golden_mod
from tinyml.codegen import carray, golden_c, metadata, resolver
from tinyml.core.errors import ModelError, UnsupportedOpError

GCC = shutil.which("gcc")


def _compile(tmp: Path, files: dict[str, str], defines: tuple[str, ...] = ()) -> None:
    for name, text in files.items():
        (tmp / name).write_text(text)
    for name in files:
        if name.endswith(".c"):
            cmd = [GCC, "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", *defines,
                   "-I", str(tmp), "-c", str(tmp / name), "-o", str(tmp / (name + ".o"))]
            cp = subprocess.run(cmd, capture_output=True, text=True)
            assert cp.returncode == 0, cp.stderr


def _macro(text: str, name: str) -> str:
    m = re.search(rf"^#define {name} (.+)$", text, re.M)
    assert m, f"{name} missing"
    return m.group(1).strip()


@pytest.fixture(scope="module")
def model():
    d = _model_dir("cnn")
    tflite = (d / "model_int8.tflite").read_bytes()
    return tflite, metadata.read_model_info(tflite), golden_mod.load(d / "golden.npz")


# ---- carray ---------------------------------------------------------------------------
def test_model_array_round_trips_and_is_aligned_const(model, tmp_path):
    tflite, info, _ = model
    files = carray.model_data_files(tflite, info.sha256)
    c, h = files["tm_model_data.c"], files["tm_model_data.h"]
    assert parse_c_array(c, "tm_model_tflite") == tflite
    assert f"const unsigned char tm_model_tflite[{len(tflite)}] TM_ALIGNED(16)" in c
    assert "__attribute__((aligned(n)))" in h
    assert f"tm_model_tflite_len = {len(tflite)}u;" in c
    assert "#if defined(TM_RUNTIME_TFLM)" in c          # AOT builds do not link the array
    if GCC:
        _compile(tmp_path, files, ("-DTM_RUNTIME_TFLM=1",))
        sym = subprocess.run(["nm", "-S", str(tmp_path / "tm_model_data.c.o")], capture_output=True, text=True).stdout
        assert re.search(rf"{len(tflite):016x} R tm_model_tflite", sym), sym   # read-only data (flash)
        _compile(tmp_path, files)                      # and without TFLM: still compiles
        sym = subprocess.run(["nm", str(tmp_path / "tm_model_data.c.o")], capture_output=True, text=True).stdout
        assert "tm_model_tflite" not in sym


@pytest.mark.parametrize("data", [b"\x00", bytes(range(256)), b"\xff" * 33])
def test_bytes_to_c_generic(data):
    arr = carray.bytes_to_c("blob", data, align=8)
    assert parse_c_array(arr.definition, "blob") == data
    assert "TM_ALIGNED(8)" in arr.definition and "TM_ALIGNED(8)" in arr.declaration
    with pytest.raises(ValueError):
        carray.bytes_to_c("not an ident", data)
    with pytest.raises(ValueError):
        carray.bytes_to_c("blob", data, align=12)


def test_c_string_and_float_literals():
    assert carray.c_string('a"b\\c') == '"a\\"b\\\\c"'
    assert carray.c_string("??=") == '"\\077\\077="'       # no trigraphs
    assert carray.c_string("é") == '"\\303\\251"'
    assert carray.c_float(1.0) == "1.0f"
    assert carray.c_float(2.0 ** -40) == "9.09494702e-13f"
    for v in (0.00392134907, 1 / 3, 2.0 ** -20, 123456.789):
        lit = carray.c_float(v)
        assert lit.endswith("f") and np.float32(float(lit[:-1])) == np.float32(v)


# ---- resolver -------------------------------------------------------------------------
def test_resolver_has_exactly_the_models_ops(model):
    tflite, info, _ = model
    h = resolver.resolver_header(info.op_kinds, info.sha256)
    adds = re.findall(r"resolver\.(Add\w+)\(\)", h)
    assert adds == ["AddConv2D", "AddDepthwiseConv2D", "AddMaxPool2D", "AddReshape",
                    "AddFullyConnected", "AddSoftmax"]
    assert _macro(h, "TM_TFLM_OP_KINDS") == "6"
    assert "MicroMutableOpResolver<TM_TFLM_OP_KINDS>" in h


def test_resolver_refuses_unknown_op():
    with pytest.raises(UnsupportedOpError) as ei:
        resolver.resolver_header(["CONV_2D", "STABLEHLO_COMPOSITE"], "0" * 64)
    assert ei.value.op == "STABLEHLO_COMPOSITE"
    assert "STABLEHLO_COMPOSITE" in str(ei.value)


def test_resolver_table_covers_tflm_host_runtime_kernels():
    """Every op the TFLM host runtime registers (Register_<OP> symbols) has a method."""
    from tflite_micro.python.tflite_micro import runtime
    so = Path(runtime.__file__).parent / "_runtime.so"
    syms = set(re.findall(rb"Register_([A-Z0-9_]+)E", so.read_bytes()))
    names = set(metadata.builtin_op_names().values())
    builtin_regs = {s.decode() for s in syms} & names
    missing = builtin_regs - set(resolver.TFLM_BUILTIN_METHODS)
    # Ops the host library has but current TFLM's MicroMutableOpResolver cannot add.
    assert missing <= {"REDUCE_ALL", "DYNAMIC_UPDATE_SLICE", "DECODE"}, missing
    assert len(builtin_regs) > 80


# ---- metadata -------------------------------------------------------------------------
def test_model_info_matches_tflm_host_runtime(model):
    tflite, info, _ = model
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(tflite, arena_size=64 * 1024)
    ind, outd = it.get_input_details(0), it.get_output_details(0)
    assert info.input.shape == tuple(ind["shape"]) == (1, 8, 8, 1)
    assert info.output.shape == tuple(outd["shape"]) == (1, 4)
    assert info.input.scale == pytest.approx(float(ind["quantization_parameters"]["scales"][0]))
    assert info.input.zero_point == int(ind["quantization_parameters"]["zero_points"][0])
    assert info.output.zero_point == int(outd["quantization_parameters"]["zero_points"][0])
    assert info.ops == ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX")
    # conv 6x6x4 outputs x 3x3x1, depthwise 4x4x4 x 3x3, dense 4 x 16
    assert info.macs == 6 * 6 * 4 * 9 + 4 * 4 * 4 * 9 + 4 * 16
    assert info.sha256 == hashlib.sha256(tflite).hexdigest()


def test_meta_header_values(model, tmp_path):
    tflite, info, _ = model
    files = metadata.meta_files(info, "kws", "kws", "tflm", arena_min=3000, arena_bytes=3300,
                                labels=LABELS, has_tflm=True)
    h = files["tm_model_meta.h"]
    assert _macro(h, "TM_MODEL_NAME") == '"kws"'
    assert _macro(h, "TM_MODEL_SHA256") == f'"{info.sha256}"'
    assert _macro(h, "TM_MODEL_INPUT_DIMS") == "{ 1, 8, 8, 1 }"
    assert _macro(h, "TM_MODEL_INPUT_BYTES") == "64u"
    assert _macro(h, "TM_MODEL_OUTPUT_BYTES") == "4u"
    assert np.float32(float(_macro(h, "TM_MODEL_INPUT_SCALE").rstrip("f"))) == np.float32(info.input.scale)
    assert int(_macro(h, "TM_MODEL_INPUT_ZERO_POINT")) == info.input.zero_point
    assert int(_macro(h, "TM_MODEL_OUTPUT_ZERO_POINT")) == info.output.zero_point
    assert _macro(h, "TM_MODEL_TFLM_ARENA_BYTES") == "3300u"
    assert _macro(h, "TM_MODEL_OP_COUNT") == "6u"
    assert _macro(h, "TM_MODEL_MACS") == f"{info.macs}ull"
    assert _macro(h, "TM_MODEL_LABEL_COUNT") == "4u"
    assert re.findall(r'"(\w+)",', files["tm_model_meta.c"]) == LABELS
    if GCC:
        _compile(tmp_path, files)


def test_meta_without_labels_compiles(model, tmp_path):
    _, info, _ = model
    files = metadata.meta_files(info, "m", "m", "aot", 1, 1, labels=[])
    assert _macro(files["tm_model_meta.h"], "TM_MODEL_LABEL_COUNT") == "0u"
    if GCC:
        _compile(tmp_path, files)


def test_read_model_info_rejects_garbage_and_float_io(tmp_path):
    with pytest.raises(ModelError, match="bad.tflite: not a TFLite flatbuffer: bytes 4..8"):
        metadata.read_model_info(b"\x00" * 64, source="bad.tflite")
    from tflite_micro.python.tflite_micro import runtime
    sine = (Path(runtime.__file__).parent / "sine_float.tflite").read_bytes()   # a real float model
    with pytest.raises(ModelError, match="input tensor .* float32"):
        metadata.read_model_info(sine, source="sine_float.tflite")


# ---- golden ---------------------------------------------------------------------------
def test_golden_arrays_equal_npz(model, tmp_path):
    _, info, g = model
    files = golden_c.golden_files(g, info.input.size, info.output.size)
    h, c = files["tm_golden.h"], files["tm_golden.c"]
    assert _macro(h, "TM_GOLDEN_COUNT") == f"{len(g)}u"
    assert _macro(h, "TM_GOLDEN_INPUT_BYTES") == "64u"
    assert _macro(h, "TM_GOLDEN_OUTPUT_BYTES") == "4u"
    ins = np.frombuffer(parse_c_array(c, "tm_golden_inputs"), np.int8).reshape(len(g), -1)
    outs = np.frombuffer(parse_c_array(c, "tm_golden_outputs"), np.int8).reshape(len(g), -1)
    np.testing.assert_array_equal(ins, g.inputs.reshape(len(g), -1))
    np.testing.assert_array_equal(outs, g.outputs.reshape(len(g), -1))
    m = re.search(r"tm_golden_labels\[TM_GOLDEN_COUNT\] = \{(.*?)\};", c, re.S)
    assert [int(v) for v in re.findall(r"-?\d+", m.group(1))] == g.labels.tolist()
    if GCC:
        _compile(tmp_path, files)


def test_golden_for_another_model_is_refused(model):
    _, info, g = model
    with pytest.raises(ModelError, match="inputs have 64 values each, the model takes 12"):
        golden_c.golden_files(g, expect_in=12, expect_out=4)


def test_generators_are_deterministic(model):
    tflite, info, g = model
    def gen():
        out = {}
        out.update(carray.model_data_files(tflite, info.sha256))
        out.update(metadata.meta_files(info, "m", "m", "tflm", 10, 11, LABELS, has_tflm=True))
        out["r.h"] = resolver.resolver_header(info.op_kinds, info.sha256)
        out.update(golden_c.golden_files(g))
        return out
    a, b = gen(), gen()
    assert a == b
    assert not any(re.search(r"20\d\d-\d\d-\d\d", t) for t in a.values())   # no timestamps
