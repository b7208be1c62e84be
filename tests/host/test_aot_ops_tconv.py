"""AOT TRANSPOSE_CONV (Keras Conv2DTranspose): strides 1-3, SAME and VALID, kernels
larger and smaller than the stride, odd output sizes, a bias, a following RELU, and
Keras' dynamic batch (SHAPE / STRIDED_SLICE / PACK computing the output shape),
bit-exact against the TFLM host runtime."""
from __future__ import annotations

import numpy as np
import pytest

from aot_harness import assert_bit_exact, to_int8_tflite


def _model(shape, filters, kernel, strides, padding, act=None, batch=None):
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(0)
    k = keras()
    L = k.layers
    inp = k.Input(shape, batch_size=batch)
    h = L.Conv2D(shape[-1], 1, name="pre")(inp)
    tc = L.Conv2DTranspose(filters, kernel, strides=strides, padding=padding, name="up")
    y = tc(h)
    if act:
        y = L.Activation(act, name="act")(y)
    m = k.Model(inp, y)
    kern, bias = tc.get_weights()
    rng = np.random.default_rng(4)    # a trained layer has a bias; Keras starts at zero
    tc.set_weights([kern, rng.normal(0, 0.3, bias.shape).astype(np.float32)])
    return m


CASES = [
    ((6, 5, 3), 4, 3, 2, "same", None, None),
    ((6, 5, 3), 4, 3, 2, "valid", "relu", None),
    ((4, 4, 8), 2, 2, 2, "same", None, 1),        # kernel = stride: no overlap
    ((5, 3, 2), 3, 4, 3, "valid", None, None),    # odd sizes, kernel > stride
    ((3, 4, 5), 6, (1, 3), (1, 2), "same", "relu", None),
    ((7, 6, 4), 3, 5, 1, "same", None, None),     # stride 1
]


@pytest.mark.parametrize("shape,filters,kernel,strides,padding,act,batch", CASES)
def test_transpose_conv_bit_exact(shape, filters, kernel, strides, padding, act, batch):
    m = _model(shape, filters, kernel, strides, padding, act, batch)
    rep = np.random.default_rng(1).uniform(-1, 1, size=(24, *shape)).astype(np.float32)
    res = assert_bit_exact(to_int8_tflite(m, rep), n_inputs=4)
    assert "TRANSPOSE_CONV" in res.ops, res.ops
    assert "SHAPE" not in res.ops and "PACK" not in res.ops, res.ops
