"""AOT framework: determinism, memory plan validity, refusals, profiling, cross-compile."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import numpy as np

from aot_harness import assert_bit_exact, random_inputs, to_int8_tflite
from tinyml.codegen.aot import RUNTIME_DIR, compile_tflite
from tinyml.core.errors import ModelError, UnsupportedOpError

pytest.importorskip("tflite_micro")


@pytest.fixture(scope="module")
def small_cnn() -> bytes:
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(1)
    k = keras()
    L = k.layers
    inp = k.Input((10, 8, 2))
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    y = L.DepthwiseConv2D(3, padding="same")(x)
    x = L.Add()([x, y])
    x = L.Conv2D(4, 3, strides=2, padding="valid", activation="relu6")(x)
    out = L.Dense(5)(L.Flatten()(x))
    return to_int8_tflite(k.Model(inp, out))


def test_deterministic_output(small_cnn):
    a = compile_tflite(small_cnn, "m").files
    b = compile_tflite(small_cnn, "m").files
    assert a == b and sorted(a) == ["tm_aot_model.c", "tm_aot_model.h"]
    assert compile_tflite(small_cnn, "other").files != a      # the name is in the metadata


def test_deterministic_across_processes(small_cnn, tmp_path):
    import hashlib
    import os
    import sys
    model = tmp_path / "m.tflite"
    model.write_bytes(small_cnn)
    code = ("import hashlib,sys; from tinyml.codegen.aot import compile_tflite; "
            "f = compile_tflite(open(sys.argv[1],'rb').read(), 'm').files; "
            "print(hashlib.sha256(repr(sorted(f.items())).encode()).hexdigest())")
    digests = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code, str(model)], env=env,
                             capture_output=True, text=True, check=True).stdout.strip()
        digests.add(out)
    files = compile_tflite(small_cnn, "m").files
    digests.add(hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest())
    assert len(digests) == 1


def test_metadata_and_plan(small_cnn):
    res = compile_tflite(small_cnn, "m")
    h = res.files["tm_aot_model.h"]
    assert f"#define TM_MODEL_ARENA_BYTES {res.peak_ram_bytes}u" in h
    assert "#define TM_MODEL_INPUT_DIMS { 1, 10, 8, 2 }" in h
    assert f"#define TM_MODEL_OP_COUNT {res.op_count}u" in h
    assert res.macs == 10 * 8 * 8 * 9 * 2 + 10 * 8 * 8 * 9 + 4 * 3 * 4 * 9 * 8 + 48 * 5
    assert res.peak_ram_bytes % 16 == 0
    # Only the kernels the model uses are referenced.
    c = res.files["tm_aot_model.c"]
    assert '#include "tm_k_add.h"' in c and "tm_k_pool" not in c
    _check_plan(res)


def _check_plan(res):
    """No two buffers that are live at the same op overlap, except an output over its
    dying input when the op declared a large enough gap; all inside the arena."""
    g, plan = res.graph, res.plan
    bufs = plan.buffers
    for b in bufs:
        assert 0 <= b.offset and b.offset + b.size <= plan.arena_bytes and b.offset % 16 == 0
    gi = g.inputs[0]
    assert plan.tensor_offsets[gi.index] + gi.nbytes <= plan.arena_bytes   # input is planned
    for i, a in enumerate(bufs):
        for b in bufs[i + 1:]:
            if a.first > b.last or b.first > a.last or not (a.size and b.size):
                continue
            if a.offset + a.size <= b.offset or b.offset + b.size <= a.offset:
                continue
            # Overlapping: must be input (dies at op k) and output (born at op k).
            inp, out = (a, b) if a.last == b.first else (b, a)
            assert inp.last == out.first, f"{a.key} and {b.key} overlap while both live"
            gaps = plan.overlaps.get((out.key, inp.key))
            assert gaps is not None, f"{out.key} overlaps {inp.key} without a declared overlap"
            down, up = gaps
            if out.offset <= inp.offset:
                assert inp.offset - out.offset >= down, f"{out.key} too close below {inp.key}"
            else:
                assert up is not None and out.offset - inp.offset >= up, \
                    f"{out.key} too close above {inp.key}"
                assert out.first in plan.reverse_ops, f"op {out.first} must run in reverse"


def test_plans_valid_and_exact_with_profiling(small_cnn):
    res = assert_bit_exact(small_cnn, n_inputs=5, extra_flags=("-DTM_ENABLE_PROFILE",))
    _check_plan(res)
    assert res.plan.overlaps, "expected the planner to overlap some output with its input"


def test_partial_overlap_on_a_conv_chain():
    """A chain of same-size 3x3 convs: outputs overlap their inputs, alternately two
    rows below (forward kernel) and two rows above (reverse kernel), so the chain
    needs about one activation plus a few rows, not two activations."""
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(5)
    k = keras()
    L = k.layers
    x = inp = k.Input((16, 16, 8))
    for _ in range(3):
        x = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(3, padding="same")(x)
    out = L.Dense(2)(L.Flatten()(x))
    res = assert_bit_exact(to_int8_tflite(k.Model(inp, out)), n_inputs=4)
    _check_plan(res)
    act = 16 * 16 * 8
    row = 16 * 8
    assert len(res.plan.overlaps) == 6 and res.plan.reverse_ops
    assert "#define TM_REV" in res.files["tm_aot_model.c"]
    assert res.peak_ram_bytes <= act + 4 * row + 512, res.peak_ram_bytes


def test_unsupported_op_names_op_and_layer():
    from tinyml.core.tfcompat import keras
    k = keras()
    inp = k.Input((6,))
    x = k.layers.Dense(4, name="hidden")(inp)
    x = k.layers.Activation("elu", name="squash")(x)
    out = k.layers.Dense(2)(x)
    tfl = to_int8_tflite(k.Model(inp, out))
    with pytest.raises(UnsupportedOpError) as ei:
        compile_tflite(tfl)
    e = ei.value
    assert e.op == "ELU" and e.layer == "squash" and "squash" in str(e)
    assert "--runtime tflm" in e.hint


def test_float_model_refused():
    from tinyml.core.tfcompat import keras, tf
    k = keras()
    inp = k.Input((6,))
    m = k.Model(inp, k.layers.Dense(3)(inp))
    tfl = tf().lite.TFLiteConverter.from_keras_model(m).convert()
    with pytest.raises(UnsupportedOpError, match="int8"):
        compile_tflite(bytes(tfl))


def test_garbage_refused():
    with pytest.raises(ModelError, match=r"not a TFLite flatbuffer: bytes 4\.\.8"):
        compile_tflite(b"\x00" * 64 + b"garbage")


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")
def test_cross_compile_cortex_m4_dsp(small_cnn, tmp_path: Path):
    res = compile_tflite(small_cnn, "m")
    for n, t in res.files.items():
        (tmp_path / n).write_text(t)
    flags = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
             "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-ffunction-sections",
             f"-I{tmp_path}", f"-I{RUNTIME_DIR}", f"-I{RUNTIME_DIR.parent}"]
    for src in [tmp_path / "tm_aot_model.c", *sorted(RUNTIME_DIR.glob("*.c"))]:
        for extra in ([], ["-DTM_ENABLE_PROFILE"]):
            obj = tmp_path / (src.stem + ".o")
            subprocess.run(["arm-none-eabi-gcc", *flags, *extra, "-c", str(src), "-o", str(obj)],
                           check=True, capture_output=True, text=True)
    # On Cortex-M4 the kernels get the Arm DSP inner products (tm_aot_dot.h): SMLAD in
    # the FC kernel; TM_AOT_FORCE_PORTABLE gives the same kernel the portable ones.
    def disasm(name: str, *extra: str) -> str:
        subprocess.run(["arm-none-eabi-gcc", *flags, *extra, "-c", str(RUNTIME_DIR / name),
                        "-o", str(tmp_path / "k.o")], check=True)
        return subprocess.run(["arm-none-eabi-objdump", "-d", str(tmp_path / "k.o")],
                              capture_output=True, text=True, check=True).stdout
    assert "smlad" in disasm("tm_k_fc.c") and "<tm_k_fc>:" in disasm("tm_k_fc.c")
    portable = disasm("tm_k_fc.c", "-DTM_AOT_FORCE_PORTABLE")
    assert "<tm_k_fc>:" in portable and "smlad" not in portable
    sizes = subprocess.run(["arm-none-eabi-size", str(tmp_path / "tm_aot_model.o")],
                           capture_output=True, text=True, check=True).stdout
    assert int(sizes.splitlines()[1].split()[0]) >= res.weights_bytes


def _reverse_chain_model():
    """Odd widths and depth multipliers: the planner runs the depthwise ops in reverse."""
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(6)
    k = keras()
    L = k.layers
    x = inp = k.Input((15, 13, 4))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    x = L.Conv2D(8, 3, padding="same")(x)
    x = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    x = L.Conv2D(16, 1, padding="same")(x)
    x = L.DepthwiseConv2D(3, padding="same")(x)
    out = L.Dense(2)(L.Flatten()(x))
    return to_int8_tflite(k.Model(inp, out))


def test_reverse_order_kernels_bit_exact():
    res = assert_bit_exact(_reverse_chain_model(), n_inputs=4)
    _check_plan(res)
    assert res.plan.reverse_ops        # every kernel's reverse order: test_aot_access.py


def _overlapped_ops(res) -> set[int]:
    """Ops whose output shares bytes with their input in the plan."""
    by_key = {b.key: b for b in res.plan.buffers}
    return {op for (ko, ki), (op, _, _) in res.plan.accesses.items()
            if by_key[ko].offset < by_key[ki].offset + by_key[ki].size
            and by_key[ki].offset < by_key[ko].offset + by_key[ko].size}


def _width1_kws_model(seed: int = 0) -> bytes:
    """The shape a real wake-word model got wrong: DEPTHWISE_CONV_2D into a 1x1
    CONV_2D from [1,28,1,40] to [1,28,1,128] (width 1: a pixel pair is two rows)."""
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(seed)
    k = keras()
    L = k.layers
    inp = k.Input((28, 1, 40))
    x = L.DepthwiseConv2D((3, 1), padding="same", activation="relu")(inp)
    x = L.Conv2D(128, 1, activation="relu")(x)
    x = L.DepthwiseConv2D((3, 1), padding="same")(x)
    x = L.Conv2D(40, 1, activation="relu")(x)
    out = L.Softmax()(L.Dense(2)(L.Flatten()(x)))
    return to_int8_tflite(k.Model(inp, out))


@pytest.mark.parametrize("seed", [0, 1])
def test_regression_width1_1x1_conv_after_depthwise(seed):
    tfl = _width1_kws_model(seed)
    res = compile_tflite(tfl)
    assert res.ops[:2] == ["DEPTHWISE_CONV_2D", "CONV_2D"]
    assert res.graph.ops[1].outputs[0].shape == (1, 28, 1, 128)
    assert 1 in _overlapped_ops(res), "the 1x1 conv's output should overlap its input"
    x = random_inputs(res, 20, seed)
    x[2], x[3] = -128, 127                 # the extremes that flipped the class
    assert_bit_exact(tfl, inputs=np.concatenate([x, x[:2]]))
    _check_plan(res)


def test_plan_checker_refuses_an_unsafe_placement():
    """Move the 1x1 conv's output to the place the old per-row gap allowed (one
    row of 40 bytes plus alignment above its input, run in reverse): refused."""
    from tinyml.codegen.aot.verify import PlanError, verify_plan
    res = compile_tflite(_width1_kws_model(0))
    plan, g = res.plan, res.graph
    op = g.ops[1]
    by_key = {b.key: b for b in plan.buffers}
    bi, bo = by_key[f"t{op.inputs[0].index}"], by_key[f"t{op.outputs[0].index}"]
    verify_plan(g, plan)
    for i, b in enumerate(plan.buffers):          # spread out: nothing shares a byte
        b.offset = i << 20
    plan.arena_bytes = (len(plan.buffers) + 1) << 20
    plan.reverse_ops.discard(1)
    verify_plan(g, plan)
    bo.offset = bi.offset + 48
    plan.reverse_ops.add(1)
    with pytest.raises(PlanError, match=r"op #1 CONV_2D.*reverse order.*written at step"):
        verify_plan(g, plan)
    bo.offset = bi.offset + access_gap_above(res, 1)
    verify_plan(g, plan)                          # the derived gap is proven safe
    a, b = next((a, b) for a in plan.buffers for b in plan.buffers
                if a is not b and a.first <= b.last and b.first <= a.last and a.size and b.size
                and (a.key, b.key) not in plan.accesses and (b.key, a.key) not in plan.accesses)
    a.offset = b.offset                           # two live buffers on the same bytes
    with pytest.raises(PlanError, match="share bytes while both are live"):
        verify_plan(g, plan)


def access_gap_above(res, op_i: int) -> int:
    gap = next(rev.gap_above() for (op, _, rev) in res.plan.accesses.values() if op == op_i)
    return (gap + 15) // 16 * 16


def test_first_unsupported_op_named_before_the_dtype():
    """A model with an int16 input AND an op the runtime lacks: name the op."""
    from tinyml.core.tfcompat import keras, seed_everything, tf
    seed_everything(0)
    k = keras()
    inp = k.Input((8,))
    x = k.layers.Dense(8, name="hidden")(inp)
    x = k.layers.Lambda(lambda v: tf().math.abs(v), name="squash")(x)
    m = k.Model(inp, k.layers.Dense(2)(x))
    conv = tf().lite.TFLiteConverter.from_keras_model(m)
    conv.optimizations = [tf().lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([np.random.default_rng(i).uniform(
        -1, 1, (1, 8)).astype(np.float32)] for i in range(8))
    conv.target_spec.supported_ops = [
        tf().lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf().int16
    with pytest.raises(UnsupportedOpError) as ei:
        compile_tflite(bytes(conv.convert()))
    assert ei.value.op == "ABS" and "squash" in str(ei.value)
    assert "int16" in str(ei.value)


def test_add_with_a_collapsed_output_range_is_refused_clearly():
    """Found by the fuzzer: RELU6 of an all-negative sum gives an output scale of
    ~1e-8; the multiplier leaves [0, 1). Refused with the op named, not a ValueError."""
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(0)
    k = keras()
    inp = k.Input((1, 1, 1))
    out = k.layers.ReLU(6.0)(k.layers.Add()([inp, inp]))
    rep = np.random.default_rng(0).uniform(-2.31, -1.03, (16, 1, 1, 1)).astype(np.float32)
    tfl = to_int8_tflite(k.Model(inp, out), rep)
    with pytest.raises(UnsupportedOpError, match=r"ADD .*output scale .* is too small") as ei:
        compile_tflite(tfl)
    assert ei.value.op == "ADD"
