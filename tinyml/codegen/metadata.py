"""Read the facts of an int8 .tflite (TF-free) and emit tm_model_meta.h/.c.

Both device runtimes include tm_model_meta.h: model name and hash, input and
output shape/scale/zero point, labels, TFLM arena size, op count and MACs,
all as TM_MODEL_* macros.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..core.errors import ModelError
from .carray import c_float, c_string, dims_list, render

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


def builtin_op_names() -> dict[int, str]:
    """Builtin operator code -> name, from the .tflite schema."""
    from ..model.tflite_file import builtin_names
    return builtin_names()


def read_model_info(tflite: bytes, source: str = "model_int8.tflite") -> ModelInfo:
    """The facts the device needs from `tflite`. Raises ModelError naming `source`."""
    from ..model.tflite_file import parse_tflite
    m = parse_tflite(tflite, source)
    if len(m.inputs) != 1 or len(m.outputs) != 1:
        raise ModelError(f"{source}: has {len(m.inputs)} inputs and {len(m.outputs)} outputs; "
                         "the device harness supports one of each")
    op_names = [op.name.split(":", 1)[1] if op.name.startswith("CUSTOM:") else op.name for op in m.ops]
    customs = [op.name.split(":", 1)[1] for op in m.ops if op.name.startswith("CUSTOM:")]

    def tinfo(idx: int, role: str) -> TensorInfo:
        t = m.tensors[idx]
        if t.dtype != "INT8" or len(t.scale) != 1:
            raise ModelError(f"{source}: {role} tensor '{t.name}' is {t.dtype.lower()} with {len(t.scale)} "
                             f"scale(s); the device needs one per-tensor int8 {role}",
                             hint="quantize with int8 input and output (`tinyml quantize`)")
        return TensorInfo(t.name, tuple(t.shape), "int8", float(t.scale[0]), int(t.zero_point[0]))

    return ModelInfo(sha256=m.sha256, size_bytes=m.size, ops=tuple(op_names),
                     input=tinfo(m.inputs[0], "input"), output=tinfo(m.outputs[0], "output"),
                     macs=_count_macs(m), custom_ops=tuple(dict.fromkeys(customs)))


def _count_macs(m) -> int:
    """Multiply-accumulates of the conv / depthwise / fully connected / transpose conv ops."""
    def shape(i: int) -> tuple[int, ...]:
        return m.tensors[i].shape if i >= 0 else ()

    total = 0
    for op in m.ops:
        ins = op.inputs
        out = shape(op.outputs[0]) if op.outputs else ()
        out_n = int(np.prod(out)) if out else 0
        if op.name == "CONV_2D":                       # filter [Cout, kh, kw, Cin]
            f = shape(ins[1])
            total += out_n * f[1] * f[2] * f[3]
        elif op.name == "DEPTHWISE_CONV_2D":           # filter [1, kh, kw, Cout]
            f = shape(ins[1])
            total += out_n * f[1] * f[2]
        elif op.name == "FULLY_CONNECTED":             # weights [units, in]
            total += out_n * shape(ins[1])[-1]
        elif op.name == "TRANSPOSE_CONV":              # filter [Cout, kh, kw, Cin]; per input pixel
            f = shape(ins[1])
            total += int(np.prod(shape(ins[2]))) * f[0] * f[1] * f[2]
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
