"""AOT "misc" ops (pooling, softmax, mean, pad, concatenation, logistic, quantize,
dequantize): generated C built with host gcc must equal the TFLM host runtime
byte for byte. Unsupported options must raise UnsupportedOpError naming the op,
tensor and layer with a `--runtime tflm` hint.
"""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from aot_harness import (RUNTIME_DIR, assert_bit_exact, build, op_index,
                         patch_op_options, run_tflm, to_int8_tflite)

MISC_SOURCES = ["tm_k_pool.c", "tm_k_softmax.c", "tm_k_mean.c", "tm_k_pad.c", "tm_k_strided.c",
                "tm_k_concat.c", "tm_k_logistic.c", "tm_k_quantize.c", "tm_k_bilinear.c",
                "tm_k_tconv.c", "tm_k_binary.c", "tm_k_lstm.c", "tm_k_bmm.c"]


def _keras():
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(0)
    return keras()


def _tfl(model, lo: float = -1.0, hi: float = 1.0, n: int = 24, seed: int = 0) -> bytes:
    """Full-int8 .tflite calibrated on uniform data in [lo, hi) (sets the input scale)."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(d) for d in model.input_shape[1:])
    return to_int8_tflite(model, rng.uniform(lo, hi, size=(n, *shape)).astype(np.float32))


def _all_bytes(shape: tuple[int, ...]) -> np.ndarray:
    """Inputs covering every int8 value (cycled) for an input of `shape`."""
    size = int(np.prod(shape))
    n = max(1, -(-256 // size))
    vals = np.resize(np.arange(-128, 128, dtype=np.int16), n * size).astype(np.int8)
    return vals.reshape(n, *shape)


def _expect_unsupported(tfl: bytes, builtin: str, what: str):
    from tinyml.codegen.aot import compile_tflite
    from tinyml.core.errors import UnsupportedOpError
    with pytest.raises(UnsupportedOpError) as ei:
        compile_tflite(tfl)
    e = ei.value
    assert e.op == builtin, e.op
    assert what in e.message, e.message
    assert e.tensor and e.layer and e.tensor in e.message and e.layer in e.message
    assert "--runtime tflm" in (e.hint or "")
    return e


# --- pooling ------------------------------------------------------------------------

POOLS = [  # (kind, input HWC, pool, strides, padding)
    ("avg", (8, 8, 4), (2, 2), (2, 2), "valid"),
    ("avg", (7, 9, 3), (3, 3), (2, 2), "same"),   # partial windows at both edges
    ("avg", (5, 6, 2), (3, 2), (1, 1), "same"),
    ("avg", (9, 7, 3), (4, 3), (3, 2), "valid"),
    ("max", (8, 8, 4), (2, 2), (2, 2), "valid"),
    ("max", (7, 9, 3), (3, 3), (2, 2), "same"),
    ("max", (6, 7, 5), (2, 3), (1, 2), "same"),
]


@pytest.mark.parametrize("kind,shape,pool,strides,padding", POOLS)
def test_pooling(kind, shape, pool, strides, padding):
    k = _keras()
    L = k.layers
    layer = L.AveragePooling2D if kind == "avg" else L.MaxPooling2D
    inp = k.Input(shape)
    out = layer(pool, strides=strides, padding=padding)(inp)
    tfl = _tfl(k.Model(inp, out), -3.0, 2.0)
    res = assert_bit_exact(tfl, n_inputs=6, seed=1)
    assert res.ops == ["AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D"]


def test_pooling_fused_relu_after_conv():
    k = _keras()
    L = k.layers
    inp = k.Input((10, 10, 3))
    x = L.Conv2D(4, 3, padding="same")(inp)
    x = L.AveragePooling2D(3, strides=2, padding="same")(x)
    x = L.ReLU()(x)
    x = L.MaxPooling2D(2, padding="same")(x)
    out = L.ReLU(6.0)(x)
    res = assert_bit_exact(_tfl(k.Model(inp, out)), n_inputs=6, seed=2)
    assert "AVERAGE_POOL_2D" in res.ops and "MAX_POOL_2D" in res.ops


def test_pooling_unsupported_fused_tanh():
    k = _keras()
    L = k.layers
    inp = k.Input((6, 6, 2))
    out = L.AveragePooling2D(2)(L.Conv2D(2, 1)(inp))
    tfl = _tfl(k.Model(inp, out))
    # TANH (4) is no fused activation TFLM or we can clamp to.
    tfl = patch_op_options(tfl, op_index(tfl, "AVERAGE_POOL_2D"), fusedActivationFunction=4)
    _expect_unsupported(tfl, "AVERAGE_POOL_2D", "fused activation")


# --- softmax ------------------------------------------------------------------------

@pytest.mark.parametrize("lo,hi", [(-0.2, 0.2), (-4.0, 4.0), (-40.0, 40.0), (-100.0, 100.0)])
def test_softmax_input_scales(lo, hi):
    """Softmax straight on the model input: every input scale from tiny to one
    where most differences underflow (saturate to -128) must be exact."""
    k = _keras()
    inp = k.Input((12,))
    out = k.layers.Softmax()(inp)
    tfl = _tfl(k.Model(inp, out), lo, hi)
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, size=(60, 12)).astype(np.int8)
    x[:20] //= 16                            # near-uniform rows
    x[20:30] = rng.integers(110, 128, size=(10, 12))
    x[30:35] = 127                           # all equal: 1/12 each
    x[35:40] = -128
    x[40:45, :] = -128
    x[40:45, 3] = 127                        # one-hot: saturates to 127 / -128
    res = assert_bit_exact(tfl, inputs=x)
    assert res.ops == ["SOFTMAX"]


def test_softmax_is_fixed_point_not_float():
    """Rows where TFLM's int8 softmax differs from a correctly rounded float softmax
    (what a float-exp lookup table would give): TFLM runs gemmlowp fixed-point exp,
    and the AOT kernel must reproduce exactly those bytes."""
    k = _keras()
    inp = k.Input((12,))
    tfl = _tfl(k.Model(inp, k.layers.Softmax()(inp)), -4.0, 4.0)
    from tinyml.codegen.aot.reader import read_tflite
    s_in = read_tflite(tfl).inputs[0].scalar_scale()
    # Pick, among many random rows, those whose float softmax*256 lies closest to a
    # rounding tie: that is where fixed-point and float results can part.
    rng = np.random.default_rng(5)
    cand = rng.integers(-128, 128, size=(100000, 12)).astype(np.int8)
    cand[:50000] //= 8
    xd = cand.astype(np.float64)
    e = np.exp(s_in * (xd - xd.max(1, keepdims=True)))
    v = e / e.sum(1, keepdims=True) * 256
    tie = np.abs(v - np.floor(v) - 0.5).min(axis=1)
    x = cand[np.argsort(tie, kind="stable")[:400]]
    ref = run_tflm(tfl, x).reshape(x.shape)
    xd = x.astype(np.float64)
    e = np.exp(s_in * (xd - xd.max(1, keepdims=True)))
    flt = np.clip(np.floor(e / e.sum(1, keepdims=True) * 256 + 0.5) - 128, -128, 127)
    rows = np.unique(np.argwhere(flt != ref)[:, 0])
    assert rows.size >= 1, "no row separates fixed-point from float softmax"
    assert_bit_exact(tfl, inputs=np.concatenate([x[rows], x[:40]]))


def test_softmax_after_dense_rows_and_beta():
    k = _keras()
    L = k.layers
    inp = k.Input((8,))
    x = L.Reshape((6, 10))(L.Dense(60)(inp))
    out = L.Softmax(axis=-1)(x)              # 6 rows of 10
    tfl = _tfl(k.Model(inp, out), -2.0, 2.0)
    assert_bit_exact(tfl, n_inputs=8, seed=4)
    # beta != 1 (the converter always writes 1.0; TFLM honours the option).
    tfl2 = patch_op_options(tfl, op_index(tfl, "SOFTMAX"), beta=0.37)
    res = assert_bit_exact(tfl2, n_inputs=8, seed=5)
    assert res.ops[-1] == "SOFTMAX"


# --- mean ---------------------------------------------------------------------------

@pytest.mark.parametrize("keepdims", [False, True])
def test_mean_global_average_pool(keepdims):
    k = _keras()
    L = k.layers
    inp = k.Input((7, 5, 6))
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    out = L.GlobalAveragePooling2D(keepdims=keepdims)(x)
    tfl = _tfl(k.Model(inp, out))
    res = assert_bit_exact(tfl, n_inputs=8, seed=6)
    assert "MEAN" in res.ops
    g = res.graph
    mean = next(o for o in g.ops if o.builtin == "MEAN")
    # The converter gives MEAN its own output scale: the requantizing path is tested.
    assert mean.inputs[0].scalar_scale() != mean.outputs[0].scalar_scale()


def test_mean_on_input_other_axes():
    """MEAN on the raw input (large sums) over H only and over channels."""
    tf = __import__("tinyml.core.tfcompat", fromlist=["tf"]).tf()
    k = _keras()
    L = k.layers
    inp = k.Input((9, 4, 5))
    a = L.Lambda(lambda t: tf.reduce_mean(t, axis=1, keepdims=True))(inp)
    b = L.Lambda(lambda t: tf.reduce_mean(t, axis=-1, keepdims=True))(a)
    out = L.Flatten()(b)
    res = assert_bit_exact(_tfl(k.Model(inp, out), -2.0, 3.0), n_inputs=8, seed=7)
    assert res.ops.count("MEAN") == 2


def test_mean_unsupported_non_contiguous_axes():
    tf = __import__("tinyml.core.tfcompat", fromlist=["tf"]).tf()
    k = _keras()
    L = k.layers
    inp = k.Input((4, 4, 3))
    out = L.Flatten()(L.Lambda(lambda t: tf.reduce_mean(t, axis=[1, 3], keepdims=True))(inp))
    _expect_unsupported(_tfl(k.Model(inp, out)), "MEAN", "non-contiguous axes")


# --- pad ----------------------------------------------------------------------------

def test_pad_uses_zero_point():
    k = _keras()
    L = k.layers
    inp = k.Input((5, 6, 3))
    x = L.Conv2D(4, 1, activation="relu")(inp)       # zero point far from 0
    x = L.ZeroPadding2D(((1, 2), (3, 0)))(x)
    out = L.Conv2D(3, 3)(x)
    res = assert_bit_exact(_tfl(k.Model(inp, out)), n_inputs=6, seed=8)
    assert "PAD" in res.ops

    # PAD alone: padded bytes must be exactly the zero point of the tensor.
    inp = k.Input((4, 3, 2))
    out = L.ZeroPadding2D(((2, 1), (0, 2)))(inp)
    tfl = _tfl(k.Model(inp, out), 0.5, 3.0)          # zero point -128 + ... != 0
    x = _all_bytes((4, 3, 2))
    res = assert_bit_exact(tfl, inputs=x)
    zp = res.graph.outputs[0].scalar_zp()
    assert zp == res.graph.inputs[0].scalar_zp() and zp != 0
    ref = run_tflm(tfl, x).reshape(len(x), 7, 5, 2)
    border = np.ones((7, 5), bool)
    border[2:6, 0:3] = False
    assert (ref[:, border] == zp).all()
    assert (ref[:, 2:6, 0:3] == x).all()


def test_padv2_constant_value():
    tf = __import__("tinyml.core.tfcompat", fromlist=["tf"]).tf()
    k = _keras()
    L = k.layers
    inp = k.Input((3, 4, 2))
    out = L.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 1], [2, 0], [0, 1]], constant_values=0.75))(inp)
    tfl = _tfl(k.Model(inp, out), -1.0, 1.0)
    res = assert_bit_exact(tfl, inputs=_all_bytes((3, 4, 2)))
    assert res.ops in (["PADV2"], ["PAD"])


def test_pad_rank3():
    k = _keras()
    L = k.layers
    inp = k.Input((7, 3))
    out = L.ZeroPadding1D((3, 1))(L.Conv1D(4, 1, activation="relu")(inp))
    res = assert_bit_exact(_tfl(k.Model(inp, out)), n_inputs=6, seed=14)
    assert "PAD" in res.ops


# --- transpose ----------------------------------------------------------------------

TRANSPOSES = [  # (per-sample input shape, permutation of the per-sample axes)
    ((4, 6, 3), (2, 0, 1)),          # NHWC -> NCHW, as a PyTorch export's flatten needs
    ((3, 4, 6), (1, 2, 0)),          # NCHW -> NHWC
    ((5, 7), (1, 0)),
    ((2, 3, 4, 5), (3, 1, 0, 2)),    # rank 5 with the batch
    ((1, 5, 3), (2, 1, 0)),          # width-1 axis
]


@pytest.mark.parametrize("shape,perm", TRANSPOSES, ids=[f"{len(s)}d-{''.join(map(str, p))}" for s, p in TRANSPOSES])
def test_transpose_is_a_permuted_copy(shape, perm):
    k = _keras()
    inp = k.Input(shape)
    out = k.layers.Permute(tuple(i + 1 for i in perm))(inp)
    tfl = _tfl(k.Model(inp, out), -2.0, 2.0)
    x = _all_bytes(shape)
    res = assert_bit_exact(tfl, inputs=x)
    assert res.ops == ["TRANSPOSE"]
    assert np.array_equal(run_tflm(tfl, x).reshape(len(x), *[shape[i] for i in perm]),
                          np.transpose(x, (0, *[i + 1 for i in perm])))


def test_transpose_then_dense_as_an_nchw_flatten():
    """Conv -> permute to channels-first -> flatten -> dense: a PyTorch export's head."""
    k = _keras()
    L = k.layers
    inp = k.Input((5, 4, 2))
    x = L.Conv2D(3, 3, padding="same", activation="relu")(inp)
    x = L.Flatten()(L.Permute((3, 1, 2))(x))
    res = assert_bit_exact(_tfl(k.Model(inp, L.Dense(6)(x))), n_inputs=6, seed=21)
    assert "TRANSPOSE" in res.ops and "FULLY_CONNECTED" in res.ops


# --- concatenation ------------------------------------------------------------------

def test_concat_equal_scales_channels_and_height():
    k = _keras()
    L = k.layers
    inp = k.Input((6, 5, 3))
    a = L.Conv2D(3, 1)(inp)
    b = L.Conv2D(5, 3, padding="same", activation="relu")(inp)
    c = L.Concatenate(axis=-1)([a, b, inp])           # converter equalises all scales
    d = L.Concatenate(axis=1)([c, L.Conv2D(11, 1)(inp)])
    res = assert_bit_exact(_tfl(k.Model(inp, d)), n_inputs=6, seed=9)
    assert res.ops.count("CONCATENATION") == 2
    cat = [o for o in res.graph.ops if o.builtin == "CONCATENATION"][0]
    assert len({float(t.scalar_scale()) for t in cat.inputs + cat.outputs}) == 1


def test_concat_different_scales_requantize():
    """A sigmoid output has a fixed scale (1/256), so the converter requantizes it
    (QUANTIZE int8 -> int8) before the concatenation."""
    k = _keras()
    L = k.layers
    inp = k.Input((5, 5, 3))
    a = L.Activation("sigmoid")(L.Conv2D(3, 1)(inp))
    b = L.Conv2D(4, 1)(inp)
    out = L.Concatenate()([a, b])
    res = assert_bit_exact(_tfl(k.Model(inp, out), -3.0, 3.0), n_inputs=8, seed=10)
    assert "QUANTIZE" in res.ops and "LOGISTIC" in res.ops and "CONCATENATION" in res.ops
    q = next(o for o in res.graph.ops if o.builtin == "QUANTIZE")
    assert q.inputs[0].dtype == "int8" and q.inputs[0].scalar_scale() != q.outputs[0].scalar_scale()


def test_concat_mismatched_scales_refused_like_tflm():
    """Hand-edited model whose concat inputs keep different scales: TFLM's Prepare
    refuses it, and so does the AOT compiler (with a clear error)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    k = _keras()
    L = k.layers
    inp = k.Input((4, 4, 2))
    out = L.Concatenate()([L.Conv2D(2, 1)(inp), L.Conv2D(3, 1)(inp)])
    tfl = _tfl(k.Model(inp, out))
    m = s.ModelT.InitFromPackedBuf(bytearray(tfl), 0)
    sg = m.subgraphs[0]
    cat = next(o for o in sg.operators
               if m.operatorCodes[o.opcodeIndex].builtinCode == s.BuiltinOperator.CONCATENATION)
    q = sg.tensors[cat.inputs[0]].quantization
    q.scale = [float(q.scale[0]) * 3.0]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    bad = bytes(b.Output())
    with pytest.raises(RuntimeError):
        run_tflm(bad, np.zeros((1, 4, 4, 2), np.int8))
    _expect_unsupported(bad, "CONCATENATION", "scale and zero point")


def test_concat_unsupported_non_int8():
    from tinyml.codegen.aot.ir import Op, Tensor
    from tinyml.codegen.aot.ops import load_all
    from tinyml.codegen.aot.ops.base import OpContext
    from tinyml.core.errors import UnsupportedOpError
    a = Tensor(1, "model/branch_a/BiasAdd", (1, 4, 2), "int16")
    b = Tensor(2, "model/branch_b/BiasAdd", (1, 4, 3), "int16")
    y = Tensor(3, "model/concatenate/concat", (1, 4, 5), "int16")
    op = Op(0, "CONCATENATION", {"axis": 2, "fused_activation": "NONE"}, [a, b], [y])
    with pytest.raises(UnsupportedOpError) as ei:
        load_all()["CONCATENATION"](op, OpContext(op))
    e = ei.value
    assert e.op == "CONCATENATION" and "int16" in e.message
    assert e.tensor == "model/branch_a/BiasAdd" and e.layer == "branch_a"
    assert "--runtime tflm" in e.hint


# --- logistic -----------------------------------------------------------------------

@pytest.mark.parametrize("lo,hi", [(-0.5, 0.5), (-8.0, 8.0), (-40.0, 40.0), (-1.0, 6.0)])
def test_logistic_all_inputs(lo, hi):
    """Every int8 input value, with input scales from fine to where most inputs are
    beyond the saturation radius."""
    k = _keras()
    inp = k.Input((16,))
    out = k.layers.Activation("sigmoid")(inp)
    tfl = _tfl(k.Model(inp, out), lo, hi)
    res = assert_bit_exact(tfl, inputs=_all_bytes((16,)))
    assert res.ops == ["LOGISTIC"]


# --- quantize / dequantize at float model edges -------------------------------------

def _float_io_tflite(model, lo: float, hi: float) -> bytes:
    from tinyml.core.tfcompat import tf
    t = tf()
    rng = np.random.default_rng(12)
    shape = tuple(int(d) for d in model.input_shape[1:])
    samples = rng.uniform(lo, hi, size=(24, 1, *shape)).astype(np.float32)
    conv = t.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [t.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([s] for s in samples)
    conv.target_spec.supported_ops = [t.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return bytes(conv.convert())       # float32 input and output


def test_quantize_dequantize_float_edges():
    from tinyml.codegen.aot import compile_tflite
    from tflite_micro.python.tflite_micro import runtime
    k = _keras()
    L = k.layers
    inp = k.Input((6, 6, 3))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inp)
    out = L.Dense(5)(L.Flatten()(x))
    tfl = _float_io_tflite(k.Model(inp, out), -2.0, 2.0)
    res = compile_tflite(tfl)
    assert res.ops[0] == "QUANTIZE" and res.ops[-1] == "DEQUANTIZE"
    assert res.graph.inputs[0].dtype == "float32" and res.graph.outputs[0].dtype == "float32"
    # Float tensors live in the int8 arena: no float pointer may alias it (strict aliasing).
    assert "float *" not in res.files["tm_aot_model.c"]

    rng = np.random.default_rng(13)
    x = rng.uniform(-2.5, 2.5, size=(12, 6, 6, 3)).astype(np.float32)
    x[0] = 0.0
    x[1] = 1e6                          # clamps to 127
    x[2] = -1e6                         # clamps to -128
    q_scale = float(next(o for o in res.graph.ops if o.builtin == "QUANTIZE").outputs[0].scalar_scale())
    x[3] = (np.arange(108).reshape(6, 6, 3) - 54 + 0.5) * q_scale   # exact .5 ties
    exe = build(res)
    proc = subprocess.run([str(exe), str(len(x))], input=x.tobytes(), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    ours = np.frombuffer(proc.stdout, np.float32).reshape(len(x), -1)
    interp = runtime.Interpreter.from_bytes(tfl, arena_size=1 << 20)
    ref = []
    for xi in x:
        interp.set_input(xi[None], 0)
        interp.invoke()
        ref.append(np.array(interp.get_output(0), np.float32).reshape(-1))
    ref = np.stack(ref)
    assert ours.tobytes() == ref.tobytes(), np.argwhere(ours != ref)[:5]


# --- the kernels build for the Cortex-M4 too ----------------------------------------

@pytest.mark.tools("arm-none-eabi-gcc")
def test_misc_kernels_cross_compile_cortex_m4(tmp_path):
    gcc = "arm-none-eabi-gcc"
    for src in MISC_SOURCES:
        cmd = [gcc, "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
               "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", f"-I{RUNTIME_DIR}",
               "-c", str(RUNTIME_DIR / src), "-o", str(tmp_path / (src + ".o"))]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / (src + ".o")).stat().st_size > 0
