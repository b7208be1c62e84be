"""CONV_2D + residual ADD fused into tm_k_conv_direct (tinyml/codegen/aot/fuse.py), and
the plain direct conv the compiler picks to lower the arena's peak: byte for byte
against the TFLM host runtime on edge shapes, and the cases that must not fuse.
tests/emu/test_aot_qemu.py runs the same models on the Cortex-M4 (both kernel paths)."""
from __future__ import annotations

import functools

import pytest

from aot_harness import assert_bit_exact, op_index, patch_op_options, to_int8_tflite
from tinyml.codegen.aot import compile_tflite

IC_RAM_LIMIT = 32_995          # issue 10: 0.6 of TFLM's arena for the IC ResNet-8


def _keras():
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(5)
    return keras()


@functools.lru_cache(maxsize=None)
def residual_edges_tflite() -> bytes:
    """Residual blocks on odd shapes: 7x5 image, 5 and 3 channels, 3x3 SAME (border
    pixels through the one-pixel im2col, 2-pixel interior blocks and a lone interior
    pixel per row), a dilated conv (no direct rows: every pixel through im2col), a
    strided 1x1 shortcut, ADD operands in both orders, with and without RELU; and two
    ADDs that must not fuse (skip = model input; skip = the conv's own input)."""
    k = _keras()
    L = k.layers
    x = inp = k.Input((7, 5, 5))
    y = L.Conv2D(5, 3, padding="same", activation="relu")(x)
    y = L.Conv2D(5, 3, padding="same")(y)
    x = L.Activation("relu")(L.Add()([x, y]))       # x is the model input: must not fuse
    y = L.Conv2D(5, 3, padding="same")(x)
    x = L.Add()([y, x])                     # skip is the conv's own input: must not fuse
    y = L.Conv2D(5, 3, padding="same", activation="relu")(x)
    y = L.Conv2D(5, 3, padding="same")(y)
    x = L.Add()([y, x])                                           # conv output first, no RELU
    y = L.Conv2D(5, 3, padding="same", activation="relu")(x)
    y = L.Conv2D(5, 3, padding="same")(y)                       # dilated below
    x = L.Activation("relu")(L.Add()([x, y]))                     # conv output second
    y = L.Conv2D(3, 3, strides=2, padding="same", activation="relu")(x)   # 4x3x3
    y = L.Conv2D(3, (2, 3), padding="same")(y)
    s = L.Conv2D(3, 1, strides=2)(x)                              # shortcut, fused last
    x = L.Activation("relu")(L.Add()([y, s]))
    out = L.Dense(4)(L.Flatten()(x))
    tfl = to_int8_tflite(k.Model(inp, out))
    # SAME padding keeps the shape under dilation (Keras would emit SPACE_TO_BATCH_ND)
    return patch_op_options(tfl, op_index(tfl, "CONV_2D", 6), dilationHFactor=2, dilationWFactor=2)


@functools.lru_cache(maxsize=None)
def residual_rows_tflite() -> bytes:
    """Channel counts a multiple of 4 (tm_k_conv_rows): a 7x5 image, output channel
    groups with a tail (7 = 4 + 3), more channels than one pass holds (36 > 32), a
    strided and a dilated conv, and 1x1 convs."""
    k = _keras()
    L = k.layers
    inp = k.Input((7, 5, 8))
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    y = L.Conv2D(7, 3, padding="same", activation="relu")(x)       # 8 -> 7: tail of 3
    y = L.Conv2D(8, 3, padding="same")(y)
    x = L.Activation("relu")(L.Add()([x, y]))
    y = L.Conv2D(36, 1, activation="relu")(x)                        # 36 channels
    y = L.Conv2D(8, 3, padding="same")(y)                            # dilated below
    x = L.Add()([y, x])
    y = L.Conv2D(12, 3, strides=2, padding="same", activation="relu")(x)   # 4x3x12
    y = L.Conv2D(8, (3, 2), padding="same")(y)
    s = L.Conv2D(8, 1, strides=2)(x)
    x = L.Activation("relu")(L.Add()([y, s]))
    out = L.Dense(3)(L.Flatten()(x))
    tfl = to_int8_tflite(k.Model(inp, out))
    return patch_op_options(tfl, op_index(tfl, "CONV_2D", 4), dilationHFactor=2, dilationWFactor=2)


@functools.lru_cache(maxsize=None)
def no_fusion_tflite() -> bytes:
    """A skip tensor read again after its ADD, a conv output with two readers, and one
    block that does fuse."""
    k = _keras()
    L = k.layers
    conv = lambda t: L.Conv2D(4, 3, padding="same")(t)   # noqa: E731
    inp = k.Input((6, 6, 4))
    x = conv(inp)
    a = L.Add()([x, conv(conv(x))])            # x is read again at the end: no fusion
    z = conv(conv(a))
    c = L.Add()([L.Add()([z, a]), z])          # z has two readers: no fusion
    d = L.Add()([conv(conv(c)), c])            # fuses
    m = L.Add()([d, x])
    out = L.Dense(2)(L.Flatten()(m))
    return to_int8_tflite(k.Model(inp, out))


@pytest.fixture
def fuse_all(monkeypatch):
    """Fuse every pair that can fuse (the compiler alone fuses where RAM drops)."""
    from tinyml.codegen.aot import compiler
    monkeypatch.setattr(compiler, "FUSE_ALL", True)


def test_fused_residual_edges_match_tflm(fuse_all):
    res = assert_bit_exact(residual_edges_tflite(), n_inputs=6)
    fused = [i for i, op in enumerate(res.ops) if op == "CONV_2D+ADD"]
    assert len(fused) == 3 and res.ops.count("ADD") == 2
    assert all(res.kernels[i] == "tm_k_conv_direct" for i in fused)
    # the sum lands on the skip tensor's bytes: no buffer of its own
    g, plan = res.graph, res.plan
    for i in fused:
        op = g.ops[i]
        assert plan.tensor_offsets[op.outputs[0].index] == plan.tensor_offsets[op.inputs[3].index]


def test_fused_rows_kernel_matches_tflm(fuse_all):
    res = assert_bit_exact(residual_rows_tflite(), n_inputs=6)
    fused = [i for i, op in enumerate(res.ops) if op == "CONV_2D+ADD"]
    assert len(fused) == 3 and "ADD" not in res.ops
    # in_c 7 takes the im2col kernel, the others the row panels
    assert [res.kernels[i] for i in fused] == ["tm_k_conv_direct", "tm_k_conv_rows", "tm_k_conv_rows"]


def test_no_fusion_where_a_tensor_is_read_again(fuse_all):
    res = assert_bit_exact(no_fusion_tflite(), n_inputs=4)
    assert res.ops.count("CONV_2D+ADD") == 1
    assert res.ops.count("ADD") == 4


def test_fusion_declines_an_add_without_linear_form(fuse_all, monkeypatch):
    from tinyml.codegen.aot import fuse
    monkeypatch.setattr(fuse, "add_linear_form", lambda *a, **k: None)
    res = assert_bit_exact(residual_edges_tflite(), n_inputs=2)
    assert "CONV_2D+ADD" not in res.ops and res.ops.count("ADD") == 5


def test_ic_resnet_fits_its_ram_target():
    """Fusion plus the direct conv where another kernel's scratch would be the peak."""
    from reference_models import reference_int8
    res = compile_tflite(reference_int8("ic"))
    assert res.peak_ram_bytes <= IC_RAM_LIMIT, res.peak_ram_bytes
    # the first residual block sets the peak: its ADD fuses and its first conv goes
    # direct; the later blocks keep their faster unfused kernels
    assert res.ops.count("CONV_2D+ADD") == 1 and res.ops.count("ADD") == 2
    assert res.kernels[:3] == ["tm_k_conv", "tm_k_conv_rows", "tm_k_conv_rows"]


def test_plain_direct_conv_matches_tflm(monkeypatch):
    """The compiler's low-RAM choice, forced on every plain conv of the edge model."""
    from tinyml.codegen.aot import ops
    from tinyml.codegen.aot.ops.conv_add import lower_conv_direct
    monkeypatch.setitem(ops.load_all(), "CONV_2D", lower_conv_direct)
    for tfl in (residual_edges_tflite(), residual_rows_tflite()):
        res = assert_bit_exact(tfl, n_inputs=4)
        plain = [i for i, op in enumerate(res.ops) if op == "CONV_2D"]
        assert plain and all(res.kernels[i] in ("tm_k_conv_direct", "tm_k_conv_rows")
                             for i in plain)
    assert "tm_k_conv_rows" in res.kernels


@functools.lru_cache(maxsize=None)
def view_skip_tflite() -> bytes:
    """The skip tensor is a RESHAPE view of a tensor that is read after the ADD."""
    k = _keras()
    L = k.layers
    inp = k.Input((6, 6, 4))
    c = L.Conv2D(4, 3, padding="same")(inp)
    f = L.Reshape((144,))(c)
    x = L.Reshape((6, 6, 4))(f)
    a = L.Add()([x, L.Conv2D(4, 3, padding="same")(L.Conv2D(4, 3, padding="same")(x))])
    out = L.Add()([L.Dense(3)(L.Flatten()(a)), L.Dense(3)(f)])     # f read after the ADD
    return to_int8_tflite(k.Model(inp, out))


def test_no_fusion_over_a_view(fuse_all):
    res = assert_bit_exact(view_skip_tflite(), n_inputs=4)
    assert "RESHAPE" in res.ops and "CONV_2D+ADD" not in res.ops
