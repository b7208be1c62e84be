"""TRANSPOSE_CONV, int8 with per-channel int8 weights (TFLM reference arithmetic).

Inputs are (output shape, filter [out_c, k_h, k_w, in_c], input, bias or none). The
output shape is static in the file, so input 0 is not read (the compiler drops the
int32 ops Keras emits to compute it). Padding is TFLM's: the forward convolution's
padding for an input of the output's size."""
from __future__ import annotations

import numpy as np

from . import register
from .base import OpContext
from .common import bias_values, check_symmetric_filter
from .conv import _requant, out_size, pad_before


@register("TRANSPOSE_CONV")
def lower_transpose_conv(op, ctx: OpContext) -> None:
    w, x = op.inputs[1], op.inputs[2]
    b = op.inputs[3] if len(op.inputs) > 3 else None
    y = op.outputs[0]
    ctx.require_int8(x, y)
    check_symmetric_filter(ctx, w)
    if len(x.shape) != 4 or len(y.shape) != 4 or len(w.shape) != 4:
        ctx.unsupported(f"expects 4-D NHWC input and output and a 4-D filter, got "
                        f"{list(x.shape)}, {list(y.shape)} and {list(w.shape)}", y)
    out_c, k_h, k_w, in_c = (int(d) for d in w.shape)
    batches, in_h, in_w, xc = (int(d) for d in x.shape)
    yb, out_h, out_w, yc = (int(d) for d in y.shape)
    if xc != in_c or yc != out_c or yb != batches:
        ctx.unsupported(f"filter {list(w.shape)} does not join input {list(x.shape)} "
                        f"to output {list(y.shape)}", w)
    o = op.options
    pad = o.get("padding", "SAME")
    if pad not in ("SAME", "VALID"):
        ctx.unsupported(f"padding {pad} is not supported", y)
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    if min(sh, sw) < 1:
        ctx.unsupported("strides must be >= 1", y)
    fields = _requant(ctx, x, w, y, out_c)     # out_zp, clamp, per-channel mult / shift
    del fields["rq_fast"]                      # the conv kernels' single-rounding flag
    fields.update(
        batches=batches, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w,
        out_c=out_c, k_h=k_h, k_w=k_w, stride_h=sh, stride_w=sw,
        pad_h=pad_before(out_h, k_h, sh, 1, out_size(pad, out_h, k_h, sh, 1)),
        pad_w=pad_before(out_w, k_w, sw, 1, out_size(pad, out_w, k_w, sw, 1)),
        in_zp=x.scalar_zp(), filter=ctx.const_array("filter", w.data),
        bias=ctx.const_array("bias", bias_values(ctx, b, out_c).astype(np.int32)))
    p = ctx.params("tm_tconv_params_t", fields)
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_transpose_conv_s8(&{p}, {ctx.buf(x)}, {ctx.buf(y)});")
    ctx.add_macs(batches * in_h * in_w * in_c * k_h * k_w * out_c)
