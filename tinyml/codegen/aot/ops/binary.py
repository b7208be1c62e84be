"""MUL, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE and PRELU of two int8 tensors,
broadcasting over up to 4 dims; either input may be a constant (TFLM reference
arithmetic).

MUL rescales the product of the offset inputs by in1_scale * in2_scale / out_scale
(QuantizeMultiplier, in double). MAXIMUM / MINIMUM compare raw int8 values, as TFLM
does: the converter gives both inputs and the output one quantization.
SQUARED_DIFFERENCE brings both inputs, shifted left by 7, to half the larger scale,
squares their difference and rescales it. PRELU rescales a non-negative input by
in_scale / out_scale and a negative one times its alpha by in * alpha / out.
"""
from __future__ import annotations

from .. import quant
from . import register
from .add import broadcast_strides, emit_two_input, input_multipliers
from .base import OpContext

KINDS = {"MUL": "TM_BIN_MUL", "MAXIMUM": "TM_BIN_MAX", "MINIMUM": "TM_BIN_MIN",
         "SQUARED_DIFFERENCE": "TM_BIN_SQDIFF", "PRELU": "TM_BIN_PRELU"}
SQDIFF_LEFT_SHIFT = 7      # TFLM's int8 choice: 255^2 * 2^14 still fits int32


def _lower_binary(op, ctx: OpContext, **fields) -> None:
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    bc = broadcast_strides(ctx, a, b, y)
    if bc is None:                     # same shapes: one flat run
        bc = ([1, 1, 1, y.size], [0, 0, 0, 1], [0, 0, 0, 1])
    p = {"kind": KINDS[op.builtin], "in1_offset": 0, "in2_offset": 0, "out_mult": 0,
         "out_shift": 0, "out_zp": 0, "act_min": -128, "act_max": 127, "left_shift": 0,
         "in1_mult": 0, "in1_shift": 0, "in2_mult": 0, "in2_shift": 0, "out_mult2": 0,
         "out_shift2": 0}
    p.update(fields)
    ctx.require_shifts(f"output scale {float(y.scalar_scale()):.3g}",
                       (p["out_shift"], p["out_shift2"]), y)
    p.update(dims=bc[0], a_strides=bc[1], b_strides=bc[2])
    emit_two_input(ctx, "tm_k_binary_s8", "tm_binary_params_t", p, "tm_k_binary.h")


@register("MUL")
def lower_mul(op, ctx: OpContext) -> None:
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    ctx.require_int8(a, b, y)
    m, s = quant.quantize_multiplier(float(a.scalar_scale()) * float(b.scalar_scale())
                                     / float(y.scalar_scale()))
    lo, hi = ctx.activation_range(op.options.get("fused_activation", "NONE"), y)
    ctx.add_macs(y.size)
    _lower_binary(op, ctx, in1_offset=-a.scalar_zp(), in2_offset=-b.scalar_zp(),
                  out_mult=m, out_shift=s, out_zp=y.scalar_zp(), act_min=lo, act_max=hi)


@register("MAXIMUM")
def lower_maximum(op, ctx: OpContext) -> None:
    ctx.require_int8(op.inputs[0], op.inputs[1], op.outputs[0])
    _lower_binary(op, ctx)


@register("MINIMUM")
def lower_minimum(op, ctx: OpContext) -> None:
    ctx.require_int8(op.inputs[0], op.inputs[1], op.outputs[0])
    _lower_binary(op, ctx)


@register("SQUARED_DIFFERENCE")
def lower_squared_difference(op, ctx: OpContext) -> None:
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    ctx.require_int8(a, b, y)
    sa, sb = float(a.scalar_scale()), float(b.scalar_scale())
    try:
        twice_max, m1, s1, m2, s2 = input_multipliers(sa, sb)
    except ValueError as e:
        ctx.unsupported(f"input scales {sa:.3g} and {sb:.3g}: {e}", a)
    mo, so = quant.quantize_multiplier(
        twice_max * twice_max / ((1 << (2 * SQDIFF_LEFT_SHIFT)) * float(y.scalar_scale())))
    ctx.add_macs(y.size)
    _lower_binary(op, ctx, in1_offset=-a.scalar_zp(), in2_offset=-b.scalar_zp(),
                  left_shift=SQDIFF_LEFT_SHIFT, in1_mult=m1, in1_shift=s1, in2_mult=m2,
                  in2_shift=s2, out_mult=mo, out_shift=so, out_zp=y.scalar_zp())


@register("PRELU")
def lower_prelu(op, ctx: OpContext) -> None:
    x, alpha, y = op.inputs[0], op.inputs[1], op.outputs[0]
    ctx.require_int8(x, alpha, y)
    if alpha.scale.size != 1:
        ctx.unsupported(f"alpha has {alpha.scale.size} scales; TFLM's PRELU reads one "
                        f"(per-tensor alpha)", alpha)
    sx, sy = float(x.scalar_scale()), float(y.scalar_scale())
    m1, s1 = quant.quantize_multiplier(sx / sy)
    m2, s2 = quant.quantize_multiplier(sx * float(alpha.scalar_scale()) / sy)
    ctx.add_macs(y.size)
    _lower_binary(op, ctx, in1_offset=-x.scalar_zp(), in2_offset=-alpha.scalar_zp(),
                  out_mult=m1, out_shift=s1, out_mult2=m2, out_shift2=s2, out_zp=y.scalar_zp())
