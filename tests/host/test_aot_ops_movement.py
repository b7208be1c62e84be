"""AOT data movement: SLICE, STRIDED_SLICE (negative strides, shrink and begin/end
masks), SPLIT, SPLIT_V, UNPACK, PACK, GATHER, RESIZE_NEAREST_NEIGHBOR and
RESIZE_BILINEAR (integer, fractional and shrinking scales, half-pixel centres,
aligned corners), bit-exact against the
TFLM host runtime; out-of-range constants are refused at compile time."""
from __future__ import annotations

import numpy as np
import pytest

from aot_harness import assert_bit_exact, op_index, to_int8_tflite


def _k():
    from tinyml.core.tfcompat import keras, seed_everything, tf
    seed_everything(0)
    return keras(), tf()


SHAPE = (6, 5, 4)


def _graphs(tf):
    return {
        "SLICE": lambda v: tf.slice(v, [0, 1, 2, 1], [1, 4, -1, 2]),
        "STRIDED_SLICE": lambda v: v[:, 1:6:2, ::-1, 1:],
        "STRIDED_SLICE_shrink": lambda v: v[:, 2, -4:, :3],
        "STRIDED_SLICE_neg": lambda v: v[:, -1:0:-2, 3:0:-1, ::-2],
        "SPLIT": lambda v: tf.concat(tf.split(v, 2, axis=-1)[::-1], axis=-1),
        "SPLIT_V": lambda v: tf.concat(tf.split(v, [1, 3, 2], axis=1)[::-1], axis=1),
        "UNPACK": lambda v: tf.stack(tf.unstack(v, axis=2)[::-1], axis=1),
        "GATHER": lambda v: tf.gather(v, [3, 0, 1, 1, 2], axis=-1),
        "RESIZE_NEAREST_NEIGHBOR": lambda v: tf.image.resize(v, (12, 10), "nearest"),
        "RESIZE_NEAREST_NEIGHBOR_frac": lambda v: tf.image.resize(v, (7, 9), "nearest"),
        "RESIZE_NEAREST_NEIGHBOR_align": lambda v: tf.compat.v1.image.resize_nearest_neighbor(
            v, (11, 8), align_corners=True),
        "RESIZE_NEAREST_NEIGHBOR_v1": lambda v: tf.compat.v1.image.resize_nearest_neighbor(
            v, (9, 13)),
        "RESIZE_BILINEAR": lambda v: tf.image.resize(v, (12, 10), "bilinear"),
        "RESIZE_BILINEAR_frac": lambda v: tf.image.resize(v, (4, 3), "bilinear"),
        "RESIZE_BILINEAR_align": lambda v: tf.compat.v1.image.resize_bilinear(
            v, (11, 8), align_corners=True),
        "RESIZE_BILINEAR_v1": lambda v: tf.compat.v1.image.resize_bilinear(v, (9, 13)),
    }


def _tfl(name: str) -> bytes:
    k, tf = _k()
    L = k.layers
    inp = k.Input(SHAPE)
    y = L.Conv2D(4, 1, name="pre")(inp)          # a quantized producer, not the input
    y = L.Lambda(_graphs(tf)[name], name="move")(y)
    y = L.Conv2D(3, 1, name="post")(y) if len(y.shape) == 4 else \
        L.Dense(3, name="post")(L.Flatten(name="flat")(y))
    m = k.Model(inp, y)
    rep = np.random.default_rng(1).uniform(-1, 1, size=(16, *SHAPE)).astype(np.float32)
    return to_int8_tflite(m, rep)


@pytest.mark.parametrize("name", [
    "SLICE", "STRIDED_SLICE", "STRIDED_SLICE_shrink", "STRIDED_SLICE_neg", "SPLIT", "SPLIT_V",
    "UNPACK", "GATHER", "RESIZE_NEAREST_NEIGHBOR", "RESIZE_NEAREST_NEIGHBOR_frac",
    "RESIZE_NEAREST_NEIGHBOR_align", "RESIZE_NEAREST_NEIGHBOR_v1", "RESIZE_BILINEAR",
    "RESIZE_BILINEAR_frac", "RESIZE_BILINEAR_align", "RESIZE_BILINEAR_v1"])
def test_movement_bit_exact(name):
    tfl = _tfl(name)
    res = assert_bit_exact(tfl, n_inputs=3)
    builtin = name.split("_shrink")[0].split("_neg")[0].split("_frac")[0].split("_align")[0] \
        .split("_v1")[0]
    assert builtin in res.ops, res.ops
    if builtin == "UNPACK":
        assert "PACK" in res.ops


def test_gather_index_out_of_range_is_refused():
    from tinyml.codegen.aot import compile_tflite
    from tinyml.core.errors import UnsupportedOpError
    tfl = _tfl("GATHER")
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    m = s.ModelT.InitFromPackedBuf(bytearray(tfl), 0)
    op = m.subgraphs[0].operators[op_index(tfl, "GATHER")]
    idx_tensor = m.subgraphs[0].tensors[op.inputs[1]]
    buf = m.buffers[idx_tensor.buffer]
    vals = np.frombuffer(bytes(bytearray(buf.data)), np.int32).copy()
    vals[1] = 4                                   # the axis has 4 elements: 0..3
    buf.data = np.frombuffer(vals.tobytes(), np.uint8)
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    with pytest.raises(UnsupportedOpError) as ei:
        compile_tflite(bytes(b.Output()))
    assert ei.value.op == "GATHER" and "indices [4]" in ei.value.message, ei.value.message
