"""ADD of two int8 tensors (TFLM int8 scheme, left_shift = 20), with broadcasting
over up to 4 dims; either input may be a constant."""
from __future__ import annotations

import numpy as np

from .. import access, quant
from . import register
from .base import OpContext

LEFT_SHIFT = 20
# From this many elements on, a same-shape ADD rescales each input through a table of
# its 256 possible values, baked at compile time (2 x 1 KB of flash): exactly TFLM's
# per-element arithmetic, minus two of the three multiplies per element.
LUT_MIN_ELEMENTS = 1024


def input_table(offset: int, mult: int, shift: int) -> np.ndarray:
    """tm_k_add's rescaled input for every int8 value v: index v + 128."""
    return np.array([quant.mul_by_qm_lt1((offset + v) << LEFT_SHIFT, mult, shift)
                     for v in range(-128, 128)], np.int32)


def _bcast(ctx: OpContext, a, b, y) -> tuple[list[int], list[int], list[int]] | None:
    """(dims, a_strides, b_strides) padded to rank 4, or None if shapes are equal."""
    if tuple(a.shape) == tuple(b.shape) == tuple(y.shape):
        return None
    rank = max(len(a.shape), len(b.shape), len(y.shape))
    pad = lambda s: [1] * (rank - len(s)) + list(s)  # noqa: E731
    sa, sb, so = pad(a.shape), pad(b.shape), pad(y.shape)
    for da, db, do in zip(sa, sb, so):
        if not ((da in (1, do)) and (db in (1, do)) and do == max(da, db)):
            ctx.unsupported(f"cannot broadcast {list(a.shape)} + {list(b.shape)} to {list(y.shape)}", y)
    while rank > 4 and so[0] == 1:
        sa, sb, so, rank = sa[1:], sb[1:], so[1:], rank - 1
    if rank > 4:
        ctx.unsupported("broadcasting ADD over more than 4 dims is not supported", y)
    sa, sb, so = [1] * (4 - rank) + sa, [1] * (4 - rank) + sb, [1] * (4 - rank) + so

    def strides(shape):
        st, acc = [0] * 4, 1
        for d in range(3, -1, -1):
            st[d] = 0 if shape[d] == 1 and so[d] != 1 else acc
            acc *= shape[d]
        return st
    return so, strides(sa), strides(sb)


@register("ADD")
def lower_add(op, ctx: OpContext) -> None:
    a, b = op.inputs[0], op.inputs[1]
    y = op.outputs[0]
    ctx.require_int8(a, b, y)
    sa, sb, so = a.scalar_scale(), b.scalar_scale(), y.scalar_scale()
    twice_max = 2.0 * float(max(sa, sb))            # max of the float32 scales, in double
    try:
        m1, s1 = quant.quantize_multiplier_smaller_than_one(float(sa) / twice_max)
        m2, s2 = quant.quantize_multiplier_smaller_than_one(float(sb) / twice_max)
        mo, so_ = quant.quantize_multiplier_smaller_than_one(
            twice_max / ((1 << LEFT_SHIFT) * float(so)))
    except ValueError as e:      # e.g. an output range that collapsed (RELU6 of a negative sum)
        ctx.unsupported(f"output scale {float(so):.3g} is too small for the input scales "
                        f"{float(sa):.3g} and {float(sb):.3g} ({e}); TFLM's int8 ADD cannot "
                        "run it either", y)
    act_min, act_max = ctx.activation_range(op.options.get("fused_activation", "NONE"), y)
    fields = {
        "size": y.size, "in1_offset": -a.scalar_zp(), "in2_offset": -b.scalar_zp(),
        "left_shift": LEFT_SHIFT, "in1_mult": m1, "in1_shift": s1, "in2_mult": m2,
        "in2_shift": s2, "out_mult": mo, "out_shift": so_, "out_zp": y.scalar_zp(),
        "act_min": act_min, "act_max": act_max}
    bc = _bcast(ctx, a, b, y)
    if bc is not None:
        fields.update(dims=bc[0], a_strides=bc[1], b_strides=bc[2])
    fn = "tm_k_add" if bc is None else "tm_k_add_bcast"
    if bc is None and y.size >= LUT_MIN_ELEMENTS:
        fn = "tm_k_add_lut"
        fields.update(lut1=ctx.const_array("lut1", input_table(-a.scalar_zp(), m1, s1)),
                      lut2=ctx.const_array("lut2", input_table(-b.scalar_zp(), m2, s2)))
    p = ctx.params("tm_add_params_t", fields)
    ptr = [ctx.const_array(f"in{i}", t.data) if t.is_const else ctx.buf(t)
           for i, t in enumerate((a, b))]
    ctx.include("tm_k_add.h")
    ctx.call(f"{fn}(&{p}, {ptr[0]}, {ptr[1]}, {ctx.buf(y)});")
    # Elementwise: out[i] is written after the inputs' element i is read, so the output
    # may share a full-size input's buffer (in place).
    for i, t in enumerate((a, b)):
        if not t.is_const and t.size == y.size:
            ctx.overlap(0, i, access.elementwise(y.size))
