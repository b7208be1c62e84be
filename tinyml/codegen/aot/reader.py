"""Read an int8 .tflite flatbuffer into the AOT IR, without TensorFlow.

Uses the schema bindings that ship with the `tflite-micro` wheel (object API).
Options become snake_case dicts: `Conv2DOptions.strideH` -> `stride_h`,
`dilationHFactor` -> `dilation_h`, `fusedActivationFunction` -> `fused_activation`
(a string: "NONE", "RELU", "RELU6", ...), `padding` -> "SAME"/"VALID".
"""
from __future__ import annotations

import re

import numpy as np

from ...core.errors import ModelError
from ...model.tflite_file import parse_tflite, schema
from .ir import Graph, Op, Tensor


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
    """Parse `model_bytes` into a Graph. The file is validated by the project's
    shared reader (tinyml.model.tflite_file), which raises ModelError naming `source`."""
    fm = parse_tflite(bytes(model_bytes), source)
    m, s = fm.flatbuffer, schema()
    sg = m.subgraphs[0]

    tensors: list[Tensor] = []
    for ft in fm.tensors:
        dtype = _NP_DTYPES.get(ft.dtype, ft.dtype.lower())
        data = None
        raw = fm.tensor_bytes(ft.index)
        if raw:
            try:
                data = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
                data = data.reshape(ft.shape)
            except (TypeError, ValueError):
                raise ModelError(f"{source}: constant tensor #{ft.index} '{ft.name}' has "
                                 f"{len(raw)} bytes, not matching {dtype}{list(ft.shape)}") from None
        tensors.append(Tensor(ft.index, ft.name, ft.shape, dtype, ft.scale, ft.zero_point,
                              ft.quantized_dimension, data))

    ops: list[Op] = []
    for o, fo in zip(sg.operators or [], fm.ops):
        ins = [tensors[j] if j >= 0 else None for j in fo.inputs]
        outs = [tensors[j] for j in fo.outputs]
        ops.append(Op(fo.index, fo.name, _options(o.builtinOptions, s), ins, outs, fo.layer))

    return Graph(tensors, ops, [tensors[j] for j in fm.inputs], [tensors[j] for j in fm.outputs],
                 fm.sha256, fm.description)
