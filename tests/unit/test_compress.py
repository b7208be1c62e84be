"""Pruning reaches its target sparsity (channel pruning keeps the function of
the kept channels exactly and shrinks the int8 model); PTQ gives a full-int8 model."""
import numpy as np
import pytest

from tinyml.core import tfcompat
from tinyml.compress import prune as prune_mod
from tinyml.compress import quantize as q
from tinyml.core.errors import ModelError
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


def _bn_randomized(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            layer.set_weights([(rng.random(w.shape) + 0.5).astype(np.float32) for w in layer.get_weights()])
    return model


@pytest.mark.parametrize("spec", [StudentSpec("dscnn", 8, 2), StudentSpec("cnn", 6, 3), StudentSpec("mlp", 12, 2)])
def test_channel_pruning_keeps_the_function_of_kept_channels(spec):
    tfcompat.seed_everything(0)
    x, _ = _toy_data(32)
    model = _bn_randomized(build_student(spec, (8, 8, 1), 3))
    names = prune_mod.channel_layers(model)
    assert names and model.layers[-1].name not in names
    rng = np.random.default_rng(1)
    keep = {n: np.sort(rng.permutation(model.get_layer(n).output.shape[-1])[: model.get_layer(n).output.shape[-1] // 2])
            for n in names}
    # Cut every dropped channel off from everything downstream: the first weighted
    # layer reading it (conv/dense; a depthwise passes the channel on) gets zero
    # input weights for it. Then the narrower model must compute the same outputs.
    reader = {}
    L = tfcompat.keras().layers
    for n in names:
        seen = False
        for layer in model.layers:
            if layer.name == n:
                seen = True
                continue
            if seen and isinstance(layer, (L.Conv2D, L.Dense)) and not isinstance(layer, L.DepthwiseConv2D):
                reader[n] = layer
                break
    for n, layer in reader.items():
        c = model.get_layer(n).output.shape[-1]
        drop = np.setdiff1d(np.arange(c), keep[n])
        w = layer.get_weights()
        if isinstance(layer, L.Dense):
            rows = w[0].shape[0]
            w[0][np.isin(np.arange(rows) % c, drop)] = 0.0     # every spatial position of a flattened map
        else:
            w[0][:, :, drop, :] = 0.0
        layer.set_weights(w)
    small = prune_mod.shrink_channels(model, keep)
    for n in names:
        assert small.get_layer(n).output.shape[-1] == len(keep[n])
    np.testing.assert_allclose(small.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)
    # Keeping everything changes nothing.
    same = prune_mod.shrink_channels(model, {})
    np.testing.assert_array_equal(same.predict(x, verbose=0), model.predict(x, verbose=0))


def test_channel_plan_reaches_sparsity_keeps_strongest_and_shrinks_int8():
    tfcompat.seed_everything(0)
    x, _ = _toy_data(64)
    model = _bn_randomized(build_student(StudentSpec("dscnn", 12, 1), (8, 8, 1), 10))
    imp = prune_mod.channel_importance(model)
    keep = prune_mod.plan_channels(model, 0.5)
    small = prune_mod.shrink_channels(model, keep)
    removed = 1 - prune_mod.kernel_weights(small) / prune_mod.kernel_weights(model)
    assert 0.5 <= removed <= 0.56
    for n, s in imp.items():
        assert int(np.argmax(s)) in keep[n] and int(np.argmin(s)) not in keep[n]
    rep = q.representative_samples(x, 20, 0)
    big_bytes = len(q.to_int8_tflite(q.with_softmax(model), rep))
    small_bytes = len(q.to_int8_tflite(q.with_softmax(small), rep))
    # Dense storage: ~half the weights gone is ~that many bytes gone from the file.
    assert small_bytes < big_bytes - 0.4 * (prune_mod.kernel_weights(model) - prune_mod.kernel_weights(small))


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
