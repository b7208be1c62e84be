"""TRANSPOSE lowering (int8, rank <= 6, constant permutation).

TFLM's kernel copies bytes: the output takes the input's values in permuted
order, whatever the two tensors' scales (the converter gives them the same).
The compiler knows both shapes, so the kernel gets the output shape and, per
output axis, the input stride it walks (shapes left-padded with 1 to rank 6).
"""
from __future__ import annotations

import numpy as np

from . import register
from .base import OpContext

MAX_RANK = 6


@register("TRANSPOSE")
def lower_transpose(op, ctx: OpContext) -> None:
    x, perm, y = op.inputs[0], op.inputs[1], op.outputs[0]
    ctx.require_int8(x, y)
    if perm is None or not perm.is_const:
        ctx.unsupported("the permutation must be a constant tensor", perm)
    rank = len(x.shape)
    p = [int(v) for v in np.asarray(perm.data).reshape(-1)]
    if rank > MAX_RANK:
        ctx.unsupported(f"TRANSPOSE of a rank-{rank} tensor is not supported (max {MAX_RANK})", x)
    if sorted(p) != list(range(rank)):
        ctx.unsupported(f"permutation {p} is not a permutation of 0..{rank - 1}", perm)
    if [int(x.shape[i]) for i in p] != [int(d) for d in y.shape]:
        ctx.unsupported(f"TRANSPOSE output shape {list(y.shape)} does not match the permutation", y)
    strides = [int(np.prod(x.shape[i + 1:])) for i in range(rank)]
    lead = MAX_RANK - rank
    out_shape = [1] * lead + [int(d) for d in y.shape]
    in_stride = [0] * lead + [strides[i] for i in p]
    s = ctx.const_array("shape", np.asarray(out_shape, np.int32))
    st = ctx.const_array("stride", np.asarray(in_stride, np.int32))
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_transpose_s8({ctx.buf(x)}, {ctx.buf(y)}, {s}, {st});")
