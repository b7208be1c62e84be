"""int8 data movement: SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, UNPACK, PACK and GATHER
(TRANSPOSE in transpose.py uses the same strided copy, the resizes are in resize.py).

TFLM's reference kernels copy bytes for all of these and never read the output's
quantization; the converter gives input and output the same. Every begin, size,
index and table is a constant the compiler resolves and bounds-checks here, so the
kernels run no range checks and cannot leave their tensors.
"""
from __future__ import annotations

import numpy as np

from . import register
from .base import OpContext
from .concat import emit_concat

MAX_RANK = 6


def _strides(shape) -> list[int]:
    return [int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape))]


def strided_copy(ctx: OpContext, src: str, dst: str, out_shape, in_strides, tag: str = "") -> None:
    """Emit tm_k_strided_copy_s8: out[i...] = src[sum i_d * in_strides[d]] (rank <= 6)."""
    rank = len(out_shape)
    if rank > MAX_RANK:
        ctx.unsupported(f"{ctx.op.builtin} of rank {rank} is not supported (max {MAX_RANK})")
    lead = MAX_RANK - rank
    s = ctx.const_array(f"shape{tag}", np.asarray([1] * lead + [int(d) for d in out_shape], np.int32))
    st = ctx.const_array(f"stride{tag}", np.asarray([0] * lead + [int(v) for v in in_strides], np.int32))
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_strided_copy_s8({src}, {dst}, {s}, {st});")


def _const_ints(ctx: OpContext, t, what: str) -> list[int]:
    if t is None or not t.is_const:
        ctx.unsupported(f"the {what} must be a constant tensor", t)
    return [int(v) for v in np.asarray(t.data).reshape(-1)]


def _box(ctx: OpContext, x, y, begin: list[int], step: list[int], shape: list[int], tag: str = "") -> None:
    """Copy the box of `shape` elements starting at `begin`, `step` apart per axis."""
    for d, (b, st, n) in enumerate(zip(begin, step, shape)):
        last = b + (n - 1) * st
        if n < 1 or not (0 <= b < x.shape[d] and 0 <= last < x.shape[d]):
            ctx.unsupported(f"axis {d}: elements {b} .. {last} lie outside the input's "
                            f"{x.shape[d]}", x)
    strides = _strides(x.shape)
    offset = sum(b * s for b, s in zip(begin, strides))
    if int(np.prod(shape)) != y.size:
        ctx.unsupported(f"{ctx.op.builtin} output {list(y.shape)} does not match the "
                        f"sliced box {shape}", y)
    strided_copy(ctx, f"{ctx.buf(x)} + {offset}", ctx.buf(y), shape,
                 [s * st for s, st in zip(strides, step)], tag)


def _check(ctx: OpContext, x, outs) -> None:
    ctx.require_int8(x, *outs)
    if x.is_const:
        ctx.unsupported(f"{ctx.op.builtin} of a constant tensor is not supported", x)


@register("SLICE")
def lower_slice(op, ctx: OpContext) -> None:
    x, y = op.inputs[0], op.outputs[0]
    _check(ctx, x, [y])
    begin = _const_ints(ctx, op.inputs[1], "begin")
    size = _const_ints(ctx, op.inputs[2], "size")
    if len(begin) != len(x.shape) or len(size) != len(x.shape):
        ctx.unsupported("begin and size must have one value per input axis", x)
    size = [int(x.shape[d]) - b if s == -1 else s for d, (b, s) in enumerate(zip(begin, size))]
    _box(ctx, x, y, begin, [1] * len(begin), size)


def strided_slice_box(shape, begin, end, strides, begin_mask: int, end_mask: int,
                      shrink_mask: int, offset: bool = False):
    """(start, step, count) per axis of TF's StridedSlice (StartForAxis / StopForAxis,
    positive or negative strides), and the output shape with shrunk axes removed."""
    starts, counts, out = [], [], []
    for d, dim in enumerate(shape):
        st = strides[d]
        e = begin[d] + end[d] if offset else end[d]
        lo, hi = (0, dim) if st > 0 else (-1, dim - 1)
        if begin_mask >> d & 1:
            b = 0 if st > 0 else dim - 1
        else:
            b = begin[d] + dim if begin[d] < 0 else begin[d]
            b = min(max(b, lo), hi)
        if shrink_mask >> d & 1:
            e = b + 1 if st > 0 else b - 1
        elif end_mask >> d & 1:
            e = dim if st > 0 else -1
        else:
            e = e + dim if e < 0 else e
            e = min(max(e, lo), hi)
        n = max(0, -(-(e - b) // st))
        starts.append(b)
        counts.append(n)
        if not shrink_mask >> d & 1:
            out.append(n)
    return starts, counts, out


@register("STRIDED_SLICE")
def lower_strided_slice(op, ctx: OpContext) -> None:
    x, y = op.inputs[0], op.outputs[0]
    _check(ctx, x, [y])
    o = op.options
    if o.get("ellipsis_mask", 0) or o.get("new_axis_mask", 0):
        ctx.unsupported("STRIDED_SLICE with an ellipsis or new-axis mask is not supported", y)
    begin, end, strides = (_const_ints(ctx, op.inputs[i], w)
                           for i, w in ((1, "begin"), (2, "end"), (3, "strides")))
    rank = len(x.shape)
    if not len(begin) == len(end) == len(strides) == rank or 0 in strides:
        ctx.unsupported("begin, end and strides must have one value per input axis, "
                        "strides non-zero", x)
    starts, counts, out = strided_slice_box(
        [int(d) for d in x.shape], begin, end, strides, o.get("begin_mask", 0),
        o.get("end_mask", 0), o.get("shrink_axis_mask", 0), bool(o.get("offset", False)))
    if out != [int(d) for d in y.shape] and not (out == [] and y.size == 1):
        ctx.unsupported(f"STRIDED_SLICE output {list(y.shape)} does not match the slice "
                        f"{out}", y)
    _box(ctx, x, y, starts, strides, counts)


def _split(op, ctx: OpContext, x, axis: int, sizes: list[int]) -> None:
    _check(ctx, x, op.outputs)
    rank = len(x.shape)
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank or sum(sizes) != x.shape[axis] or len(sizes) != len(op.outputs):
        ctx.unsupported(f"cannot split axis {axis} of {list(x.shape)} into {sizes}", x)
    at = 0
    for k, (y, n) in enumerate(zip(op.outputs, sizes)):
        begin = [at if d == axis else 0 for d in range(rank)]
        shape = [n if d == axis else int(x.shape[d]) for d in range(rank)]
        _box(ctx, x, y, begin, [1] * rank, shape, tag=str(k))
        at += n


@register("SPLIT")
def lower_split(op, ctx: OpContext) -> None:
    axis, x = _const_ints(ctx, op.inputs[0], "axis")[0], op.inputs[1]
    n = len(op.outputs)
    dim = int(x.shape[axis])
    if dim % n:
        ctx.unsupported(f"SPLIT of {dim} into {n} equal parts", x)
    _split(op, ctx, x, axis, [dim // n] * n)


@register("SPLIT_V")
def lower_split_v(op, ctx: OpContext) -> None:
    x = op.inputs[0]
    sizes = _const_ints(ctx, op.inputs[1], "size_splits")
    axis = _const_ints(ctx, op.inputs[2], "axis")[0]
    dim = int(x.shape[axis])
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = dim - (sum(sizes) + 1)
    _split(op, ctx, x, axis, sizes)


@register("UNPACK")
def lower_unpack(op, ctx: OpContext) -> None:
    x = op.inputs[0]
    _check(ctx, x, op.outputs)
    rank = len(x.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank or int(x.shape[axis]) != len(op.outputs):
        ctx.unsupported(f"UNPACK axis {axis} of {list(x.shape)} into {len(op.outputs)}", x)
    for k, y in enumerate(op.outputs):
        begin = [k if d == axis else 0 for d in range(rank)]
        shape = [1 if d == axis else int(x.shape[d]) for d in range(rank)]
        _box(ctx, x, y, begin, [1] * rank, shape, tag=str(k))


@register("PACK")
def lower_pack(op, ctx: OpContext) -> None:
    y = op.outputs[0]
    ins = [t for t in op.inputs if t is not None]
    ctx.require_int8(*ins, y)
    rank = len(y.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank or int(y.shape[axis]) != len(ins) or len(ins) > 10:
        ctx.unsupported(f"PACK of {len(ins)} inputs on axis {axis} into {list(y.shape)}", y)
    for t in ins:
        if t.size * len(ins) != y.size:
            ctx.unsupported(f"input {list(t.shape)} does not fit output {list(y.shape)}", t)
    emit_concat(ctx, ins, y, axis, [1] * len(ins))


@register("GATHER")
def lower_gather(op, ctx: OpContext) -> None:
    x, y = op.inputs[0], op.outputs[0]
    _check(ctx, x, [y])
    idx = _const_ints(ctx, op.inputs[1], "indices")
    if int(op.options.get("batch_dims", 0)) != 0:
        ctx.unsupported("GATHER with batch_dims is not supported", y)
    rank = len(x.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    dim = int(x.shape[axis]) if 0 <= axis < rank else 0
    bad = [i for i in idx if not 0 <= i < dim]
    if not 0 <= axis < rank or bad or not idx:
        ctx.unsupported(f"GATHER indices {bad[:4] or idx[:4]} on axis {axis} of "
                        f"{list(x.shape)}", op.inputs[1])
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    if outer * len(idx) * inner != y.size:
        ctx.unsupported(f"GATHER output {list(y.shape)} does not match {len(idx)} indices", y)
    table = ctx.const_array("index", np.asarray(idx, np.int32))
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_gather_s8({ctx.buf(x)}, {ctx.buf(y)}, {outer}, {dim}, {inner}, "
             f"{table}, {len(idx)});")
