"""ADD of two int8 tensors of the same shape (TFLM int8 scheme, left_shift = 20)."""
from __future__ import annotations

from .. import quant
from . import register
from .base import OpContext

LEFT_SHIFT = 20


@register("ADD")
def lower_add(op, ctx: OpContext) -> None:
    a, b = op.inputs[0], op.inputs[1]
    y = op.outputs[0]
    ctx.require_int8(a, b, y)
    for t in (a, b):
        if t.is_const:
            ctx.unsupported("adding a constant tensor is not supported", t)
    if tuple(a.shape) != tuple(b.shape) or a.size != y.size:
        ctx.unsupported(f"broadcasting ADD ({list(a.shape)} + {list(b.shape)}) is not "
                        "supported; only same-shape inputs", y)
    sa, sb, so = a.scalar_scale(), b.scalar_scale(), y.scalar_scale()
    twice_max = 2.0 * float(max(sa, sb))            # max of the float32 scales, in double
    m1, s1 = quant.quantize_multiplier_smaller_than_one(float(sa) / twice_max)
    m2, s2 = quant.quantize_multiplier_smaller_than_one(float(sb) / twice_max)
    mo, so_ = quant.quantize_multiplier_smaller_than_one(twice_max / ((1 << LEFT_SHIFT) * float(so)))
    act_min, act_max = ctx.activation_range(op.options.get("fused_activation", "NONE"), y)
    p = ctx.params("tm_add_params_t", {
        "size": y.size, "in1_offset": -a.scalar_zp(), "in2_offset": -b.scalar_zp(),
        "left_shift": LEFT_SHIFT, "in1_mult": m1, "in1_shift": s1, "in2_mult": m2,
        "in2_shift": s2, "out_mult": mo, "out_shift": so_, "out_zp": y.scalar_zp(),
        "act_min": act_min, "act_max": act_max})
    ctx.include("tm_k_add.h")
    ctx.call(f"tm_k_add(&{p}, {ctx.buf(a)}, {ctx.buf(b)}, {ctx.buf(y)});")
    ctx.overlap(0, 0, 0)      # elementwise: out[i] is written after a[i], b[i] are read
    ctx.overlap(0, 1, 0)
