"""Pruning reaches its target sparsity; PTQ gives a full-int8 model."""
import numpy as np
import pytest

from tinyml import tfcompat
from tinyml.compress import prune as prune_mod
from tinyml.compress import quantize as q
from tinyml.errors import ModelError
from tinyml.train import fit
from tinyml.train.models import StudentSpec, build_student


def _toy_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 8, 8, 1), dtype=np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int64)
    return x, y


def test_prune_reaches_target_sparsity():
    tfcompat.seed_everything(0)
    x, y = _toy_data()
    model = build_student(StudentSpec("cnn", 8, 2), (8, 8, 1), 2)
    loss = tfcompat.keras().losses.SparseCategoricalCrossentropy(from_logits=True)
    assert prune_mod.measure_sparsity(model)["sparsity"] < 0.01

    def train_fn(wrapped, callbacks):
        fit.train(wrapped, x, y, x[:64], y[:64], loss=loss, epochs=4, batch_size=32,
                  learning_rate=1e-3, seed=0, callbacks=callbacks, min_epoch=3, cosine=False)

    stripped = prune_mod.prune(model, sparsity=0.5, steps_per_epoch=8, epochs=4, frequency=2,
                               train_fn=train_fn)
    sp = prune_mod.measure_sparsity(stripped)
    # Stripped model: plain Keras layers, half of every prunable kernel exactly zero.
    assert not any("prune" in type(layer).__name__.lower() for layer in stripped.layers)
    assert sp["sparsity"] == pytest.approx(0.5, abs=0.02)
    assert all(v == pytest.approx(0.5, abs=0.05) for v in sp["per_layer"].values())
    assert sp["weights"] == sum(w.size for _, w in prune_mod.prunable_kernels(stripped))
    # Zeros survive full-int8 quantization (symmetric int8 weights: 0.0 -> 0).
    data = q.to_int8_tflite(q.with_softmax(stripped), q.representative_samples(x, 20, 0))
    assert q.int8_weight_sparsity(data) == pytest.approx(sp["sparsity"], abs=1e-9)


def test_ptq_full_int8_io_and_ops():
    tfcompat.seed_everything(0)
    x, y = _toy_data()
    model = build_student(StudentSpec("dscnn", 8, 2), (8, 8, 1), 2)
    data = q.to_int8_tflite(q.with_softmax(model), q.representative_samples(x, 50, 0))
    assert q.io_details(data) == {"input": ["INT8"], "output": ["INT8"]}
    ops = q.verify_int8(data)
    assert ops[-1] == "SOFTMAX"
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"} <= set(ops)
    for row in q.describe_ops(data):
        assert all(t == "INT8" for t in row["outputs"]), row
    # The int8 model is a probability model: dequantized outputs sum to ~1.
    p = q.tflite_predict(data, x[:8])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=0.03)
    # And it runs in the TFLM host runtime with int8 I/O.
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(data, arena_size=64 * 1024)
    assert it.get_input_details(0)["dtype"] == np.int8
    it.set_input(np.zeros((1, 8, 8, 1), np.int8), 0)
    it.invoke()
    assert it.get_output(0).dtype == np.int8


def test_float_model_is_rejected_as_int8():
    tfcompat.seed_everything(0)
    model = build_student(StudentSpec("mlp", 8, 1), (8, 8, 1), 3)
    data = q.to_float_tflite(q.with_softmax(model))
    with pytest.raises(ModelError, match="FLOAT32"):
        q.verify_int8(data)


def test_representative_samples_seeded_subset():
    x = np.arange(100, dtype=np.float32).reshape(100, 1)
    a = q.representative_samples(x, 10, 3)
    assert a.shape == (10, 1) and len(set(a[:, 0])) == 10
    np.testing.assert_array_equal(a, q.representative_samples(x, 10, 3))
    assert q.representative_samples(x, 500, 3).shape == (100, 1)


def test_qat_converts_to_same_int8_format():
    tfcompat.seed_everything(0)
    x, y = _toy_data(128)
    model = build_student(StudentSpec("dscnn", 4, 1), (8, 8, 1), 2)
    qat, logits_view = q.qat_wrap(q.with_softmax(model))
    # The logits view shares the QAT layers: training it trains the QAT model.
    assert logits_view.output_shape == (None, 2)
    assert type(qat.layers[-1].layer).__name__ == "Softmax"
    before = [w.copy() for w in qat.get_weights()]
    loss = tfcompat.keras().losses.SparseCategoricalCrossentropy(from_logits=True)
    fit.train(logits_view, x, y, x[:32], y[:32], loss=loss, epochs=1, batch_size=32,
              learning_rate=1e-3, seed=0, restore_best=False)
    assert any(not np.array_equal(a, b) for a, b in zip(before, qat.get_weights()))
    data = q.to_int8_tflite(qat, q.representative_samples(x, 20, 0))
    assert q.io_details(data) == {"input": ["INT8"], "output": ["INT8"]}
    assert q.verify_int8(data)[-1] == "SOFTMAX"
