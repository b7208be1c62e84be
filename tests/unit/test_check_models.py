"""Small real models for the host-check tests, built once per test session.

A tiny conv net trained for a few epochs on the UCI digits (sklearn, offline),
converted with the real TFLite converter to: a full-int8 .tflite, a float
.tflite, an int8 model with float input/output (QUANTIZE/DEQUANTIZE at the
edges), and a full-int8 model with a GELU activation, which TFLM has no
kernel for. Other test modules call `models()`; the cache makes it one build.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.data import Dataset

_CACHE: dict[str, "Models"] = {}


@dataclass
class Models:
    root: Path
    int8: Path           # full int8 (int8 input and output)
    float: Path          # float32 .tflite of the same network
    keras: Path          # the same network as a .keras file
    float_io: Path       # int8 inside, float32 input/output
    gelu: Path           # full int8, GELU op in layer "gelu_dense" (TFLM has no GELU)
    exp: Path            # full int8, EXP in layer "exp_layer" (TFLM's EXP is float-only: fails to prepare)
    sqrt: Path           # full int8, SQRT in layer "sqrt_layer" (float-only: fails when invoked)
    sin: Path            # int8 I/O but a float SIN island between DEQUANTIZE/QUANTIZE
    dataset: Dataset


def digits_dataset(seed: int = 0) -> Dataset:
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[..., None]
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(seed).permutation(len(x))
    x, y = x[idx], y[idx]
    tr, va = 1200, 1400
    return Dataset("digits", x[:tr], y[:tr], x[tr:va], y[tr:va], x[va:], y[va:],
                   [str(i) for i in range(10)], {})


def _convert(tf, model, x_rep, *, int8: bool, int8_io: bool = True) -> bytes:
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = lambda: ([x_rep[i:i + 1]] for i in range(len(x_rep)))
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            c.inference_input_type = tf.int8
            c.inference_output_type = tf.int8
    return c.convert()


def models() -> Models:
    if "m" in _CACHE:
        return _CACHE["m"]
    from tinyml.core.tfcompat import keras, seed_everything, tf
    t, k = tf(), keras()
    seed_everything(0)
    ds = digits_dataset()
    root = Path(tempfile.mkdtemp(prefix="tinyml-check-models-"))
    L = k.layers
    net = k.Sequential([
        L.Input((8, 8, 1)),
        L.Conv2D(8, 3, activation="relu", name="conv"),
        L.MaxPooling2D(name="pool"),
        L.Flatten(name="flat"),
        L.Dense(10, name="logits"),
        L.Softmax(name="probs"),
    ], name="digits_cnn")
    net.compile(k.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    net.fit(ds.x_train, ds.y_train, epochs=4, batch_size=64, verbose=0)
    rep = ds.x_train[:100]
    paths = {}
    for name, kw in (("int8", dict(int8=True)), ("float", dict(int8=False)),
                     ("float_io", dict(int8=True, int8_io=False))):
        paths[name] = root / f"{name}.tflite"
        paths[name].write_bytes(_convert(t, net, rep, **kw))
    paths["keras"] = root / "model.keras"
    net.save(paths["keras"])

    gelu = k.Sequential([L.Input((8, 8, 1)), L.Flatten(name="flat"),
                         L.Dense(16, activation="gelu", name="gelu_dense"), L.Dense(10, name="out")],
                        name="gelu_net")
    paths["gelu"] = root / "gelu.tflite"
    paths["gelu"].write_bytes(_convert(t, gelu, rep, int8=True))
    for name, fn in (("exp", t.exp), ("sqrt", t.sqrt), ("sin", t.sin)):
        inp = L.Input((8, 8, 1))
        h = L.Lambda(fn, name=f"{name}_layer")(L.Flatten(name="flat")(inp))
        net_l = k.Model(inp, L.Dense(10, name="out")(h), name=f"{name}_net")
        paths[name] = root / f"{name}.tflite"
        paths[name].write_bytes(_convert(t, net_l, rep, int8=True))
    _CACHE["m"] = Models(root=root, dataset=ds, **paths)
    return _CACHE["m"]
