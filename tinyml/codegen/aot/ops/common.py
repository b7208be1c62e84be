"""Helpers shared by the MAC-heavy lowerings (conv, depthwise, FC)."""
from __future__ import annotations

import numpy as np

from .base import OpContext


def bias_values(ctx: OpContext, bias, channels: int) -> np.ndarray:
    """Bias as int64 array of `channels` (zeros if the op has no bias)."""
    if bias is None:
        return np.zeros(channels, np.int64)
    if bias.dtype != "int32" or bias.data is None:
        ctx.unsupported(f"bias must be a constant int32 tensor, got {bias.dtype}", bias)
    b = bias.data.astype(np.int64).reshape(-1)
    if b.size != channels:
        ctx.unsupported(f"bias has {b.size} values for {channels} channels", bias)
    return b


def fold_bias(ctx: OpContext, bias: np.ndarray, weights_2d: np.ndarray, input_zp: int) -> np.ndarray:
    """bias + (-input_zp) * sum of each weight row, as int32 (exact; refuses overflow)."""
    folded = bias + (-int(input_zp)) * weights_2d.astype(np.int64).sum(axis=1)
    if folded.min(initial=0) < -(1 << 31) or folded.max(initial=0) >= (1 << 31):
        ctx.unsupported("folded bias overflows int32")
    return folded.astype(np.int32)


def rq_records(bias: np.ndarray, mults, shifts) -> np.ndarray:
    """Per-channel records {bias, m, rm1, half} (int32, flat) for layers whose every
    channel takes the one-rounding requantization (conv.rq_fast): r = -shift, rm1 =
    r - 1, half = 2^(r - 2) (tm_aot_fx.h tm_aot_rq_rec). A single multiplier is
    repeated for every channel."""
    n = bias.size
    m = np.broadcast_to(np.asarray(mults, np.int64), (n,))
    r = -np.broadcast_to(np.asarray(shifts, np.int64), (n,))
    if np.any(r < 2):
        raise ValueError("rq_records needs shift <= -2 on every channel")
    rec = np.stack([bias.astype(np.int64), m, r - 1, np.left_shift(1, r - 2)], axis=1)
    return rec.astype(np.int32).reshape(-1)


def check_symmetric_filter(ctx: OpContext, w) -> None:
    if w.data is None:
        ctx.unsupported("weights must be constant", w)
    if w.dtype != "int8":
        ctx.unsupported(f"weights are {w.dtype}, only int8 is supported", w)
    if w.zero_point.size and np.any(w.zero_point != 0):
        ctx.unsupported("weights must be symmetric (zero point 0)", w)


def weighted_io(op, ctx: OpContext):
    """(input, weights, bias or None, output) of a conv / depthwise / FC op, with
    int8 activations and constant symmetric int8 weights checked."""
    x, w = op.inputs[0], op.inputs[1]
    b = op.inputs[2] if len(op.inputs) > 2 else None
    y = op.outputs[0]
    ctx.require_int8(x, y)
    check_symmetric_filter(ctx, w)
    return x, w, b, y
