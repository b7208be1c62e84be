"""ADD and SUB of two int8 tensors (TFLM int8 scheme, left_shift = 20), with
broadcasting over up to 4 dims; either input may be a constant.

SUB is ADD with the second rescaled input subtracted (TFLM's SubElementwise); its
Prepare computes the multipliers in float32 where ADD's uses double."""
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
# From this many elements on, the compiler looks for an integer linear form
# (tm_k_add_lin, about a third of the table kernel's instructions) and proves it
# against TFLM's arithmetic on all input pairs; below, the search costs more than it saves.
LIN_MIN_ELEMENTS = 256


def input_table(offset: int, mult: int, shift: int) -> np.ndarray:
    """tm_k_add's rescaled input for every int8 value v: index v + 128."""
    return np.array([quant.mul_by_qm_lt1((offset + v) << LEFT_SHIFT, mult, shift)
                     for v in range(-128, 128)], np.int32)


def _mul_by_qm_lt1(x: np.ndarray, m: int, shift: int) -> np.ndarray:
    """quant.mul_by_qm_lt1 over an int64 array (no INT32_MIN * INT32_MIN case: m > 0)."""
    q = (x * m + (1 << 30)) >> 31
    e = -shift
    mask = (1 << e) - 1
    return (q >> e) + ((q & mask) > (mask >> 1) + (q < 0))


def exact_outputs(za: int, zb: int, m1: int, s1: int, m2: int, s2: int, mo: int, so: int,
                  zo: int, lo: int, hi: int, sign: int = 1) -> np.ndarray:
    """TFLM's int8 ADD (sign 1) or SUB (sign -1) for every input pair:
    [a + 128, b + 128] -> output."""
    v = np.arange(-128, 128, dtype=np.int64)
    t1 = _mul_by_qm_lt1((v - za) << LEFT_SHIFT, m1, s1)
    t2 = sign * _mul_by_qm_lt1((v - zb) << LEFT_SHIFT, m2, s2)
    return np.clip(_mul_by_qm_lt1(t1[:, None] + t2[None, :], mo, so) + zo, lo, hi)


def linear_form(ref: np.ndarray, real_a: float, real_b: float, lo: int, hi: int
                ) -> tuple[int, int, int, int] | None:
    """(ka, kb, kc, shift) with clamp((ka*a + kb*b + kc) >> shift, lo, hi) == ref for all
    256 x 256 int8 pairs and no int32 overflow on the way, or None.

    ka, kb are 2^shift times the real rescales real_a, real_b (input over output scale),
    give or take one; for each, the constants kc that reproduce every pair form an
    interval, computed directly: a pair with an unclamped result r needs
    r * 2^shift <= lin + kc < (r + 1) * 2^shift, a pair clamped at lo or hi needs only
    the bound on its side. The smallest shift with a non-empty interval wins."""
    v = np.arange(-128, 128, dtype=np.int64)
    inner, at_lo, at_hi = (ref > lo) & (ref < hi), ref == lo, ref == hi
    for shift in range(6, 25):
        one = 1 << shift
        for ka in sorted({round(one * real_a) + d for d in (0, -1, 1)}):
            for kb in sorted({round(one * real_b) + d for d in (0, -1, 1)}):
                lin = ka * v[:, None] + kb * v[None, :]
                lows = [ref[inner] * one - lin[inner], hi * one - lin[at_hi]]
                highs = [(ref[inner] + 1) * one - 1 - lin[inner], (lo + 1) * one - 1 - lin[at_lo]]
                c_lo = max((int(x.max()) for x in lows if x.size), default=None)
                c_hi = min((int(x.min()) for x in highs if x.size), default=None)
                kc = c_lo if c_lo is not None else c_hi
                if kc is None or (c_hi is not None and kc > c_hi):
                    continue
                # no int32 overflow whatever order the C compiler sums the terms in
                if 128 * (abs(ka) + abs(kb)) + abs(kc) >= 1 << 31:
                    continue
                got = np.clip((lin + kc) >> shift, lo, hi)
                if np.array_equal(got, ref):      # holds by construction; checked anyway
                    return ka, kb, kc, shift
    return None


def input_multipliers(sa: float, sb: float) -> tuple[float, int, int, int, int]:
    """(twice the larger scale, in1 mult, shift, in2 mult, shift): both inputs brought to
    half the larger scale, in double (TFLM's ADD and SQUARED_DIFFERENCE Prepare);
    ValueError where a multiplier does not fit."""
    twice_max = 2.0 * float(max(sa, sb))            # max of the float32 scales, in double
    m1, s1 = quant.quantize_multiplier_smaller_than_one(float(sa) / twice_max)
    m2, s2 = quant.quantize_multiplier_smaller_than_one(float(sb) / twice_max)
    return twice_max, m1, s1, m2, s2


def multipliers(sa: float, sb: float, so: float) -> tuple[int, int, int, int, int, int]:
    """TFLM's (in1 mult, shift, in2 mult, shift, out mult, shift) for scales of float32
    values; ValueError where a multiplier does not fit."""
    twice_max, m1, s1, m2, s2 = input_multipliers(sa, sb)
    mo, so_ = quant.quantize_multiplier_smaller_than_one(twice_max / ((1 << LEFT_SHIFT) * float(so)))
    return m1, s1, m2, s2, mo, so_


def sub_multipliers(sa: float, sb: float, so: float) -> tuple[int, int, int, int, int, int]:
    """TFLM SUB's multipliers: the same formulas as ADD's, in float32 arithmetic."""
    f = np.float32
    twice_max = f(2) * max(f(sa), f(sb))
    m1, s1 = quant.quantize_multiplier_smaller_than_one(float(f(sa) / twice_max))
    m2, s2 = quant.quantize_multiplier_smaller_than_one(float(f(sb) / twice_max))
    mo, so_ = quant.quantize_multiplier_smaller_than_one(
        float(twice_max / (f(1 << LEFT_SHIFT) * f(so))))
    return m1, s1, m2, s2, mo, so_


def add_linear_form(a, b, y, act_min: int, act_max: int, sign: int = 1
                    ) -> tuple[int, int, int, int] | None:
    """linear_form of the int8 ADD a + b -> y (sign -1: SUB a - b), or None (also where
    TFLM's multipliers do not fit: the plain lowering then reports it)."""
    sa, sb, so = a.scalar_scale(), b.scalar_scale(), y.scalar_scale()
    try:
        m = (multipliers if sign > 0 else sub_multipliers)(sa, sb, so)
    except ValueError:
        return None
    ref = exact_outputs(a.scalar_zp(), b.scalar_zp(), *m, y.scalar_zp(), act_min, act_max, sign)
    return linear_form(ref, float(sa) / float(so), sign * float(sb) / float(so), act_min, act_max)


def broadcast_strides(ctx: OpContext, a, b, y) -> tuple[list[int], list[int], list[int]] | None:
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
        ctx.unsupported(f"broadcasting {ctx.op.builtin} over more than 4 dims is not supported", y)
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
    _lower_add_sub(op, ctx, 1)


@register("SUB")
def lower_sub(op, ctx: OpContext) -> None:
    _lower_add_sub(op, ctx, -1)


def _lower_add_sub(op, ctx: OpContext, sign: int) -> None:
    a, b = op.inputs[0], op.inputs[1]
    y = op.outputs[0]
    ctx.require_int8(a, b, y)
    sa, sb, so = a.scalar_scale(), b.scalar_scale(), y.scalar_scale()
    try:
        m1, s1, m2, s2, mo, so_ = (multipliers if sign > 0 else sub_multipliers)(sa, sb, so)
    except ValueError as e:      # e.g. an output range that collapsed (RELU6 of a negative sum)
        ctx.unsupported(f"output scale {float(so):.3g} is too small for the input scales "
                        f"{float(sa):.3g} and {float(sb):.3g} ({e}); TFLM's int8 "
                        f"{op.builtin} cannot run it either", y)
    act_min, act_max = ctx.activation_range(op.options.get("fused_activation", "NONE"), y)
    fields = {
        "size": y.size, "in1_offset": -a.scalar_zp(), "in2_offset": -b.scalar_zp(),
        "left_shift": LEFT_SHIFT, "in1_mult": m1, "in1_shift": s1, "in2_mult": m2,
        "in2_shift": s2, "in2_sign": sign, "out_mult": mo, "out_shift": so_, "out_zp": y.scalar_zp(),
        "act_min": act_min, "act_max": act_max}
    bc = broadcast_strides(ctx, a, b, y)
    if bc is not None:
        fields.update(dims=bc[0], a_strides=bc[1], b_strides=bc[2])
    fn = "tm_k_add" if bc is None else "tm_k_add_bcast"
    lin = None
    if bc is None and y.size >= LIN_MIN_ELEMENTS:
        lin = add_linear_form(a, b, y, act_min, act_max, sign)
    if lin is not None:
        fn = "tm_k_add_lin"
        fields.update(lin_a=lin[0], lin_b=lin[1], lin_c=lin[2], lin_shift=lin[3])
    elif bc is None and y.size >= LUT_MIN_ELEMENTS:
        fn = "tm_k_add_lut"
        fields.update(lut1=ctx.const_array("lut1", input_table(-a.scalar_zp(), m1, s1)),
                      lut2=ctx.const_array("lut2", sign * input_table(-b.scalar_zp(), m2, s2)))
    emit_two_input(ctx, fn, "tm_add_params_t", fields, "tm_k_add.h")


def emit_two_input(ctx: OpContext, fn: str, ctype: str, fields: dict, header: str) -> None:
    """`fn(&params, a, b, out)` for an elementwise op of two inputs (a constant input
    becomes a flash array). out[i] is written after the inputs' element i is read, so
    the output may share a full-size input's buffer (in place)."""
    (a, b), y = ctx.op.inputs[:2], ctx.op.outputs[0]
    p = ctx.params(ctype, fields)
    ptr = [ctx.const_array(f"in{i}", t.data) if t.is_const else ctx.buf(t)
           for i, t in enumerate((a, b))]
    ctx.include(header)
    ctx.call(f"{fn}(&{p}, {ptr[0]}, {ptr[1]}, {ctx.buf(y)});")
    for i, t in enumerate((a, b)):
        if not t.is_const and t.size == y.size:
            ctx.overlap(0, i, access.elementwise(y.size))
