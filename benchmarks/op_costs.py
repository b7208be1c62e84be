"""Instructions per output element (or per MAC) of every AOT op on the emulated
Cortex-M4 (QEMU mps2-an386, -icount), DSP and portable kernel paths.

For each op: a small Keras model with the op between two 1x1 convolutions (so its
input and output are quantized tensors, as in a real network), converted to full
int8, compiled, checked bit-exact against the TFLM host runtime, then profiled per
op (a TM_ENABLE_PROFILE=1 image). The figure is the op's instructions divided by
its output elements (data ops), input elements (MEAN) or MACs (conv, depthwise, FC,
transpose conv, LSTM). Measured, not estimated: instruction counts of the emulator, which are not
cycles on silicon. Writes docs/op_costs.json, which scripts/gen_ops_table.py puts
into docs/OPS.md.

Run:  .venv/bin/python benchmarks/op_costs.py [OP ...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "host"))
sys.path.insert(0, str(ROOT / "tests" / "emu"))

OUT = ROOT / "docs" / "op_costs.json"
SHAPE = (16, 16, 8)
MAC_OPS = {"BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV",
           "UNIDIRECTIONAL_SEQUENCE_LSTM"}
PER_INPUT = {"MEAN"}           # a reduction: its cost follows the elements it reads


def _graphs(k, tf):
    """op -> (layer function on the pre-conv output, input shape)."""
    L = k.layers
    lam = lambda f: (lambda v: L.Lambda(f, name="op")(v))  # noqa: E731
    # x op conv(x): two differently quantized operands of the same shape
    two = lambda f: (lambda v: L.Lambda(lambda ts: f(ts[0], ts[1]), name="op")(  # noqa: E731
        [v, L.Conv2D(8, 1, name="b")(v)]))
    return {
        "CONV_2D": (lambda v: L.Conv2D(16, 3, padding="same", name="op")(v), SHAPE),
        "DEPTHWISE_CONV_2D": (lambda v: L.DepthwiseConv2D(3, padding="same", name="op")(v), SHAPE),
        "FULLY_CONNECTED": (lambda v: L.Dense(32, name="op")(L.Flatten()(v)), SHAPE),
        "TRANSPOSE_CONV": (lambda v: L.Conv2DTranspose(8, 3, strides=2, padding="same",
                                                       name="op")(v), (8, 8, 8)),
        "AVERAGE_POOL_2D": (lambda v: L.AveragePooling2D(2, name="op")(v), SHAPE),
        "MAX_POOL_2D": (lambda v: L.MaxPooling2D(2, name="op")(v), SHAPE),
        "ADD": (two(lambda a, b: a + b), SHAPE),
        "SUB": (two(lambda a, b: a - b), SHAPE),
        "MUL": (two(lambda a, b: a * b), SHAPE),
        "MAXIMUM": (two(tf.maximum), SHAPE),
        "MINIMUM": (two(tf.minimum), SHAPE),
        "SQUARED_DIFFERENCE": (two(tf.math.squared_difference), SHAPE),
        "BATCH_MATMUL": (two(lambda a, b: tf.matmul(a, b, transpose_b=True)), SHAPE),
        "PRELU": (lambda v: L.PReLU(shared_axes=[1, 2], name="op")(v), SHAPE),
        "LEAKY_RELU": (lambda v: L.LeakyReLU(0.2, name="op")(v), SHAPE),
        "TANH": (lam(tf.tanh), SHAPE),
        "LOGISTIC": (lam(tf.sigmoid), SHAPE),
        "HARD_SWISH": (lam(lambda t: t * tf.nn.relu6(t + 3.0) / 6.0), SHAPE),
        "SOFTMAX": (lambda v: L.Softmax(name="op")(v), SHAPE),
        "MEAN": (lam(lambda t: tf.reduce_mean(t, axis=[1, 2], keepdims=True)), SHAPE),
        "PAD": (lambda v: L.ZeroPadding2D(1, name="op")(v), SHAPE),
        "CONCATENATION": (lambda v: L.Concatenate(name="op")([v, L.Conv2D(8, 1, name="b")(v)]), SHAPE),
        "TRANSPOSE": (lambda v: L.Permute((3, 1, 2), name="op")(v), SHAPE),
        "STRIDED_SLICE": (lam(lambda t: t[:, 1:15:2, ::-1, :]), SHAPE),
        "SPLIT": (lam(lambda t: tf.concat(tf.split(t, 2, axis=-1)[::-1], axis=-1)), SHAPE),
        "GATHER": (lam(lambda t: tf.gather(t, [3, 0, 1, 7, 2, 5], axis=-1)), SHAPE),
        "RESIZE_NEAREST_NEIGHBOR": (lam(lambda t: tf.image.resize(t, (32, 32), "nearest")), SHAPE),
        "RESIZE_BILINEAR": (lam(lambda t: tf.image.resize(t, (32, 32), "bilinear")), SHAPE),
    }


def _model(k, tf, op: str):
    L = k.layers
    fn, shape = _graphs(k, tf)[op]
    inp = k.Input(shape, batch_size=1)
    y = fn(L.Conv2D(shape[-1], 1, name="pre")(inp))
    y = L.Conv2D(4, 1, name="post")(y) if len(y.shape) == 4 else L.Dense(4, name="post")(y)
    m = k.Model(inp, y)
    rng = np.random.default_rng(0)
    for ly in m.layers:                         # random, non-zero biases and slopes
        ws = ly.get_weights()
        if ws:
            ly.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in ws])
    return m, shape


def _lstm(k):
    L = k.layers
    inp = k.Input((16, 8), batch_size=1)
    m = k.Model(inp, L.Dense(4)(L.LSTM(16, name="op")(inp)))
    return m, (16, 8)


def measure(op: str) -> dict:
    from aot_harness import run_tflm, to_int8_tflite
    from aot_models import layer_profile
    from tinyml.codegen.aot import compile_tflite
    from tinyml.core.tfcompat import keras, seed_everything, tf
    seed_everything(0)
    k, t = keras(), tf()
    m, shape = _lstm(k) if op == "UNIDIRECTIONAL_SEQUENCE_LSTM" else _model(k, t, op)
    rng = np.random.default_rng(1)
    tfl = to_int8_tflite(m, rng.uniform(-1, 1, (32, *shape)).astype(np.float32))
    res = compile_tflite(tfl)
    if op not in res.ops:
        return {"error": f"the converter emitted {res.ops}, not {op}"}
    x = rng.integers(-128, 128, (2, *shape), dtype=np.int8)
    ref = run_tflm(tfl, x)
    dsp = layer_profile(res, x, ref, ())
    port = layer_profile(res, x, ref, ("-DTM_AOT_FORCE_PORTABLE",))
    # the measured op, not the 1x1 convs around it: the one of most MACs
    i = max((j for j, o in enumerate(res.ops) if o == op), key=lambda j: res.op_macs[j])
    g_op = res.graph.ops[i]
    out = g_op.outputs[0]
    if op in MAC_OPS:
        unit, n = "MAC", res.op_macs[i]
    elif op in PER_INPUT:
        unit, n = "input element", g_op.inputs[0].size
    else:
        unit, n = "element", out.size
    return {"unit": unit, "count": int(n), "output": list(out.shape), "kernel": res.kernels[i],
            "dsp": round(dsp[i] / n, 2), "portable": round(port[i] / n, 2)}


def main(argv: list[str]) -> None:
    from tinyml.core.tfcompat import keras, tf
    ops = argv or sorted(list(_graphs(keras(), tf())) + ["UNIDIRECTIONAL_SEQUENCE_LSTM"])
    table = json.loads(OUT.read_text()) if OUT.exists() else {}
    print(f"{'op':<30}{'unit':>8}{'count':>9}{'DSP':>9}{'portable':>10}  kernel")
    for op in ops:
        r = measure(op)
        if "error" in r:
            print(f"{op:<30} not measured: {r['error']}")
            continue
        table[op] = r
        print(f"{op:<30}{r['unit']:>8}{r['count']:>9,}{r['dsp']:>9.2f}{r['portable']:>10.2f}  {r['kernel']}")
    OUT.write_text(json.dumps(dict(sorted(table.items())), indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} (instructions per unit on qemu_m4, -icount)")


if __name__ == "__main__":
    main(sys.argv[1:])
