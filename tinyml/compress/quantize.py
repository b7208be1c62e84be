"""Full-int8 conversion: post-training quantization (PTQ) with a representative
dataset, or quantization-aware training (QAT) then the same conversion.

The deployed model ends in a Softmax so the device outputs int8 probabilities;
input and output tensors are int8, weights per-channel (conv) and every op must
be an int8 builtin, otherwise ModelError.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import tfcompat
from ..errors import ModelError

# Tensors that may legitimately be int32 in an int8 model: biases and shape/axis operands.
_INT32_OK_INPUT = {"CONV_2D": {2}, "DEPTHWISE_CONV_2D": {2}, "FULLY_CONNECTED": {2},
                   "RESHAPE": {1}, "MEAN": {1}, "PAD": {1}, "TRANSPOSE_CONV": {0, 3}}


def with_softmax(model: Any) -> Any:
    """The logits model plus a final Softmax layer (what gets deployed)."""
    k = tfcompat.keras()
    out = k.layers.Softmax(name="prob")(model.output)
    return k.Model(model.input, out, name=model.name)


def representative_samples(x: np.ndarray, n: int, seed: int) -> np.ndarray:
    """`n` training samples picked deterministically (seeded), as float32."""
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(x))[: min(n, len(x))]
    return np.asarray(x[np.sort(idx)], dtype=np.float32)


def _converter(model: Any) -> Any:
    tf = tfcompat.tf()
    return tf.lite.TFLiteConverter.from_keras_model(model)


def to_float_tflite(model: Any) -> bytes:
    return bytes(_converter(model).convert())


def to_int8_tflite(model: Any, rep: np.ndarray | None) -> bytes:
    """Convert to a full-int8 .tflite (int8 input and output). `rep` (float
    samples) calibrates activation ranges; a QAT model carries its own ranges
    but the converter still needs the representative set for the input."""
    tf = tfcompat.tf()
    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if rep is not None:
        def gen() -> Any:
            for i in range(len(rep)):
                yield [rep[i : i + 1]]
        conv.representative_dataset = gen
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    try:
        data = bytes(conv.convert())
    except Exception as e:  # the converter raises assorted internal error types
        raise ModelError(f"int8 conversion failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
                         hint="use only Conv2D, DepthwiseConv2D, Dense, pooling, ReLU and BatchNorm layers") from None
    verify_int8(data)
    return data


def describe_ops(data: bytes) -> list[dict[str, Any]]:
    """Per op in subgraph 0: builtin name and the dtypes of its inputs/outputs."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as S
    m = S.ModelT.InitFromPackedBuf(data, 0)
    names = {v: k for k, v in vars(S.BuiltinOperator).items() if not k.startswith("_")}
    tnames = {v: k for k, v in vars(S.TensorType).items() if not k.startswith("_")}
    sg = m.subgraphs[0]
    rows = []
    for op in sg.operators:
        oc = m.operatorCodes[op.opcodeIndex]
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        rows.append({
            "op": names.get(code, f"CUSTOM({oc.customCode})"),
            "inputs": [tnames[sg.tensors[i].type] if i >= 0 else None for i in op.inputs],
            "outputs": [tnames[sg.tensors[i].type] for i in op.outputs],
            "output_name": sg.tensors[op.outputs[0]].name.decode(errors="replace") if op.outputs is not None else "",
        })
    return rows


def io_details(data: bytes) -> dict[str, Any]:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as S
    m = S.ModelT.InitFromPackedBuf(data, 0)
    sg = m.subgraphs[0]
    tnames = {v: k for k, v in vars(S.TensorType).items() if not k.startswith("_")}
    return {"input": [tnames[sg.tensors[i].type] for i in sg.inputs],
            "output": [tnames[sg.tensors[i].type] for i in sg.outputs]}


def verify_int8(data: bytes) -> list[str]:
    """Raise ModelError unless model I/O and every op's activations are int8.
    Returns the op names in order."""
    io = io_details(data)
    if io["input"] != ["INT8"] * len(io["input"]) or io["output"] != ["INT8"] * len(io["output"]):
        raise ModelError(f"converted model has {io['input']} input and {io['output']} output, expected INT8",
                         hint="this is a converter problem; report it with the model")
    ops = describe_ops(data)
    for i, row in enumerate(ops):
        ok32 = _INT32_OK_INPUT.get(row["op"], set())
        bad = [t for j, t in enumerate(row["inputs"]) if t is not None and t != "INT8" and not (t == "INT32" and j in ok32)]
        bad += [t for t in row["outputs"] if t != "INT8"]
        if row["op"].startswith("CUSTOM") or bad:
            raise ModelError(f"op #{i} {row['op']} (output '{row['output_name']}') is not int8: "
                             f"inputs {row['inputs']}, outputs {row['outputs']}",
                             hint="remove the layer that produced it or replace it with an int8-friendly one")
    return [r["op"] for r in ops]


def int8_weight_sparsity(data: bytes, include_depthwise: bool = False) -> float:
    """Fraction of exact-zero int8 weights in the CONV_2D / FULLY_CONNECTED
    kernels of a .tflite (what pruning left after quantization)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as S
    m = S.ModelT.InitFromPackedBuf(data, 0)
    sg = m.subgraphs[0]
    kinds = {S.BuiltinOperator.CONV_2D, S.BuiltinOperator.FULLY_CONNECTED}
    if include_depthwise:
        kinds.add(S.BuiltinOperator.DEPTHWISE_CONV_2D)
    zeros = total = 0
    for op in sg.operators:
        oc = m.operatorCodes[op.opcodeIndex]
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) not in kinds:
            continue
        buf = m.buffers[sg.tensors[op.inputs[1]].buffer].data
        if buf is None:
            continue
        w = np.asarray(buf, dtype=np.uint8)
        zeros += int(np.count_nonzero(w == 0))
        total += int(w.size)
    return zeros / total if total else 0.0


# -- evaluation ------------------------------------------------------------
def tflite_predict(data: bytes, x: np.ndarray) -> np.ndarray:
    """Class scores from a .tflite with LiteRT (quantizes int8 inputs itself)."""
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_content=data)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    res = np.zeros((len(x), *out["shape"][1:]), np.float32)
    for i in range(len(x)):
        xi = x[i : i + 1].astype(np.float32)
        if inp["dtype"] == np.int8:
            s, z = inp["quantization"]
            xi = np.clip(np.round(xi / s) + z, -128, 127).astype(np.int8)
        it.set_tensor(inp["index"], xi)
        it.invoke()
        y = it.get_tensor(out["index"])[0]
        if out["dtype"] == np.int8:
            s, z = out["quantization"]
            y = (y.astype(np.float32) - z) * s
        res[i] = y
    return res


def tflite_accuracy(data: bytes, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(tflite_predict(data, x), axis=1) == y))


# -- QAT -------------------------------------------------------------------
def qat_wrap(deployed: Any, prune_preserve: bool = False) -> tuple[Any, Any]:
    """Quantization-aware copy of a deployed (logits + Softmax) model.

    Returns (qat_model, logits_view): the second shares all layers with the
    first but stops before the Softmax, so it can be trained with a logits
    loss (e.g. distillation). With `prune_preserve` the pruning-preserving
    scheme keeps the zeros that pruning made.
    """
    k = tfcompat.keras()
    tfmot = tfcompat.tfmot()
    qk = tfmot.quantization.keras
    annotated = qk.quantize_annotate_model(deployed)
    if prune_preserve:
        qat = qk.quantize_apply(annotated, tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme())
    else:
        qat = qk.quantize_apply(annotated)
    # The layer feeding the final softmax wrapper holds the (fake-quantized) logits.
    soft = qat.layers[-1]
    logits = soft.input
    return qat, k.Model(qat.input, logits, name="qat_logits")
