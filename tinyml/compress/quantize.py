"""Full-int8 conversion: post-training quantization (PTQ) with a representative
dataset, or quantization-aware training (QAT) then the same conversion.

The deployed model ends in a Softmax so the device outputs int8 probabilities;
input and output tensors are int8, weights per-channel (conv) and every op must
be an int8 builtin, otherwise ModelError.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core import tfcompat
from ..core.errors import ModelError, first_line
from ..model.tflite_file import INT16_STATE_INPUTS, parse_tflite

# Tensors that may legitimately be int32 in an int8 model: biases and shape/axis operands.
_INT32_OK_INPUT = {"CONV_2D": {2}, "DEPTHWISE_CONV_2D": {2}, "FULLY_CONNECTED": {2},
                   "RESHAPE": {1}, "MEAN": {1}, "PAD": {1}, "TRANSPOSE_CONV": {0, 3},
                   "UNIDIRECTIONAL_SEQUENCE_LSTM": {12, 13, 14, 15}}


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


def to_int8_tflite(model: Any, rep: np.ndarray | None, dense_per_channel: bool | None = None) -> bytes:
    """Convert to a full-int8 .tflite (int8 input and output): the project's one
    int8 converter. `rep` (float samples, shape (N, *input_shape)) calibrates
    activation ranges; a QAT model carries its own ranges but the converter still
    needs the representative set for the input. `dense_per_channel` forces
    per-channel (True) or per-tensor (False) FULLY_CONNECTED weights; None keeps
    the converter's default. Callers that deploy the result check it with
    `verify_int8` (the quantize stage does)."""
    tf = tfcompat.tf()
    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if rep is not None:
        def gen() -> Any:
            for i in range(len(rep)):
                yield [np.asarray(rep[i : i + 1], np.float32)]
        conv.representative_dataset = gen
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    if dense_per_channel is not None:
        conv._experimental_disable_per_channel_quantization_for_dense_layers = not dense_per_channel
    try:
        return bytes(conv.convert())
    except Exception as e:  # the converter raises assorted internal error types
        raise ModelError(f"int8 conversion failed: {first_line(e, None)}",
                         hint="use only Conv2D, DepthwiseConv2D, Dense, pooling, ReLU and BatchNorm layers") from None


def float_tflite_from_saved_model(path: str, input_shapes: dict[str, list[int]] | None = None) -> bytes:
    """A SavedModel folder as a float .tflite. `input_shapes` fixes the serving signature's
    inputs (by name) to static shapes, batch included."""
    tf = tfcompat.tf()
    if not input_shapes:
        return bytes(tf.lite.TFLiteConverter.from_saved_model(path).convert())
    loaded = tf.saved_model.load(path)
    fn = loaded.signatures["serving_default"]
    specs = {n: tf.TensorSpec(input_shapes[n], t.dtype, name=n)
             for n, t in fn.structured_input_signature[1].items()}
    concrete = tf.function(lambda **kw: fn(**kw)).get_concrete_function(**specs)
    return bytes(tf.lite.TFLiteConverter.from_concrete_functions([concrete], loaded).convert())


def _calibrated(float_tflite: bytes, rep: list[list[np.ndarray]]) -> bytes:
    """The float model with activation ranges recorded on `rep` (one list of arrays,
    one per model input, per sample): the converter's own calibration step."""
    tfcompat.tf()
    from tensorflow.lite.python.optimize import calibrator
    model = calibrator.add_intermediate_tensors(float_tflite)
    return bytes(calibrator.Calibrator(model).calibrate(lambda: iter(rep)))


def quantize_float_tflite(float_tflite: bytes, rep: list[list[np.ndarray]], debug: bool = False) -> bytes:
    """A float .tflite to full int8 (per-channel weights, int8 input and output), as the
    converter's post-training quantization does it. With `debug` the model carries
    TFLite's NumericVerify ops instead (float I/O), for per-layer error triage."""
    tf = tfcompat.tf()
    from tensorflow.lite.python import convert
    try:
        calibrated = _calibrated(float_tflite, rep)
        if debug:
            return bytes(convert.mlir_quantize(calibrated, enable_numeric_verify=True))
        return bytes(convert.mlir_quantize(calibrated, input_data_type=tf.int8,
                                           output_data_type=tf.int8))
    except Exception as e:  # the quantizer raises assorted internal error types
        raise ModelError(f"int8 quantization failed: {first_line(e, None)}",
                         hint="the model has an op TFLite cannot quantize to int8; "
                              "replace that layer or give an int8 .tflite") from None


def describe_ops(data: bytes) -> list[dict[str, Any]]:
    """Per op: name and the dtypes of its inputs/outputs (None for an omitted input)."""
    m = parse_tflite(data, "converted model")
    return [{"op": op.name,
             "inputs": [m.tensors[i].dtype if i >= 0 else None for i in op.inputs],
             "outputs": [m.tensors[i].dtype for i in op.outputs],
             "output_name": op.output_name} for op in m.ops]


def io_details(data: bytes) -> dict[str, Any]:
    m = parse_tflite(data, "converted model")
    return {"input": [m.tensors[i].dtype for i in m.inputs],
            "output": [m.tensors[i].dtype for i in m.outputs]}


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
        ok16 = INT16_STATE_INPUTS.get(row["op"], frozenset())
        bad = [t for j, t in enumerate(row["inputs"]) if t is not None and t != "INT8"
               and not (t == "INT32" and j in ok32) and not (t == "INT16" and j in ok16)]
        bad += [t for t in row["outputs"] if t != "INT8"]
        if row["op"].startswith("CUSTOM") or bad:
            raise ModelError(f"op #{i} {row['op']} (output '{row['output_name']}') is not int8: "
                             f"inputs {row['inputs']}, outputs {row['outputs']}",
                             hint="remove the layer that produced it or replace it with an int8-friendly one")
    return [r["op"] for r in ops]


def int8_weight_sparsity(data: bytes, include_depthwise: bool = False) -> float:
    """Fraction of exact-zero int8 weights in the CONV_2D / FULLY_CONNECTED
    kernels of a .tflite (what pruning left after quantization)."""
    m = parse_tflite(data, "converted model")
    kinds = {"CONV_2D", "FULLY_CONNECTED"} | ({"DEPTHWISE_CONV_2D"} if include_depthwise else set())
    zeros = total = 0
    for op in m.ops:
        if op.name not in kinds:
            continue
        w = np.frombuffer(m.tensor_bytes(op.inputs[1]), np.uint8)
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
        it.reset_all_variables()        # LSTM state: every sample starts from zero
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
