"""DEPTHWISE_CONV_2D, int8 with per-channel int8 weights."""
from __future__ import annotations

import functools

import numpy as np

from .. import access, quant
from . import register
from .base import OpContext
from .common import bias_values, fold_bias, weighted_io
from .conv import _geometry, _header_int, _requant


@functools.lru_cache(maxsize=None)
def dw_tap_bytes() -> int:
    """Bytes per tap pointer in tm_k_dwconv's scratch tables, TM_DW_TAP_BYTES (the
    kernel checks sizeof(pointer) <= it at compile time). The tables live in the
    arena, so the depthwise kernel has no tap limit and its RAM is in the plan."""
    return _header_int("tm_k_dwconv.h", "TM_DW_TAP_BYTES")


def dw_scratch_bytes(taps: int, in_c: int) -> int:
    """TM_DW_SCRATCH_BYTES(taps, in_c) of tm_k_dwconv.h: two tap tables + zero-point row."""
    return 2 * taps * dw_tap_bytes() + in_c


def dw3_applies(g: dict, mult: int) -> bool:
    """tm_k_dwconv_3x3's shape rule: 3x3, multiplier 1, no dilation, the same stride
    (1 or 2) both ways and at most one row / column of padding before."""
    return (g["k_h"] == g["k_w"] == 3 and mult == 1 and g["dil_h"] == g["dil_w"] == 1
            and g["stride_h"] == g["stride_w"] and g["stride_h"] in (1, 2)
            and g["pad_h"] <= 1 and g["pad_w"] <= 1)


def dw3_rq_form(mults, shifts, acc_lo, acc_hi, out_zp: int, act: tuple[int, int]) -> int:
    """tm_dwconv3x3_params_t.rq: 2 or 1 (single rounding, tm_dw_rq1; 2 when the clamp is
    the int8 range) when every channel provably gives TFLM's bytes, else 0 (TFLM's two
    roundings). tm_dw_rq1 computes v = srdhm(x, m) + kz - [x < 0] in int32 (kz =
    2^(r-1) + out_zp 2^r), then v >> r; that equals rdpot(srdhm(x, m), r) + out_zp when
    m > 2^30 (srdhm(x, m) < 0 exactly when x < 0), r >= 1, and v does not overflow for
    any accumulator x in [acc_lo, acc_hi] (v is monotonic in x)."""
    for m, sh, lo, hi in zip(mults, shifts, acc_lo, acc_hi):
        r = -int(sh)
        if not (m > (1 << 30) and 1 <= r <= 31):
            return 0
        if lo < -(1 << 31) or hi >= (1 << 31):
            return 0
        kz = (1 << (r - 1)) + int(out_zp) * (1 << r)
        for x in (int(lo), int(hi)):
            v = ((x * int(m) + (1 << 30)) >> 31) + kz - (1 if x < 0 else 0)
            if not -(1 << 31) <= v < (1 << 31):
                return 0
    return 2 if act == (-128, 127) else 1


def lower_depthwise_3x3(op, ctx: OpContext, x, w, y, g: dict, bias: np.ndarray,
                        in_place: bool) -> None:
    """tm_k_dwconv_3x3: per-channel records of int16 weight pairs, folded bias and
    requantization constants (tm_k_dwconv.h)."""
    c = g["out_c"]
    wd = w.data.reshape(3, 3, c).astype(np.int64)                  # [ky][kx][c]
    lo16 = lambda v: v & 0xFFFF                                    # noqa: E731
    w01 = lo16(wd[:, 0]) | (wd[:, 1] << 16)                        # [ky][c]
    w12 = lo16(wd[:, 1]) | (wd[:, 2] << 16)
    mults, shifts = quant.per_channel_multipliers(x.scalar_scale(), w.scale, y.scalar_scale(), c)
    act = ctx.activation_range(op.options.get("fused_activation", "NONE"), y)
    taps = wd.reshape(9, c)
    acc_lo = bias.astype(np.int64) + np.minimum(taps * -128, taps * 127).sum(axis=0)
    acc_hi = bias.astype(np.int64) + np.maximum(taps * -128, taps * 127).sum(axis=0)
    rq = dw3_rq_form(mults, shifts, acc_lo, acc_hi, y.scalar_zp(), act)
    rec = np.zeros((c, 10), np.int64)
    for ky in range(3):
        rec[:, 2 * ky], rec[:, 2 * ky + 1] = w01[ky], w12[ky]
    rec[:, 6] = bias
    rec[:, 7] = mults
    if rq:
        rec[:, 7] = 2 * np.asarray(mults, np.int64) - (1 << 32)    # m2 of tm_dw_rq1
        r = -np.asarray(shifts, np.int64)
        rec[:, 8] = (1 << (r - 1)) + int(y.scalar_zp()) * (1 << r)
        rec[:, 9] = r
    else:
        rec[:, 9] = shifts
    rec = ((rec + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)    # int32 words
    fields = dict(batches=g["batches"], in_h=g["in_h"], in_w=g["in_w"], c=c,
                  out_h=g["out_h"], out_w=g["out_w"], stride=g["stride_h"],
                  pad_h=g["pad_h"], pad_w=g["pad_w"], in_zp=x.scalar_zp(),
                  out_zp=y.scalar_zp(), act_min=act[0], act_max=act[1],
                  chan=ctx.const_array("chan", rec.reshape(-1)), rq=rq,
                  reverse=ctx.direction() if in_place else 0)
    p = ctx.params("tm_dwconv3x3_params_t", fields)
    ctx.include("tm_k_dwconv.h")
    s = ctx.scratch(g["in_w"] * c)      # TM_DW3_SCRATCH_BYTES: the padding row of in_zp
    ctx.call(f"tm_k_dwconv_3x3(&{p}, {ctx.buf(x)}, {ctx.buf(y)}, {s});")
    if in_place:
        ctx.overlap(0, 0, access.dwconv3x3(g, reverse=False), access.dwconv3x3(g, reverse=True))


@register("DEPTHWISE_CONV_2D")
def lower_depthwise(op, ctx: OpContext) -> None:
    x, w, b, y = weighted_io(op, ctx)
    if len(w.shape) != 4 or w.shape[0] != 1:
        ctx.unsupported(f"depthwise filter must be [1, kh, kw, C], got {list(w.shape)}", w)
    _, k_h, k_w, out_c = w.shape
    g = _geometry(op, ctx, x, y, k_h, k_w)
    in_c = g["in_c"]
    if out_c != g["out_c"] or out_c % in_c:
        ctx.unsupported(f"{out_c} output channels is not a multiple of {in_c} inputs", w)
    mult = out_c // in_c
    if int(op.options.get("depth_multiplier", mult) or mult) != mult:
        # TFLM derives the multiplier from the shapes too; a mismatching option is odd.
        ctx.unsupported("depth_multiplier option does not match the shapes", w)
    # Fold -in_zp * sum over all taps into the bias (padding taps read in_zp: adds 0).
    wd = w.data.reshape(k_h * k_w, out_c)
    bias = fold_bias(ctx, bias_values(ctx, b, out_c), wd.T, x.scalar_zp())
    in_place = g["batches"] == 1
    ctx.add_macs(g["batches"] * g["out_h"] * g["out_w"] * out_c * k_h * k_w)
    if dw3_applies(g, mult):
        lower_depthwise_3x3(op, ctx, x, w, y, g, bias, in_place)
        return
    fields = dict(g, depth_mult=mult, in_zp=x.scalar_zp(),
                  filter=ctx.const_array("filter", wd.reshape(-1)),
                  bias=ctx.const_array("bias", bias),
                  reverse=ctx.direction() if in_place else 0)
    fields.update(_requant(ctx, x, w, y, out_c))
    p = ctx.params("tm_dwconv_params_t", fields)
    ctx.include("tm_k_dwconv.h")
    s = ctx.scratch(dw_scratch_bytes(k_h * k_w, in_c))   # tap tables + zero-point row
    ctx.call(f"tm_k_dwconv(&{p}, {ctx.buf(x)}, {ctx.buf(y)}, {s});")
    if in_place:
        ctx.overlap(0, 0, access.dwconv(g, reverse=False), access.dwconv(g, reverse=True))
