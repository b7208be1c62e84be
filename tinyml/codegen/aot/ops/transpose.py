"""TRANSPOSE lowering (int8, rank <= 6, constant permutation).

TFLM's kernel copies bytes: the output takes the input's values in permuted
order, whatever the two tensors' scales (the converter gives them the same).
The compiler knows both shapes, so the strided copy of movement.py gets the
output shape and, per output axis, the input stride it walks.
"""
from __future__ import annotations

import numpy as np

from . import register
from .base import OpContext
from .movement import MAX_RANK, strided_copy


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
    strided_copy(ctx, ctx.buf(x), ctx.buf(y), [int(d) for d in y.shape], [strides[i] for i in p])
