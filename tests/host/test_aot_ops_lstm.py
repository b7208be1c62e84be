"""AOT UNIDIRECTIONAL_SEQUENCE_LSTM (TFLM's int8 LSTM with int16 cell state),
bit-exact against the TFLM host runtime: a Keras LSTM trained on a sequence task,
stacked and sequence-returning layers, weights large enough to saturate the gates
and grow the cell state past 1 (cell scales 2^-11 .. 2^-15, so every tanh shift
path), hidden states with non-zero zero points, an active cell clip, and the LSTM
variants TFLM refuses (refused here too, by name)."""
from __future__ import annotations

import numpy as np
import pytest

from aot_harness import assert_bit_exact, op_index, patch_op_options, to_int8_tflite

STEPS, FEATURES = 12, 5


def _keras():
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(0)
    return keras()


def _sequences(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy sine sequences; the label says which of 3 frequencies (a task an LSTM
    learns in a few epochs, so the weights are trained, not random)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    t = np.arange(STEPS)[None, :, None]
    f = (0.3 + 0.35 * y)[:, None, None]
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    x = np.sin(f * t + phase + np.arange(FEATURES)[None, None, :] * 0.5)
    x = x + rng.normal(0, 0.1, x.shape)
    return x.astype(np.float32), y


def _model(units=(8,), seq_out=False, gain=1.0):
    k = _keras()
    L = k.layers
    inp = k.Input((STEPS, FEATURES), batch_size=1)
    h = inp
    for i, u in enumerate(units):
        last = i == len(units) - 1
        h = L.LSTM(u, return_sequences=seq_out or not last, name=f"lstm{i}")(h)
    y = L.Dense(3, name="head")(L.Flatten(name="flat")(h) if seq_out else h)
    m = k.Model(inp, y)
    if gain != 1.0:
        m.set_weights([w * gain for w in m.get_weights()])
    return m


def test_trained_lstm_bit_exact():
    m = _model()
    x, y = _sequences(600)
    m.compile("adam", _loss(), metrics=["accuracy"])
    m.fit(x, y, epochs=8, batch_size=32, verbose=0)
    acc = m.evaluate(*_sequences(200, seed=1), verbose=0)[1]
    assert acc > 0.6, acc                          # it learned: the weights are trained
    tfl = to_int8_tflite(m, _sequences(64, seed=2)[0])
    xt = _quantized(tfl, _sequences(16, seed=3)[0])
    res = assert_bit_exact(tfl, inputs=xt)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in res.ops, res.ops


def _loss():
    from tinyml.core.tfcompat import keras
    return keras().losses.SparseCategoricalCrossentropy(from_logits=True)


def _quantized(tfl: bytes, x: np.ndarray) -> np.ndarray:
    from tinyml.codegen.aot.reader import read_tflite
    t = read_tflite(tfl).inputs[0]
    q = np.round(x / t.scalar_scale()) + t.scalar_zp()
    return np.clip(q, -128, 127).astype(np.int8).reshape(len(x), *t.shape[1:])


@pytest.mark.parametrize("kw", [
    dict(units=(6, 4), seq_out=True),              # stacked, every step's output used
    dict(units=(5,), gain=3.0),                    # saturated gates, cell beyond +-1
    dict(units=(9,), gain=6.0, seq_out=True),
], ids=["stacked", "gain3", "gain6_seq"])
def test_lstm_shapes_and_saturation_bit_exact(kw):
    m = _model(**kw)
    tfl = to_int8_tflite(m, _sequences(48, seed=2)[0] * 2)
    res = assert_bit_exact(tfl, inputs=_quantized(tfl, _sequences(12, seed=4)[0] * 2.5))
    assert res.ops.count("UNIDIRECTIONAL_SEQUENCE_LSTM") == len(kw["units"]), res.ops


def _gain3() -> bytes:
    return to_int8_tflite(_model(units=(5,), gain=3.0), _sequences(48, seed=2)[0] * 2)


def test_lstm_cell_clip_bit_exact():
    """The converter writes cell_clip 10 (beyond an int16 cell of scale 2^-11); a
    smaller clip makes TFLM clamp the cell every step."""
    tfl = _gain3()
    tfl = patch_op_options(tfl, op_index(tfl, "UNIDIRECTIONAL_SEQUENCE_LSTM"), cellClip=0.4)
    assert_bit_exact(tfl, inputs=_quantized(tfl, _sequences(12, seed=4)[0] * 2.5))


@pytest.mark.parametrize("slot,name", [(9, "peephole"), (16, "projection"), (20, "layer norm")])
def test_lstm_variants_refused(slot, name):
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    from tinyml.codegen.aot import compile_tflite
    from tinyml.core.errors import UnsupportedOpError
    tfl = _gain3()
    m = s.ModelT.InitFromPackedBuf(bytearray(tfl), 0)
    op = m.subgraphs[0].operators[op_index(tfl, "UNIDIRECTIONAL_SEQUENCE_LSTM")]
    op.inputs[slot] = op.inputs[1]           # any tensor: the slot is no longer empty
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    with pytest.raises(UnsupportedOpError) as ei:
        compile_tflite(bytes(b.Output()))
    assert ei.value.op == "UNIDIRECTIONAL_SEQUENCE_LSTM" and name in ei.value.message
    # TFLM cannot run these either: the hint must not send the user there
    assert ei.value.layer and "--runtime tflm" not in str(ei.value), str(ei.value)
