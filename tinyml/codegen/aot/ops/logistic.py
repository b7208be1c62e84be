"""LOGISTIC lowering (int8, output zero point -128).

TFLM's int8 LOGISTIC is reference_integer_ops::Logistic: the input (minus its
zero point) is rescaled to Q4.27 and passed through gemmlowp's fixed-point
logistic; no lookup table. Prepare uses frexp directly (not
QuantizeMultiplier) for the multiplier and CalculateInputRadius(4, shift).
"""
from __future__ import annotations

import math

import numpy as np

from .. import quant
from . import register
from .base import OpContext
from .softmax import input_radius

INPUT_INT_BITS = 4


def logistic_params(input_scale: float) -> tuple[int, int, int]:
    """(multiplier, left_shift, input_range_radius) exactly as TFLM's Prepare."""
    real = float(np.float32(input_scale)) * float(1 << (31 - INPUT_INT_BITS))
    q, shift = math.frexp(real)
    m = quant.round_away(q * float(1 << 31))
    if m >= 1 << 31:            # TFLM's static_cast<int32_t> wraps this one case
        m -= 1 << 32
    return int(m), int(shift), input_radius(INPUT_INT_BITS, shift)


@register("LOGISTIC")
def lower_logistic(op, ctx: OpContext) -> None:
    x, y = op.inputs[0], op.outputs[0]
    ctx.require_int8(x, y)
    if y.scalar_zp() != -128:
        ctx.unsupported(f"int8 logistic output zero point must be -128 (got {y.scalar_zp()})", y)
    mult, shift, radius = logistic_params(x.scalar_scale())
    if shift < 0 or shift > 31:
        ctx.unsupported(f"input scale {x.scalar_scale()} is out of the supported range", x)
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_logistic_s8({ctx.buf(x)}, {ctx.buf(y)}, {x.size}, {x.scalar_zp()}, "
             f"{radius}, {mult}, {shift});")
