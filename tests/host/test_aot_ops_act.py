"""AOT standalone activations (RELU, RELU6, LEAKY_RELU, TANH, HARD_SWISH): the
generated C under host gcc (UBSan) must equal the TFLM host runtime byte for byte,
on inputs that cover every int8 value, on the direct path (small tensors) and the
table path (TABLE_MIN_ELEMENTS and up), for input ranges that put the zero point at
either end and in the middle."""
from __future__ import annotations

import re

import numpy as np
import pytest

from aot_harness import assert_bit_exact, to_int8_tflite
from tinyml.codegen.aot.ops.activation import TABLE_MIN_ELEMENTS


def _keras():
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(0)
    return keras()


def _all_bytes(size: int, shape: tuple[int, ...]) -> np.ndarray:
    n = max(1, -(-256 // size))
    vals = np.resize(np.arange(-128, 128, dtype=np.int16), n * size).astype(np.int8)
    return vals.reshape(n, *shape)


def _model(act, shape, k):
    """Input -> activation (standalone: nothing before it to fuse into) -> a 1x1 conv,
    so the activation's output quantization is the converter's own choice."""
    L = k.layers
    inp = k.Input(shape)
    y = act(inp)
    y = L.Conv2D(3, 1, name="head")(y) if len(shape) == 3 else L.Dense(3, name="head")(y)
    return k.Model(inp, y)


def _acts(k, tf):
    L = k.layers
    return {
        "RELU": lambda v: L.ReLU(name="act")(v),
        "RELU6": lambda v: L.ReLU(6.0, name="act")(v),
        "LEAKY_RELU": lambda v: L.LeakyReLU(0.1, name="act")(v),
        "LEAKY_RELU_0.3": lambda v: L.LeakyReLU(0.3, name="act")(v),
        "TANH": lambda v: L.Activation("tanh", name="act")(v),
        "HARD_SWISH": lambda v: L.Lambda(lambda t: t * tf.nn.relu6(t + 3.0) / 6.0, name="act")(v),
    }


RANGES = [(-1.0, 1.0), (-6.0, 2.0), (0.2, 4.0), (-9.0, -0.5)]


@pytest.mark.parametrize("name", ["RELU", "RELU6", "LEAKY_RELU", "LEAKY_RELU_0.3", "TANH",
                                  "HARD_SWISH"])
@pytest.mark.parametrize("shape", [(4, 5, 3), (16, 16, 2)])   # direct path, table path
def test_activation_bit_exact(name, shape):
    from tinyml.core.tfcompat import tf
    k = _keras()
    builtin = name.split("_0")[0]
    size = int(np.prod(shape))
    for lo, hi in RANGES:
        m = _model(_acts(k, tf())[name], shape, k)
        rep = np.random.default_rng(1).uniform(lo, hi, size=(24, *shape)).astype(np.float32)
        tfl = to_int8_tflite(m, rep)
        res = assert_bit_exact(tfl, inputs=_all_bytes(size, shape))
        assert builtin in res.ops, res.ops
        calls = re.findall(r"tm_k_act_s8\(.*\);", res.files["tm_aot_model.c"])
        assert len(calls) == 1, calls
        table = not calls[0].endswith(", 0);")
        assert table == (size >= TABLE_MIN_ELEMENTS and builtin != "RELU6"), (name, shape)


@pytest.mark.parametrize("lo,hi", [(-0.002, 0.003), (0.0, 0.0004), (-40.0, 30.0)])
def test_hard_swish_extreme_scales(lo, hi):
    """Tiny input scales push TFLM's reluish exponent below -15, where gemmlowp's int16
    RoundingDivideByPOT keeps only the mask's low 16 bits; huge ones push it up."""
    from tinyml.core.tfcompat import tf
    k = _keras()
    shape = (4, 5, 3)
    m = _model(_acts(k, tf())["HARD_SWISH"], shape, k)
    rep = np.random.default_rng(2).uniform(lo, hi, size=(24, *shape)).astype(np.float32)
    res = assert_bit_exact(to_int8_tflite(m, rep), inputs=_all_bytes(60, shape))
    assert "HARD_SWISH" in res.ops
