"""BATCH_MATMUL, int8 (TFLM reference arithmetic): out = a x b over the last two
dims, batch dims (up to 3) broadcast, adj_x / adj_y transposing an operand; zero
points subtracted, one multiplier (float32 scale product), int8 clamp. Either
operand may be a constant. The kernel reads both through strides, so neither a
transposed nor a broadcast operand is copied."""
from __future__ import annotations

import numpy as np

from .. import quant
from . import register
from .base import OpContext
from .movement import _strides


@register("BATCH_MATMUL")
def lower_batch_matmul(op, ctx: OpContext) -> None:
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    ctx.require_int8(a, b, y)
    for t in (a, b):
        if t.scale.size != 1:
            ctx.unsupported("an operand quantized per channel is not supported (TFLM's int8 "
                            "BATCH_MATMUL takes one scale per operand)", t)
    if not (2 <= len(a.shape) <= 5 and 2 <= len(b.shape) <= 5 and len(y.shape) <= 5):
        ctx.unsupported(f"operands of rank 2 to 5 only, got {list(a.shape)} x {list(b.shape)}", y)
    pad = lambda s: [1] * (5 - len(s)) + [int(d) for d in s]  # noqa: E731
    sa, sb, so = pad(a.shape), pad(b.shape), pad(y.shape)
    adj_x, adj_y = bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))
    rows, depth = (sa[4], sa[3]) if adj_x else (sa[3], sa[4])
    depth_b, cols = (sb[4], sb[3]) if adj_y else (sb[3], sb[4])
    batch = []
    for d in range(3):
        if sa[d] != sb[d] and 1 not in (sa[d], sb[d]):
            ctx.unsupported(f"batch dims of {list(a.shape)} and {list(b.shape)} do not broadcast", y)
        batch.append(max(sa[d], sb[d]))
    if depth != depth_b or so != batch + [rows, cols]:
        ctx.unsupported(f"{list(a.shape)} x {list(b.shape)} (adj_x {adj_x}, adj_y {adj_y}) "
                        f"does not give {list(y.shape)}", y)
    st_a, st_b = _strides(sa), _strides(sb)
    m, s = quant.tensor_multiplier(a.scalar_scale(), b.scalar_scale(), y.scalar_scale())
    ctx.require_shifts(f"output scale {float(y.scalar_scale()):.3g}", (s,), y)
    fields = dict(
        batch=batch, a_batch=[0 if sa[d] == 1 else st_a[d] for d in range(3)],
        b_batch=[0 if sb[d] == 1 else st_b[d] for d in range(3)], rows=rows, cols=cols,
        depth=depth, a_row=1 if adj_x else depth, a_k=rows if adj_x else 1,
        b_k=1 if adj_y else cols, b_col=depth if adj_y else 1,
        a_zp=a.scalar_zp(), b_zp=b.scalar_zp(), mult=m, shift=s, out_zp=y.scalar_zp())
    p = ctx.params("tm_bmm_params_t", fields)
    ptr = [ctx.const_array(f"in{i}", t.data) if t.is_const else ctx.buf(t) for i, t in enumerate((a, b))]
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_batch_matmul_s8(&{p}, {ptr[0]}, {ptr[1]}, {ctx.buf(y)});")
    ctx.add_macs(int(np.prod(batch)) * rows * cols * depth)
