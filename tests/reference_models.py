"""MLPerf Tiny reference architectures (tf-keras) for the AOT tests and benchmarks.

Not product code: only tests/ and benchmarks/ use these (import with tests/ on
sys.path, which pytest does through tests/conftest.py).

Architectures follow the MLPerf Tiny v1.x reference training scripts:
  kws  DS-CNN (small), input 49x10x1 MFCC, 12 classes
  ic   ResNet-8, input 32x32x3, 10 classes
  vww  MobileNetV1 alpha=0.25, input 96x96x3, 2 classes
  ad   FC autoencoder, 640 inputs (5 frames x 128 mel), 128-128-128-128-8-128x4-640
Weights are random (these are for compiler / runtime benchmarks, not accuracy).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import numpy as np

from tinyml.core.tfcompat import keras, seed_everything

sys.path.insert(0, str(Path(__file__).resolve().parent / "host"))
from aot_harness import to_int8_tflite  # noqa: E402  (the product converter, seeded rep data)


def ds_cnn_kws(classes: int = 12, filters: int = 64) -> "keras().Model":
    """DS-CNN small: conv 10x4 s2 then 4 depthwise-separable blocks, avg pool, dense."""
    k = keras()
    L = k.layers
    inp = k.Input((49, 10, 1))
    x = L.Conv2D(filters, (10, 4), strides=(2, 2), padding="same", use_bias=True)(inp)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Dropout(0.2)(x)
    for _ in range(4):
        x = L.DepthwiseConv2D((3, 3), padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
        x = L.Conv2D(filters, (1, 1), padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
    x = L.Dropout(0.4)(x)
    x = L.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = L.Flatten()(x)
    out = L.Dense(classes, activation="softmax")(x)
    return k.Model(inp, out, name="ds_cnn_kws")


def resnet8_ic(classes: int = 10) -> "keras().Model":
    """ResNet-8 (MLPerf Tiny IC): 3 residual stacks of 16/32/64 filters."""
    k = keras()
    L = k.layers
    inp = k.Input((32, 32, 3))
    x = L.Conv2D(16, 3, padding="same")(inp)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = L.Conv2D(filters, 3, strides=stride, padding="same")(x)
        y = L.BatchNormalization()(y)
        y = L.Activation("relu")(y)
        y = L.Conv2D(filters, 3, padding="same")(y)
        y = L.BatchNormalization()(y)
        if stride > 1:
            x = L.Conv2D(filters, 1, strides=stride, padding="same")(x)
        x = L.Add()([x, y])
        x = L.Activation("relu")(x)
    x = L.AveragePooling2D(pool_size=int(x.shape[1]))(x)
    x = L.Flatten()(x)
    out = L.Dense(classes, activation="softmax")(x)
    return k.Model(inp, out, name="resnet8_ic")


def mobilenet_v1_vww(alpha: float = 0.25, classes: int = 2) -> "keras().Model":
    """MobileNetV1 alpha=0.25, 96x96x3 (MLPerf Tiny VWW)."""
    k = keras()
    L = k.layers
    inp = k.Input((96, 96, 3))

    def conv_bn(x, f, s):
        x = L.Conv2D(f, 3, strides=s, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        return L.Activation("relu")(x)

    def dw_block(x, f, s):
        x = L.DepthwiseConv2D(3, strides=s, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
        x = L.Conv2D(f, 1, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        return L.Activation("relu")(x)

    a = lambda f: int(f * alpha)  # noqa: E731
    x = conv_bn(inp, a(32), 2)
    for f, s in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                 (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)):
        x = dw_block(x, a(f), s)
    x = L.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = L.Flatten()(x)
    out = L.Dense(classes, activation="softmax")(x)
    return k.Model(inp, out, name="mobilenet_v1_vww")


def fc_autoencoder_ad(inputs: int = 640) -> "keras().Model":
    """FC autoencoder (MLPerf Tiny AD): 4x Dense(128)+BN+ReLU, Dense(8), 4x, Dense(640)."""
    k = keras()
    L = k.layers
    inp = k.Input((inputs,))
    x = inp
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = L.Dense(units)(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
    out = L.Dense(inputs)(x)
    return k.Model(inp, out, name="fc_autoencoder_ad")


REFERENCE_MODELS: dict[str, Callable[[], "keras().Model"]] = {
    "kws": ds_cnn_kws,
    "ic": resnet8_ic,
    "vww": mobilenet_v1_vww,
    "ad": fc_autoencoder_ad,
}


def _randomize_bn(model, seed: int) -> None:
    """Give BatchNorm layers non-trivial statistics so quantization ranges are realistic."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                               rng.normal(0, 0.1, beta.shape).astype(np.float32),
                               rng.normal(0, 0.1, mean.shape).astype(np.float32),
                               rng.uniform(0.5, 1.5, var.shape).astype(np.float32)])


def reference(name: str, seed: int = 0, n_rep: int = 16) -> tuple:
    """Reference model `name` (kws/ic/vww/ad) with seeded random weights: (Keras model, int8 .tflite)."""
    seed_everything(seed)
    model = REFERENCE_MODELS[name]()
    _randomize_bn(model, seed)
    return model, to_int8_tflite(model, n=n_rep, seed=seed)


def reference_int8(name: str, seed: int = 0, n_rep: int = 16) -> bytes:
    return reference(name, seed, n_rep)[1]


def keras_macs(model) -> int:
    """Multiply-accumulates of a Keras model, counted from its layers' shapes (so
    independent of the converter and the AOT compiler), in the compiler's reporting
    convention: conv / depthwise / dense one per weight use, pooling one per window
    tap, global average one per input element, softmax two per element."""
    total = 0
    for layer in model.layers:
        kind = type(layer).__name__
        out = int(np.prod(layer.output.shape[1:]))
        act = getattr(getattr(layer, "activation", None), "__name__", "")
        if kind == "DepthwiseConv2D":
            total += out * int(np.prod(layer.kernel_size))
        elif kind == "Conv2D":
            total += out * int(np.prod(layer.kernel_size)) * int(layer.input.shape[-1])
        elif kind == "Dense":
            total += out * int(layer.input.shape[-1])
        elif kind in ("AveragePooling2D", "MaxPooling2D"):
            total += out * int(np.prod(layer.pool_size))
        elif kind == "GlobalAveragePooling2D":
            total += int(np.prod(layer.input.shape[1:]))
        if kind == "Softmax" or act == "softmax":
            total += 2 * out
    return total
