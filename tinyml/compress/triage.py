"""Quantization triage: the error each layer adds when a float model goes to int8.

TFLite's debug-mode quantizer puts a NumericVerify op after every quantized op:
it runs that op's float twin on the *dequantized int8 inputs*, so the
difference is the error the layer itself adds, not what it inherits. Per
layer, on the calibration inputs: SQNR (10 log10 of signal power over error
power, in dB; higher is better) and the cosine between float and int8.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..core import tfcompat
from ..core.errors import ModelError, first_line
from ..model.tflite_file import layer_from_tensor_name
from .quantize import quantize_float_tflite, tflite_predict

MAX_SAMPLES = 64        # per-layer statistics settle long before the calibration set ends


def sqnr_db(f: np.ndarray, q: np.ndarray) -> float:
    """SQNR of `q` against the float reference `f`, in dB (inf when equal)."""
    f, q = np.asarray(f, np.float64).ravel(), np.asarray(q, np.float64).ravel()
    noise = float(np.sum((f - q) ** 2))
    signal = float(np.sum(f ** 2))
    if noise == 0.0:
        return float("inf")
    return 10.0 * np.log10(signal / noise) if signal > 0 else float("-inf")


def cosine(f: np.ndarray, q: np.ndarray) -> float:
    f, q = np.asarray(f, np.float64).ravel(), np.asarray(q, np.float64).ravel()
    d = float(np.linalg.norm(f) * np.linalg.norm(q))
    return float(np.dot(f, q) / d) if d > 0 else (1.0 if np.array_equal(f, q) else 0.0)


def _deq(q: np.ndarray, scale: float, zp: int) -> np.ndarray:
    return (q.astype(np.int32) - int(zp)).astype(np.float64) * float(scale)


def layer_errors(float_tflite: bytes, int8_tflite: bytes, rep: list[list[np.ndarray]]) -> dict[str, Any]:
    """Per-layer SQNR and cosine, worst layer named, and the whole model's output SQNR."""
    debug_model = quantize_float_tflite(float_tflite, rep, debug=True)
    samples = rep[:MAX_SAMPLES]
    try:
        stats = _verify_stats(debug_model, samples)
    except Exception as e:  # noqa: BLE001 - the interpreter raises assorted types
        raise ModelError(f"per-layer triage failed ({first_line(e, 160)})") from None
    layers = []
    for index, (name, (op, st)) in enumerate(stats.items()):
        tensor = re.sub(r":\d+$", "", name.split("NumericVerify/", 1)[-1])   # "NumericVerify/<t>:<i>"
        layers.append({"tensor": tensor, "layer": layer_from_tensor_name(tensor), "op": op, "index": index,
                       "sqnr_db": _finite(st["sqnr_db"]), "cosine": _finite(st["cosine"]),
                       "max_abs_error": _finite(st["max_abs_error"])})
    rated = [r for r in layers if r["sqnr_db"] is not None]
    worst = min(rated, key=lambda r: r["sqnr_db"]) if rated else None
    return {"layers": layers, "samples": len(samples),
            "worst": None if worst is None else {k: worst[k] for k in ("layer", "op", "sqnr_db")},
            "output_sqnr_db": _finite(_output_sqnr(float_tflite, int8_tflite, samples))}


def _verify_stats(debug_model: bytes,
                  samples: list[list[np.ndarray]]) -> dict[str, tuple[str, dict[str, float]]]:
    """Run the debug model (reference kernels, no delegate) and compare, at every
    NumericVerify op, the quantized output with its float twin's. Returns, in graph
    order, NumericVerify output name -> (the checked op: producer of its first input,
    averaged statistics)."""
    tf = tfcompat.tf()
    interp = tf.lite.Interpreter(
        model_content=debug_model, experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    ops = interp._get_ops_details()  # noqa: SLF001 - the only listing of a graph's ops
    made_by = {int(o): str(op["op_name"]) for op in ops for o in op["outputs"]}
    checks, checked = [], {}
    for op in ops:
        if "NumericVerify" in str(op["op_name"]):
            q_idx, f_idx = int(op["inputs"][0]), int(op["inputs"][1])
            qp = interp._get_tensor_details(q_idx, 0)["quantization_parameters"]  # noqa: SLF001
            name = interp._get_tensor_details(int(op["outputs"][0]), 0)["name"]  # noqa: SLF001
            checks.append((name, q_idx, f_idx, float(qp["scales"][0]), int(qp["zero_points"][0])))
            checked[name] = made_by.get(q_idx)
    inp = interp.get_input_details()[0]
    sums: dict[str, dict[str, list[float]]] = {c[0]: {"sqnr_db": [], "cosine": [], "max_abs_error": []}
                                              for c in checks}
    for (x,) in samples:
        interp.set_tensor(inp["index"], np.asarray(x, inp["dtype"]))
        interp.invoke()
        for name, q_idx, f_idx, scale, zp in checks:
            f, dq = interp.get_tensor(f_idx), _deq(interp.get_tensor(q_idx), scale, zp)
            sums[name]["sqnr_db"].append(sqnr_db(f, dq))
            sums[name]["cosine"].append(cosine(f, dq))
            sums[name]["max_abs_error"].append(float(np.max(np.abs(f - dq))) if f.size else 0.0)
    # SQNR averaged in dB over samples, capped so one exact sample does not make it infinite
    return {n: (checked[n], {k: float(np.mean(np.minimum(v, 999.0))) for k, v in m.items()})
            for n, m in sums.items()}


def _finite(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return round(v, 4) if np.isfinite(v) else (999.0 if v > 0 else None)


def _output_sqnr(float_tflite: bytes, int8_tflite: bytes, samples: list[list[np.ndarray]]) -> float:
    """End to end: the int8 model's dequantized output against the float model's (LiteRT)."""
    x = np.concatenate([s[0] for s in samples])
    return sqnr_db(tflite_predict(float_tflite, x), tflite_predict(int8_tflite, x))
