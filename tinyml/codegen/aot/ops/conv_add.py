"""Low-RAM CONV_2D lowerings: tm_k_conv_rows (tm_k_conv_direct where in_c % 4 != 0).
CONV_2D+ADD is the fused op of tinyml/codegen/aot/fuse.py (the residual ADD applied
as each output is stored, in place over the skip tensor); lower_conv_direct is the
plain conv the compiler picks where a faster kernel's scratch would raise the peak."""
from __future__ import annotations

import numpy as np

from . import register
from .base import OpContext
from .common import bias_values, fold_bias, weighted_io
from .conv import _geometry, _requant
from .layout import interleave4, quad_pad


def _direct(conv, ctx: OpContext, out, add_fields: dict | None) -> str:
    """Emit tm_k_conv_direct for `conv` writing `out`; returns the params name."""
    x, w, b, y = weighted_io(conv, ctx)
    if len(w.shape) != 4 or w.shape[3] != x.shape[-1]:
        ctx.unsupported(f"filter {list(w.shape)} does not fit the input {list(x.shape)}", w)
    out_c, k_h, k_w, _ = w.shape
    g = _geometry(conv, ctx, x, y, k_h, k_w)
    wd = w.data.reshape(out_c, -1)
    k_stride = quad_pad(wd.shape[1])             # rows padded with zero weights
    rows = g["in_c"] % 4 == 0                    # whole quads per tap: tm_k_conv_rows
    if rows:
        wp = interleave4(wd, k_stride)
    else:
        wp = np.zeros((out_c, k_stride), np.int8)
        wp[:, :wd.shape[1]] = wd
    fields = dict(g, in_zp=x.scalar_zp(), filter=ctx.const_array("filter", wp),
                  bias=ctx.const_array("bias", fold_bias(ctx, bias_values(ctx, b, out_c), wd,
                                                         x.scalar_zp())),
                  reverse=0, k_stride=k_stride)
    fields.update(_requant(ctx, x, w, y, out_c))
    p = ctx.params("tm_conv_params_t", fields)
    q = "NULL" if add_fields is None else "&" + ctx.params("tm_add_params_t", add_fields, suffix="add")
    # rows: a 2-pixel panel of one kernel row (the DSP path's int16 size); else the
    # im2col of one border pixel
    s = ctx.scratch(direct_scratch_bytes(conv))
    ctx.include("tm_k_conv_add.h")
    fn = "tm_k_conv_rows" if rows else "tm_k_conv_direct"
    ctx.call(f"{fn}(&{p}, {q}, {ctx.buf(x)}, {ctx.buf(out)}, {s});")
    ctx.add_macs(g["batches"] * g["out_h"] * g["out_w"] * out_c * k_h * k_w * g["in_c"])
    return p


def direct_scratch_bytes(conv) -> int:
    """Scratch of the CONV_2D op's low-RAM kernel: tm_k_conv_rows' panel of one kernel
    row of two pixels (4 bytes per input byte of the row: TM_CONV_PANEL_BYTES), or
    tm_k_conv_direct's im2col of one pixel."""
    _, _, k_w, in_c = conv.inputs[1].shape
    if in_c % 4 == 0:
        return 4 * k_w * in_c
    return quad_pad(int(np.prod(conv.inputs[1].shape[1:])))


def lower_conv_direct(op, ctx: OpContext) -> None:
    """CONV_2D through tm_k_conv_direct (not in LOWERINGS: the compiler's RAM choice)."""
    _direct(op, ctx, op.outputs[0], None)


@register("CONV_2D+ADD")
def lower_conv_add(op, ctx: OpContext) -> None:
    out = op.outputs[0]
    k_skip, k_conv, k_c, shift = op.options["lin"]
    lo, hi = op.options["act_range"]
    _direct(op.options["conv"], ctx, out, dict(
        size=out.size, out_zp=out.scalar_zp(), act_min=lo, act_max=hi,
        lin_a=k_skip, lin_b=k_conv, lin_c=k_c, lin_shift=shift))
    ctx.alias(0, 3)            # element by element: each skip byte is read, then replaced
