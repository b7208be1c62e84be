"""AOT op grid: generated C (host gcc) must equal the TFLM host runtime byte for byte."""
from __future__ import annotations

import numpy as np
import pytest

from aot_harness import assert_bit_exact, op_index, patch_op_options, to_int8_tflite


def _keras():
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(0)
    return keras()


def test_conv2d_strides_padding_activations():
    k = _keras()
    L = k.layers
    x = inp = k.Input((12, 10, 3))
    x = L.Conv2D(8, 3, strides=1, padding="same", activation="relu")(x)
    x = L.Conv2D(8, 3, strides=2, padding="valid", activation="relu6")(x)
    x = L.Conv2D(6, (2, 3), strides=(1, 2), padding="same")(x)
    x = L.Conv2D(7, 1, strides=2, padding="valid", use_bias=False)(x)
    x = L.Conv2D(5, 1, strides=1, padding="same", activation="relu")(x)
    out = L.Dense(4)(L.Flatten()(x))
    res = assert_bit_exact(k.Model(inp, out), n_inputs=6)
    assert res.ops.count("CONV_2D") == 5
    assert "tm_k_conv_1x1(" in res.files["tm_aot_model.c"]


def test_depthwise_multipliers_strides():
    k = _keras()
    L = k.layers
    x = inp = k.Input((13, 11, 4))
    x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="valid", depth_multiplier=2, activation="relu6")(x)
    x = L.DepthwiseConv2D((5, 3), strides=2, padding="same", use_bias=False)(x)
    x = L.DepthwiseConv2D(2, padding="same", depth_multiplier=3)(x)
    x = L.Conv2D(7, 1)(x)
    x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)   # 7 channels: tail
    out = L.Dense(3)(L.Flatten()(x))
    res = assert_bit_exact(k.Model(inp, out), n_inputs=6)
    assert res.ops.count("DEPTHWISE_CONV_2D") == 5


def test_dilation_conv_and_depthwise():
    k = _keras()
    L = k.layers
    x = inp = k.Input((14, 12, 3))
    x = L.Conv2D(6, 3, padding="same", activation="relu")(x)
    x = L.DepthwiseConv2D(3, padding="same")(x)
    x = L.Conv2D(4, (3, 2), padding="same")(x)
    out = L.Dense(3)(L.Flatten()(x))
    tfl = to_int8_tflite(k.Model(inp, out))
    # SAME padding: the output shape does not depend on dilation, so patch it in.
    tfl = patch_op_options(tfl, op_index(tfl, "CONV_2D", 0), dilationHFactor=2, dilationWFactor=1)
    tfl = patch_op_options(tfl, op_index(tfl, "DEPTHWISE_CONV_2D"), dilationHFactor=2, dilationWFactor=3)
    tfl = patch_op_options(tfl, op_index(tfl, "CONV_2D", 1), dilationHFactor=3, dilationWFactor=2)
    res = assert_bit_exact(tfl, n_inputs=6)
    assert ".dil_w = 3" in res.files["tm_aot_model.c"]


@pytest.mark.parametrize("per_channel", [False, True])
def test_fully_connected(per_channel):
    k = _keras()
    L = k.layers
    inp = k.Input((37,))
    x = L.Dense(19, activation="relu")(inp)
    x = L.Dense(8, activation="relu6")(x)
    out = L.Dense(5)(x)
    tfl = to_int8_tflite(k.Model(inp, out), dense_per_channel=per_channel)
    res = assert_bit_exact(tfl, n_inputs=8)
    assert res.ops == ["FULLY_CONNECTED"] * 3
    assert (".per_channel = 1" in res.files["tm_aot_model.c"]) == per_channel


def test_add_and_reshape_in_place():
    k = _keras()
    L = k.layers
    inp = k.Input((8, 8, 4))
    a = L.Conv2D(4, 3, padding="same")(inp)
    b = L.Conv2D(4, 1, activation="relu")(inp)
    x = L.Activation("relu")(L.Add()([a, b]))        # ADD with fused ReLU
    x = L.Add()([x, L.DepthwiseConv2D(3, padding="same")(x)])
    x = L.Reshape((16, 16))(x)                        # Keras emits SHAPE/PACK ops: pruned
    out = L.Dense(6)(L.Flatten()(x))
    res = assert_bit_exact(k.Model(inp, out), n_inputs=6)
    assert res.ops.count("ADD") == 2
    assert "RESHAPE" in res.ops
    reshape = res.graph.ops[res.ops.index("RESHAPE")]
    offs = res.plan.tensor_offsets
    assert offs[reshape.inputs[0].index] == offs[reshape.outputs[0].index]


def test_add_broadcast_and_constant():
    from tinyml.core.tfcompat import tf
    k = _keras()
    L = k.layers
    inp = k.Input((6, 5, 4))
    x = L.Conv2D(4, 1)(inp)
    pooled = L.GlobalAveragePooling2D(keepdims=True)(x)                # (1, 1, 1, 4)
    x = L.Add()([x, pooled])                                             # broadcast over H, W
    x = L.Lambda(lambda t: t + tf().constant(np.linspace(-1, 1, 4, dtype=np.float32)))(x)
    out = L.Dense(3)(L.Flatten()(x))
    tfl = to_int8_tflite(k.Model(inp, out))
    res = assert_bit_exact(tfl, n_inputs=6)
    assert "tm_k_add_bcast(" in res.files["tm_aot_model.c"]
