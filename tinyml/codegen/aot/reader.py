"""Read an int8 .tflite flatbuffer into the AOT IR, without TensorFlow.

Uses the schema bindings that ship with the `tflite-micro` wheel (object API).
Options become snake_case dicts: `Conv2DOptions.strideH` -> `stride_h`,
`dilationHFactor` -> `dilation_h`, `fusedActivationFunction` -> `fused_activation`
(a string: "NONE", "RELU", "RELU6", ...), `padding` -> "SAME"/"VALID".
"""
from __future__ import annotations

import hashlib
import re

import numpy as np

from ...errors import ModelError
from .ir import Graph, Op, Tensor


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    return s


def _enum_names(cls) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


_NP_DTYPES = {"INT8": "int8", "UINT8": "uint8", "INT16": "int16", "INT32": "int32",
              "INT64": "int64", "FLOAT32": "float32", "FLOAT16": "float16",
              "BOOL": "bool", "FLOAT64": "float64", "UINT32": "uint32", "UINT16": "uint16"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _options(obj, s) -> dict:
    if obj is None:
        return {}
    acts = _enum_names(s.ActivationFunctionType)
    pads = _enum_names(s.Padding)
    out = {}
    for key in sorted(vars(obj)):
        val = getattr(obj, key)
        k = _snake(key)
        if k == "fused_activation_function":
            out["fused_activation"] = acts.get(val, str(val))
        elif k == "padding":
            out["padding"] = pads.get(val, str(val))
        elif k.startswith("dilation_") and k.endswith("_factor"):
            out[k[: -len("_factor")]] = int(val)
        elif isinstance(val, np.ndarray):
            out[k] = [int(x) for x in val]
        else:
            out[k] = val
    return out


def read_tflite(model_bytes: bytes, source: str = "<model>") -> Graph:
    """Parse `model_bytes` into a Graph. Raises ModelError on an unreadable file."""
    s = _schema()
    if len(model_bytes) < 8 or bytes(model_bytes[4:8]) != b"TFL3":
        raise ModelError(f"{source}: not a readable .tflite flatbuffer (no TFL3 identifier "
                         "at byte 4)", hint="pass the model_int8.tflite written by `tinyml quantize`")
    try:
        m = s.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    except Exception as e:  # flatbuffers raises assorted errors on garbage
        raise ModelError(f"{source}: not a readable .tflite flatbuffer ({e})",
                         hint="pass the model_int8.tflite written by `tinyml quantize`") from None
    if not m.subgraphs:
        raise ModelError(f"{source}: the model has no subgraph")
    if len(m.subgraphs) != 1:
        raise ModelError(f"{source}: {len(m.subgraphs)} subgraphs (control flow) are not "
                         "supported by the AOT runtime", hint="use --runtime tflm")
    sg = m.subgraphs[0]
    types = _enum_names(s.TensorType)
    ops_names = _enum_names(s.BuiltinOperator)

    tensors: list[Tensor] = []
    for i, t in enumerate(sg.tensors):
        tname = types.get(t.type, str(t.type))
        dtype = _NP_DTYPES.get(tname, tname.lower())
        shape = tuple(int(x) for x in (t.shape if t.shape is not None else []))
        q = t.quantization
        scale = np.asarray(q.scale if q is not None and q.scale is not None else [], np.float32)
        zp = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], np.int64)
        axis = int(q.quantizedDimension) if q is not None else 0
        data = None
        buf = m.buffers[t.buffer] if 0 <= t.buffer < len(m.buffers) else None
        if buf is not None and buf.data is not None and len(buf.data):
            raw = np.asarray(buf.data, np.uint8).tobytes()
            try:
                data = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
                data = data.reshape(shape)
            except (TypeError, ValueError):
                raise ModelError(f"{source}: constant tensor #{i} '{t.name.decode()}' has "
                                 f"{len(raw)} bytes, not matching {dtype}{list(shape)}") from None
        name = t.name.decode("utf-8", "replace") if isinstance(t.name, bytes) else str(t.name)
        tensors.append(Tensor(i, name, shape, dtype, scale, zp, axis, data))

    ops: list[Op] = []
    for i, o in enumerate(sg.operators or []):
        code = m.operatorCodes[o.opcodeIndex]
        b = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        builtin = ops_names.get(b, f"BUILTIN_{b}")
        if builtin == "CUSTOM":
            cc = code.customCode.decode() if code.customCode else "?"
            builtin = f"CUSTOM:{cc}"
        ins = [tensors[j] if j >= 0 else None for j in (o.inputs if o.inputs is not None else [])]
        outs = [tensors[j] for j in (o.outputs if o.outputs is not None else [])]
        ops.append(Op(i, builtin, _options(o.builtinOptions, s), ins, outs))

    g_in = [tensors[j] for j in sg.inputs]
    g_out = [tensors[j] for j in sg.outputs]
    desc = m.description.decode() if isinstance(m.description, bytes) else (m.description or "")
    return Graph(tensors, ops, g_in, g_out, hashlib.sha256(model_bytes).hexdigest(), desc)
