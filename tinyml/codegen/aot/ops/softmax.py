"""SOFTMAX lowering (int8 in, int8 out with scale 1/256, zero point -128).

TFLM runs int8 softmax through reference_ops::Softmax<int8_t, int8_t>: gemmlowp
fixed-point exp on Q5.26 differences, no lookup table. Its Prepare computes
`input_multiplier`/`input_left_shift` with PreprocessSoftmaxScaling and
`diff_min` with CalculateInputRadius; this module does the same in double.
"""
from __future__ import annotations

import math

import numpy as np

from .. import quant
from . import register
from .base import OpContext

SCALED_DIFF_INT_BITS = 5


def input_radius(int_bits: int, left_shift: int, total_bits: int = 31) -> int:
    """TFLM CalculateInputRadius (float path): largest |diff| that cannot overflow."""
    v = 1.0 * ((1 << int_bits) - 1) * float(1 << (total_bits - int_bits)) / math.ldexp(1.0, left_shift)
    return int(math.floor(v))


def softmax_params(input_scale: float, beta: float) -> tuple[int, int, int]:
    """(beta_multiplier, beta_left_shift, diff_min) exactly as TFLM's Prepare."""
    real = min(float(np.float32(beta)) * float(np.float32(input_scale))
               * float(1 << (31 - SCALED_DIFF_INT_BITS)), float((1 << 31) - 1))
    if not real > 1.0:
        raise ValueError(f"softmax multiplier {real} <= 1")
    m, s = quant.quantize_multiplier(real)
    return m, s, -input_radius(SCALED_DIFF_INT_BITS, s)


@register("SOFTMAX")
def lower_softmax(op, ctx: OpContext) -> None:
    x, y = op.inputs[0], op.outputs[0]
    ctx.require_int8(x, y)
    if y.scalar_zp() != -128 or np.float32(y.scalar_scale()) != np.float32(1.0 / 256):
        ctx.unsupported("int8 softmax output must have scale 1/256 and zero point -128 "
                        f"(got {y.scalar_scale()}, {y.scalar_zp()})", y)
    if not x.shape:
        ctx.unsupported("softmax of a scalar", x)
    beta = float(op.options.get("beta", 1.0))
    try:
        mult, shift, diff_min = softmax_params(x.scalar_scale(), beta)
    except ValueError as e:
        ctx.unsupported(f"input scale {x.scalar_scale()} x beta {beta} is too small: {e}", x)
    depth = int(x.shape[-1])
    outer = x.size // depth if depth else 0
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_softmax_s8({ctx.buf(x)}, {ctx.buf(y)}, {outer}, {depth}, "
             f"{mult}, {shift}, {diff_min});")
    ctx.add_macs(2 * x.size)
