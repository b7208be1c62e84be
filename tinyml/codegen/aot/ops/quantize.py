"""QUANTIZE (float32 -> int8 at a model's input, int8 -> int8 requantize) and
DEQUANTIZE (int8 -> float32 at a model's output) lowerings.

TFLM: float -> int8 is AffineQuantize (float32 division, std::round, + zero
point, clamp); int8 -> int8 is Requantize with QuantizeMultiplier(in/out
scale); DEQUANTIZE is scale * (q - zero_point).
"""
from __future__ import annotations

import numpy as np

from ...carray import c_float
from .. import quant
from . import register
from .base import OpContext


@register("QUANTIZE")
def lower_quantize(op, ctx: OpContext) -> None:
    x, y = op.inputs[0], op.outputs[0]
    if y.dtype != "int8" or y.scale.size != 1:
        ctx.unsupported(f"QUANTIZE to {y.dtype} (only per-tensor int8 is supported)", y)
    ctx.include("tm_k_misc.h")
    if x.dtype == "float32":
        ctx.call(f"tm_k_quantize_f32_s8({ctx.buf(x)}, {ctx.buf(y)}, {x.size}, "
                 f"{c_float(y.scalar_scale())}, {y.scalar_zp()});")
    elif x.dtype == "int8":
        ctx.require_int8(x)
        m, s = quant.quantize_multiplier(
            float(np.float32(x.scalar_scale())) / float(np.float32(y.scalar_scale())))
        ctx.call(f"tm_k_requantize_s8({ctx.buf(x)}, {ctx.buf(y)}, {x.size}, {x.scalar_zp()}, "
                 f"{y.scalar_zp()}, {m}, {s});")
    else:
        ctx.unsupported(f"QUANTIZE from {x.dtype} (only float32 and int8 are supported)", x)


@register("DEQUANTIZE")
def lower_dequantize(op, ctx: OpContext) -> None:
    x, y = op.inputs[0], op.outputs[0]
    if x.dtype != "int8" or y.dtype != "float32" or x.scale.size != 1:
        ctx.unsupported(f"DEQUANTIZE {x.dtype} -> {y.dtype} (only per-tensor int8 -> float32 "
                        "is supported)", x)
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_dequantize_s8_f32({ctx.buf(x)}, {ctx.buf(y)}, {x.size}, "
             f"{c_float(x.scalar_scale())}, {x.scalar_zp()});")
