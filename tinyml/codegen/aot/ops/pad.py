"""PAD / PADV2 lowerings (int8, constant padding, rank <= 4).

TFLM pads int8 PAD with the output zero point (the quantized 0.0) and PADV2
with its constant_values tensor.
"""
from __future__ import annotations

import numpy as np

from . import register
from .base import OpContext


def _lower_pad(op, ctx: OpContext) -> None:
    x, pads, y = op.inputs[0], op.inputs[1], op.outputs[0]
    ctx.require_int8(x, y)
    if pads is None or not pads.is_const:
        ctx.unsupported("padding amounts must be a constant tensor", pads)
    rank = len(x.shape)
    p = np.asarray(pads.data, np.int64).reshape(-1, 2)
    if rank > 4 or p.shape[0] != rank:
        ctx.unsupported(f"PAD of a rank-{rank} tensor is not supported (max 4)", x)
    if (p < 0).any():
        ctx.unsupported("negative padding is not supported", pads)
    if op.builtin == "PADV2" and len(op.inputs) > 2 and op.inputs[2] is not None:
        cv = op.inputs[2]
        if not cv.is_const or cv.dtype != "int8":
            ctx.unsupported("PADV2 constant_values must be a constant int8 scalar", cv)
        value = int(np.asarray(cv.data).reshape(-1)[0])
    else:
        value = y.scalar_zp()
    lead = 4 - rank
    shape = [1] * lead + [int(d) for d in x.shape]
    before = [0] * lead + [int(v) for v in p[:, 0]]
    after = [0] * lead + [int(v) for v in p[:, 1]]
    if int(np.prod([b + s + a for b, s, a in zip(before, shape, after)])) != y.size:
        ctx.unsupported(f"PAD output shape {list(y.shape)} does not match the paddings", y)
    s = ctx.const_array("shape", np.asarray(shape, np.int32))
    b = ctx.const_array("before", np.asarray(before, np.int32))
    a = ctx.const_array("after", np.asarray(after, np.int32))
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_pad_s8({ctx.buf(x)}, {ctx.buf(y)}, {s}, {b}, {a}, {value});")


@register("PAD")
def lower_pad(op, ctx: OpContext) -> None:
    _lower_pad(op, ctx)


@register("PADV2")
def lower_padv2(op, ctx: OpContext) -> None:
    _lower_pad(op, ctx)
