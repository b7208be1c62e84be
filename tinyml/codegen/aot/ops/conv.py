"""CONV_2D, int8 with per-channel int8 weights (DEPTHWISE_CONV_2D: ops/depthwise.py,
which shares the geometry and requantization helpers here)."""
from __future__ import annotations

import re

import numpy as np

from .. import access, quant
from . import layout, register
from .base import OpContext
from .common import bias_values, fold_bias, weighted_io


def _header_int(header: str, macro: str) -> int:
    """An integer #define of a kernel header: one constant shared by C and Python."""
    from ..compiler import RUNTIME_DIR
    m = re.search(rf"^#define {macro} (\d+)\b", (RUNTIME_DIR / header).read_text(), re.M)
    if m is None:
        raise RuntimeError(f"{macro} not found in {header}")
    return int(m.group(1))


def out_size(padding: str, n: int, k: int, stride: int, dil: int) -> int:
    eff = (k - 1) * dil + 1
    return (n + stride - 1) // stride if padding == "SAME" else (n + stride - eff) // stride


def pad_before(n: int, k: int, stride: int, dil: int, out: int) -> int:
    """TFLM ComputePaddingWithOffset: top/left padding (the odd pixel goes bottom/right)."""
    eff = (k - 1) * dil + 1
    total = max((out - 1) * stride + eff - n, 0)
    return total // 2


def _geometry(op, ctx: OpContext, x, y, k_h: int, k_w: int) -> dict:
    o = op.options
    if len(x.shape) != 4 or len(y.shape) != 4:
        ctx.unsupported(f"expects 4-D NHWC tensors, got {list(x.shape)}", x)
    pad = o.get("padding", "SAME")
    if pad not in ("SAME", "VALID"):
        ctx.unsupported(f"padding {pad} is not supported", y)
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    dh, dw = int(o.get("dilation_h", 1)), int(o.get("dilation_w", 1))
    if min(sh, sw, dh, dw) < 1:
        ctx.unsupported("stride and dilation must be >= 1", y)
    _, ih, iw, _ = x.shape
    oh, ow = out_size(pad, ih, k_h, sh, dh), out_size(pad, iw, k_w, sw, dw)
    if (y.shape[1], y.shape[2]) != (oh, ow) or y.shape[0] != x.shape[0]:
        ctx.unsupported(f"output shape {list(y.shape)} does not match the computed "
                        f"{[x.shape[0], oh, ow]}", y)
    return dict(batches=x.shape[0], in_h=ih, in_w=iw, in_c=x.shape[3],
                out_h=oh, out_w=ow, out_c=y.shape[3], k_h=k_h, k_w=k_w,
                stride_h=sh, stride_w=sw, dil_h=dh, dil_w=dw,
                pad_h=pad_before(ih, k_h, sh, dh, oh), pad_w=pad_before(iw, k_w, sw, dw, ow))


def _requant(ctx: OpContext, x, w, y, channels: int) -> dict:
    if w.scale.size not in (1, channels):
        ctx.unsupported(f"weights have {w.scale.size} scales for {channels} channels", w)
    mults, shifts = quant.per_channel_multipliers(x.scalar_scale(), w.scale, y.scalar_scale(), channels)
    act_min, act_max = ctx.activation_range(ctx.op.options.get("fused_activation", "NONE"), y)
    return dict(out_zp=y.scalar_zp(), act_min=act_min, act_max=act_max,
                mult=ctx.const_array("mult", np.asarray(mults, np.int32)),
                shift=ctx.const_array("shift", np.asarray(shifts, np.int32)),
                rq_fast=rq_fast(mults, shifts))


def rq_fast(mults, shifts) -> int:
    """1 when every channel allows the single-rounding requantization
    (tm_aot_mul_by_qm_r2: multiplier > 2^30, shift <= -2), else 0."""
    return int(all(m > (1 << 30) and s <= -2 for m, s in zip(mults, shifts)))


@register("CONV_2D")
def lower_conv2d(op, ctx: OpContext) -> None:
    x, w, b, y = weighted_io(op, ctx)
    if len(w.shape) != 4:
        ctx.unsupported(f"filter must be 4-D, got {list(w.shape)}", w)
    out_c, k_h, k_w, w_in_c = w.shape
    if w_in_c != x.shape[-1]:
        ctx.unsupported(f"grouped convolution ({x.shape[-1]} input channels, filter "
                        f"expects {w_in_c}) is not supported", w)
    g = _geometry(op, ctx, x, y, k_h, k_w)
    if out_c != g["out_c"]:
        ctx.unsupported("filter and output channel counts differ", w)
    wd = w.data.reshape(out_c, -1)
    bias = fold_bias(ctx, bias_values(ctx, b, out_c), wd, x.scalar_zp())
    in_place = g["batches"] == 1       # the kernels' access mirrors assume one image
    one_by_one = k_h == 1 and k_w == 1 and g["pad_h"] == 0 and g["pad_w"] == 0
    # filter rows (and im2col rows) padded to a multiple of 4 with zero weights: no
    # scalar tail in the dot products (first layers: 3x3x3 = 27 -> 28), and
    # interleaved in groups of 4 output channels as the kernels' panels read them
    k_stride = layout.quad_pad(wd.shape[1])
    wp = layout.interleave4(wd, k_stride)
    fields = dict(g, in_zp=x.scalar_zp(), filter=ctx.const_array("filter", wp),
                  bias=ctx.const_array("bias", bias),
                  reverse=ctx.direction() if in_place else 0, k_stride=k_stride)
    fields.update(_requant(ctx, x, w, y, out_c))
    p = ctx.params("tm_conv_params_t", fields)
    ctx.include("tm_k_conv.h")
    if one_by_one:
        s = ctx.scratch(4 * k_stride)   # TM_CONV_PANEL_BYTES: the two pixels' panel
        ctx.call(f"tm_k_conv_1x1(&{p}, {ctx.buf(x)}, {ctx.buf(y)}, {s});")
        pattern = access.conv_1x1
    else:
        # TM_CONV_SCRATCH_BYTES: the two pixels' panel (+ their int8 im2col rows
        # when in_c is not a multiple of 4)
        s = ctx.scratch(4 * k_stride + (2 * k_stride if g["in_c"] % 4 else 0))
        ctx.call(f"tm_k_conv(&{p}, {ctx.buf(x)}, {ctx.buf(y)}, {s});")
        pattern = access.conv_im2col
    if in_place:
        ctx.overlap(0, 0, pattern(g, reverse=False), pattern(g, reverse=True))
    ctx.add_macs(g["batches"] * g["out_h"] * g["out_w"] * out_c * k_h * k_w * g["in_c"])
