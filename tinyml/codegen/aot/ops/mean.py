"""MEAN lowering (int8, any set of contiguous axes, keep_dims either way).

TFLM's int8 MEAN is reference_ops::QuantizedMeanOrSum: int32 sum, minus
zero_point * count, times the in/out scale ratio with 1/count folded into the
multiplier (integer division of the multiplier, shift reduced by
floor(log2(count))), plus the output zero point.
"""
from __future__ import annotations

import numpy as np

from .. import quant
from . import register
from .base import OpContext


def mean_params(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """(multiplier, shift) with 1/count folded in, exactly as QuantizedMeanOrSum."""
    real = float(np.float32(input_scale)) / float(np.float32(output_scale))
    m, s = quant.quantize_multiplier(real)
    shift = min(count.bit_length() - 1, 32, 31 + s)
    m = (m << shift) // count if shift >= 0 else m
    return int(m), int(s - shift)


def resolve_axes(axes, rank: int) -> list[int]:
    out: list[int] = []
    for a in axes:
        a = int(a) + rank if int(a) < 0 else int(a)
        if a not in out:
            out.append(a)
    return sorted(out)


@register("MEAN")
def lower_mean(op, ctx: OpContext) -> None:
    x, ax, y = op.inputs[0], op.inputs[1], op.outputs[0]
    ctx.require_int8(x, y)
    if ax is None or not ax.is_const:
        ctx.unsupported("MEAN needs a constant axis tensor", ax)
    rank = len(x.shape)
    axes = resolve_axes(np.asarray(ax.data).reshape(-1), rank)
    if not axes or any(not 0 <= a < rank for a in axes):
        ctx.unsupported(f"bad MEAN axes {list(np.asarray(ax.data).reshape(-1))}", x)
    if axes != list(range(axes[0], axes[-1] + 1)):
        ctx.unsupported(f"MEAN over non-contiguous axes {axes} is not supported", x)
    outer = int(np.prod(x.shape[:axes[0]], dtype=np.int64))
    reduce = int(np.prod(x.shape[axes[0]:axes[-1] + 1], dtype=np.int64))
    inner = int(np.prod(x.shape[axes[-1] + 1:], dtype=np.int64))
    if reduce == 0 or outer * inner != y.size:
        ctx.unsupported(f"MEAN shapes {list(x.shape)} -> {list(y.shape)} do not match", y)
    mult, shift = mean_params(x.scalar_scale(), y.scalar_scale(), reduce)
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_mean_s8({ctx.buf(x)}, {ctx.buf(y)}, {outer}, {reduce}, {inner}, "
             f"{x.scalar_zp()}, {y.scalar_zp()}, {mult}, {shift});")
    ctx.add_macs(x.size)
