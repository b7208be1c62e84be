"""MUL, MAXIMUM and MINIMUM of two int8 tensors, broadcasting over up to 4 dims;
either input may be a constant (TFLM reference arithmetic).

MUL rescales the product of the offset inputs by in1_scale * in2_scale / out_scale
(QuantizeMultiplier, in double). MAXIMUM / MINIMUM compare raw int8 values, as TFLM
does: the converter gives both inputs and the output one quantization.
"""
from __future__ import annotations

from .. import quant
from . import register
from .add import broadcast_strides, emit_two_input
from .base import OpContext

KINDS = {"MUL": "TM_BIN_MUL", "MAXIMUM": "TM_BIN_MAX", "MINIMUM": "TM_BIN_MIN"}


def _lower_binary(op, ctx: OpContext, **fields) -> None:
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    bc = broadcast_strides(ctx, a, b, y)
    if bc is None:                     # same shapes: one flat run
        bc = ([1, 1, 1, y.size], [0, 0, 0, 1], [0, 0, 0, 1])
    p = {"kind": KINDS[op.builtin], "in1_offset": 0, "in2_offset": 0, "out_mult": 0,
         "out_shift": 0, "out_zp": 0, "act_min": -128, "act_max": 127}
    p.update(fields)
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
