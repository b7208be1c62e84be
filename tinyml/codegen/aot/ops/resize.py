"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR, int8 NHWC. Neither requantizes: TFLM
writes the input's quantized values (nearest: copies; bilinear: ResizeBilinearInteger,
10-bit fixed-point source positions).

The compiler computes each output row's and column's source offsets (and, bilinear,
fraction) once, as TFLM does per element, and refuses a geometry whose source index
would leave the input or whose bilinear weighted sum could pass int32 (the kernel
sums in int32)."""
from __future__ import annotations

import numpy as np

from . import register
from .base import OpContext
from .movement import _check, _const_ints


def _trunc_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def scale_10(in_size: int, out_size: int, align: bool) -> int:
    """TFLM's source step per output pixel, in 1/1024 of an input pixel."""
    if align and out_size > 1:
        return ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    return ((1 << 10) * in_size + out_size // 2) // out_size


def interpolation(out_i: int, scale: int, half: bool, in_size: int) -> tuple[int, int, int]:
    """TFLM ComputeInterpolationValuesInteger: (lower index, upper index, fraction)."""
    v = out_i * scale + (scale // 2 - (1 << 9) if half else 0)
    lo = max(_trunc_div(v, 1 << 10), 0)
    hi = min(_trunc_div(v + (1 << 10) - 1, 1 << 10), in_size - 1)
    return lo, hi, v - (1 << 10) * lo


def table(in_size: int, out_size: int, align: bool, half: bool, stride: int,
          ctx: OpContext, y) -> tuple[np.ndarray, int]:
    """[lower offset, upper offset, fraction] per output index, and the largest
    |1024 - f| + |f| (the weight sum that bounds the int32 accumulator)."""
    s = scale_10(in_size, out_size, align)
    rows, worst = [], 0
    for i in range(out_size):
        lo, hi, f = interpolation(i, s, half, in_size)
        if not (0 <= lo < in_size and 0 <= hi < in_size):
            ctx.unsupported(f"output index {i} reads input index {max(lo, hi)} of {in_size}", y)
        rows += [lo * stride, hi * stride, f]
        worst = max(worst, abs(1024 - f) + abs(f))
    return np.asarray(rows, np.int32), worst


def _geometry(op, ctx: OpContext):
    """(input, output, [out_h, out_w], align_corners, half_pixel_centers, (h, w, c))."""
    x, y = op.inputs[0], op.outputs[0]
    _check(ctx, x, [y])
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        ctx.unsupported(f"{op.builtin} of {list(x.shape)} to {list(y.shape)} "
                        "(NHWC, same batch and depth)", y)
    size = _const_ints(ctx, op.inputs[1], "size")
    if size != [int(y.shape[1]), int(y.shape[2])]:
        ctx.unsupported(f"size {size} does not match the output {list(y.shape)}", y)
    align = bool(op.options.get("align_corners", False))
    half = bool(op.options.get("half_pixel_centers", False))
    _, h, w, c = (int(d) for d in x.shape)
    return x, y, size, align, half, (h, w, c)


def _call(ctx: OpContext, fn: str, x, y, size, hwc, rows: np.ndarray, cols: np.ndarray) -> None:
    h, w, c = hwc
    r = ctx.const_array("rows", np.asarray(rows, np.int32))
    cl = ctx.const_array("cols", np.asarray(cols, np.int32))
    ctx.include("tm_k_misc.h")
    ctx.call(f"{fn}({ctx.buf(x)}, {ctx.buf(y)}, {int(x.shape[0])}, "
             f"{h * w * c}, {size[0]}, {size[1]}, {c}, {r}, {cl});")


def nearest_index(out_i: int, in_size: int, out_size: int, align: bool, half: bool) -> int:
    """TFLM GetNearestNeighbor, in float32 as TFLM computes it."""
    f = np.float32
    scale = f(in_size - 1) / f(out_size - 1) if align and out_size > 1 else f(in_size) / f(out_size)
    v = (f(out_i) + f(0.5 if half else 0.0)) * scale
    r = int(np.sign(v) * np.floor(np.abs(v) + f(0.5))) if align else int(np.floor(v))
    r = min(r, in_size - 1)
    return max(0, r) if half else r


@register("RESIZE_NEAREST_NEIGHBOR")
def lower_resize_nearest(op, ctx: OpContext) -> None:
    x, y, size, align, half, (h, w, c) = _geometry(op, ctx)
    rows = [nearest_index(i, h, size[0], align, half) * w * c for i in range(size[0])]
    cols = [nearest_index(i, w, size[1], align, half) * c for i in range(size[1])]
    if min(rows + cols) < 0:
        ctx.unsupported("a nearest-neighbour index falls below 0", y)
    _call(ctx, "tm_k_resize_nearest_s8", x, y, size, (h, w, c), rows, cols)


@register("RESIZE_BILINEAR")
def lower_resize_bilinear(op, ctx: OpContext) -> None:
    x, y, size, align, half, (h, w, c) = _geometry(op, ctx)
    if align and half:
        ctx.unsupported("align_corners and half_pixel_centers are both set (TFLM refuses it)", y)
    rows, wr = table(h, size[0], align, half, w * c, ctx, y)
    cols, wc = table(w, size[1], align, half, c, ctx, y)
    if 128 * wr * wc >= 1 << 31:
        ctx.unsupported(f"interpolation weights up to {wr} x {wc} could overflow the "
                        "int32 sum", y)
    ctx.add_macs(4 * y.size)
    _call(ctx, "tm_k_resize_bilinear_s8", x, y, size, (h, w, c), rows, cols)
