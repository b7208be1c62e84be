"""Read the facts of an int8 .tflite (TF-free) and emit tm_model_meta.h/.c.

Both device runtimes include tm_model_meta.h: model name and hash, input and
output shape/scale/zero point, labels, TFLM arena size, op count and MACs,
all as TM_MODEL_* macros.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import ModelError
from .carray import c_float, c_string, dims_list, render

# TensorType enum values of the .tflite schema we care about.
_TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 7: "int16", 9: "int8"}
_TYPE_INT8 = 9


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


@dataclass(frozen=True)
class ModelInfo:
    sha256: str
    size_bytes: int
    ops: tuple[str, ...]            # op name of every operator, in execution order
    input: TensorInfo
    output: TensorInfo
    macs: int
    custom_ops: tuple[str, ...] = field(default=())

    @property
    def op_count(self) -> int:
        return len(self.ops)

    @property
    def op_kinds(self) -> tuple[str, ...]:
        """Distinct op names in order of first use (stable, hence deterministic output)."""
        return tuple(dict.fromkeys(self.ops))


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated
    return schema_py_generated


def builtin_op_names() -> dict[int, str]:
    s = _schema()
    return {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}


def read_model_info(tflite: bytes, source: str = "model_int8.tflite") -> ModelInfo:
    """Parse `tflite` (flatbuffer) into ModelInfo. Raises ModelError naming `source`."""
    s = _schema()
    try:
        if len(tflite) < 8 or tflite[4:8] != b"TFL3":
            raise ValueError("missing the TFL3 file identifier")
        model = s.ModelT.InitFromPackedBuf(tflite, 0)
    except Exception as e:  # flatbuffers raises assorted errors on garbage
        raise ModelError(f"{source}: not a readable .tflite flatbuffer ({e})",
                         hint="re-run `tinyml quantize` to regenerate it") from None
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise ModelError(f"{source}: has {len(model.subgraphs or [])} subgraphs; the device runtimes "
                         "support exactly one", hint="export a model without control flow")
    sg = model.subgraphs[0]
    names = builtin_op_names()
    op_names: list[str] = []
    customs: list[str] = []
    for op in sg.operators or []:
        oc = model.operatorCodes[op.opcodeIndex]
        code = max(int(oc.builtinCode), int(oc.deprecatedBuiltinCode))
        name = names.get(code, f"BUILTIN_{code}")
        if name == "CUSTOM":
            cname = (oc.customCode or b"").decode("utf-8", "replace")
            customs.append(cname)
            name = cname
        op_names.append(name)

    def tinfo(idx: int, role: str) -> TensorInfo:
        t = sg.tensors[idx]
        q = t.quantization
        scales = list(q.scale) if q is not None and q.scale is not None else []
        zps = list(q.zeroPoint) if q is not None and q.zeroPoint is not None else []
        tname = (t.name or b"").decode("utf-8", "replace")
        if t.type != _TYPE_INT8 or len(scales) != 1:
            raise ModelError(f"{source}: {role} tensor '{tname}' is {_TYPE_NAMES.get(t.type, t.type)} "
                             f"with {len(scales)} scale(s); the device needs one per-tensor int8 {role}",
                             hint="quantize with int8 input and output (`tinyml quantize`)")
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        return TensorInfo(tname, shape, "int8", float(scales[0]), int(zps[0]) if zps else 0)

    if len(sg.inputs) != 1 or len(sg.outputs) != 1:
        raise ModelError(f"{source}: has {len(sg.inputs)} inputs and {len(sg.outputs)} outputs; "
                         "the device harness supports one of each")
    return ModelInfo(sha256=hashlib.sha256(tflite).hexdigest(), size_bytes=len(tflite),
                     ops=tuple(op_names), input=tinfo(int(sg.inputs[0]), "input"),
                     output=tinfo(int(sg.outputs[0]), "output"), macs=_count_macs(model, names),
                     custom_ops=tuple(dict.fromkeys(customs)))


def _count_macs(model, names: dict[int, str]) -> int:
    """Multiply-accumulates of the conv / depthwise / fully connected / transpose conv ops."""
    sg = model.subgraphs[0]

    def shape(i: int) -> list[int]:
        if i < 0:
            return []
        sh = sg.tensors[i].shape
        return [int(d) for d in sh] if sh is not None else []

    total = 0
    for op in sg.operators or []:
        oc = model.operatorCodes[op.opcodeIndex]
        name = names.get(max(int(oc.builtinCode), int(oc.deprecatedBuiltinCode)), "")
        ins = [int(i) for i in op.inputs]
        out = shape(int(op.outputs[0])) if len(op.outputs) else []
        out_n = int(np.prod(out)) if out else 0
        if name == "CONV_2D":                       # filter [Cout, kh, kw, Cin]
            f = shape(ins[1])
            total += out_n * f[1] * f[2] * f[3]
        elif name == "DEPTHWISE_CONV_2D":           # filter [1, kh, kw, Cout]
            f = shape(ins[1])
            total += out_n * f[1] * f[2]
        elif name == "FULLY_CONNECTED":             # weights [units, in]
            w = shape(ins[1])
            total += out_n * w[-1]
        elif name == "TRANSPOSE_CONV":              # filter [Cout, kh, kw, Cin]; per input pixel
            f = shape(ins[1])
            inp = shape(ins[2])
            total += int(np.prod(inp)) * f[0] * f[1] * f[2]
    return int(total)


def meta_files(info: ModelInfo, model_name: str, run_name: str, runtime: str,
               arena_min: int, arena_bytes: int, labels: Sequence[str],
               macs: int | None = None, op_count: int | None = None,
               has_aot: bool = False, has_tflm: bool = False) -> dict[str, str]:
    """tm_model_meta.h (TM_MODEL_* macros) and tm_model_meta.c (label strings)."""
    label_lines = "\n".join(f"    {c_string(str(lb))}," for lb in labels) if labels else "    0, /* no labels */"
    h = render("tm_model_meta.h.tmpl",
               run_name=_comment_safe(run_name), model_name=c_string(model_name)[1:-1], sha256=info.sha256,
               tflite_bytes=info.size_bytes, runtime=runtime,
               has_aot=int(has_aot), has_tflm=int(has_tflm),
               in_rank=len(info.input.shape), in_dims=dims_list(info.input.shape), in_bytes=info.input.size,
               in_scale=c_float(info.input.scale), in_zp=info.input.zero_point,
               out_rank=len(info.output.shape), out_dims=dims_list(info.output.shape),
               out_bytes=info.output.size, out_scale=c_float(info.output.scale), out_zp=info.output.zero_point,
               arena_min=int(arena_min), arena_bytes=int(arena_bytes),
               op_count=int(op_count if op_count is not None else info.op_count),
               macs=int(macs if macs is not None else info.macs), label_count=len(labels))
    c = render("tm_model_meta.c.tmpl", labels=label_lines)
    return {"tm_model_meta.h": h, "tm_model_meta.c": c}


def _comment_safe(s: str) -> str:
    return s.replace("*/", "* /").replace("\n", " ")
