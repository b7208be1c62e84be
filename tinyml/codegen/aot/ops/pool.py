"""AVERAGE_POOL_2D / MAX_POOL_2D lowerings (int8 NHWC).

TFLM (reference_integer_ops) requires the output to share the input's
quantization, averages only the window elements inside the input (SAME
padding), rounds half away from zero and clamps to the fused activation.
"""
from __future__ import annotations

from . import register
from .base import OpContext


def pool_padding(in_size: int, out_size: int, filt: int, stride: int) -> int:
    """TFLM ComputePaddingHeightWidth: leading (top/left) padding of one axis."""
    total = (out_size - 1) * stride + filt - in_size
    return max(total, 0) // 2


def _lower_pool(op, ctx: OpContext, kernel: str) -> None:
    x, y = op.inputs[0], op.outputs[0]
    ctx.require_int8(x, y)
    if len(x.shape) != 4 or len(y.shape) != 4:
        ctx.unsupported(f"pooling needs 4-D NHWC tensors (got {list(x.shape)})", x)
    if abs(x.scalar_scale() - y.scalar_scale()) > 1e-6 or x.scalar_zp() != y.scalar_zp():
        ctx.unsupported("pooling input and output quantization differ "
                        "(TFLM requires them equal)", y)
    o = op.options
    act = o.get("fused_activation", "NONE")
    act_min, act_max = ctx.activation_range(act, y)
    n, ih, iw, c = x.shape
    _, oh, ow, _ = y.shape
    fh, fw = int(o["filter_height"]), int(o["filter_width"])
    sh, sw = int(o["stride_h"]), int(o["stride_w"])
    if min(fh, fw, sh, sw) < 1:
        ctx.unsupported(f"bad pooling window {fh}x{fw} stride {sh}x{sw}", x)
    p = ctx.params("tm_pool_params_t", {
        "batches": n, "in_h": ih, "in_w": iw, "channels": c,
        "out_h": oh, "out_w": ow, "filter_h": fh, "filter_w": fw,
        "stride_h": sh, "stride_w": sw,
        "pad_h": pool_padding(ih, oh, fh, sh), "pad_w": pool_padding(iw, ow, fw, sw),
        "act_min": act_min, "act_max": act_max})
    ctx.include("tm_k_misc.h")
    ctx.call(f"{kernel}(&{p}, {ctx.buf(x)}, {ctx.buf(y)});")
    ctx.add_macs(y.size * fh * fw)


@register("AVERAGE_POOL_2D")
def lower_avg_pool(op, ctx: OpContext) -> None:
    _lower_pool(op, ctx, "tm_k_avg_pool_s8")


@register("MAX_POOL_2D")
def lower_max_pool(op, ctx: OpContext) -> None:
    _lower_pool(op, ctx, "tm_k_max_pool_s8")
