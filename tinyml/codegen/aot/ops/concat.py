"""CONCATENATION lowering (int8).

TFLM concatenates int8 tensors as raw bytes and its Prepare refuses inputs
whose scale or zero point differ from the output's; the converter equalises
them by inserting QUANTIZE (int8 -> int8 requantize) ops in front, which
quantize.py lowers. So this is a plain byte copy too.
"""
from __future__ import annotations

import numpy as np

from . import register
from .base import OpContext


@register("CONCATENATION")
def lower_concat(op, ctx: OpContext) -> None:
    y = op.outputs[0]
    ins = [t for t in op.inputs if t is not None]
    for t in ins + [y]:
        if t.dtype != "int8":
            ctx.unsupported(f"CONCATENATION of {t.dtype} tensors (only int8 is supported)", t)
    act = op.options.get("fused_activation", "NONE")
    if act != "NONE":
        ctx.unsupported(f"CONCATENATION with fused activation {act} (TFLM rejects it too)", y)
    rank = len(y.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank or len(ins) > 10:
        ctx.unsupported(f"CONCATENATION axis {axis} of {len(ins)} inputs is not supported", y)
    for t in ins:
        if len(t.shape) != rank or any(t.shape[d] != y.shape[d] for d in range(rank) if d != axis):
            ctx.unsupported(f"input shape {list(t.shape)} does not fit output {list(y.shape)}", t)
    for t in ins:
        if t.scale.size != 1 or np.float32(t.scalar_scale()) != np.float32(y.scalar_scale()) \
                or t.scalar_zp() != y.scalar_zp():
            ctx.unsupported("CONCATENATION inputs must share the output's scale and zero point "
                            "(TFLM requires it; the converter inserts QUANTIZE ops for this)", t)
    emit_concat(ctx, ins, y, axis, [int(t.shape[axis]) for t in ins])


def emit_concat(ctx: OpContext, ins, y, axis: int, lens: list[int]) -> None:
    """tm_k_concat_s8 of `ins` into y along `axis`, lens[i] elements of that axis each
    (PACK: all 1)."""
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    inner = int(np.prod(y.shape[axis + 1:], dtype=np.int64))
    ptrs = [ctx.const_array(f"in{i}", t.data.astype(np.int8)) if t.is_const else ctx.buf(t)
            for i, t in enumerate(ins)]
    lens = ctx.const_array("axis_len", np.asarray(lens, np.int32))
    ctx.include("tm_k_misc.h")
    ctx.call("{ const int8_t *const ins[%d] = {%s}; tm_k_concat_s8(ins, %s, %d, %s, %d, %d); }"
             % (len(ins), ", ".join(ptrs), lens, len(ins), ctx.buf(y), outer, inner))
