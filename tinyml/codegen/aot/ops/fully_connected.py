"""FULLY_CONNECTED, int8 x int8 -> int8, per-tensor or per-channel weights."""
from __future__ import annotations

import numpy as np

from .. import quant
from . import layout, register
from .base import OpContext
from .common import bias_values, fold_bias, rq_records, weighted_io
from .conv import rq_fast


@register("FULLY_CONNECTED")
def lower_fully_connected(op, ctx: OpContext) -> None:
    """tm_k_fc_pan: each input row expanded once into a panel in scratch (2 bytes per
    input feature); the compiler falls back to lower_fc_in_place where that scratch
    would raise the arena's peak (ops.LOW_RAM)."""
    _lower_fc(op, ctx, panel=True)


def lower_fc_in_place(op, ctx: OpContext) -> None:
    """tm_k_fc: the input read in place, no scratch."""
    _lower_fc(op, ctx, panel=False)


def fc_in_place_scratch(op) -> int:
    return 0


def _lower_fc(op, ctx: OpContext, panel: bool) -> None:
    x, w, b, y = weighted_io(op, ctx)
    if op.options.get("weights_format", 0) != 0:
        ctx.unsupported("shuffled weights format is not supported", w)
    if len(w.shape) != 2:
        ctx.unsupported(f"weights must be 2-D, got {list(w.shape)}", w)
    out_f, in_f = w.shape
    if x.size % in_f or y.size % out_f or x.size // in_f != y.size // out_f:
        ctx.unsupported(f"input {list(x.shape)} does not match weights {list(w.shape)}", x)
    batches = x.size // in_f
    act_min, act_max = ctx.activation_range(op.options.get("fused_activation", "NONE"), y)

    in_s, out_s = x.scalar_scale(), y.scalar_scale()
    if w.scale.size > 1:
        mults, shifts = quant.per_channel_multipliers(in_s, w.scale, out_s, out_f)
        per_channel = 1
    else:
        m, s = quant.tensor_multiplier(in_s, float(w.scale[0]), out_s)
        mults, shifts, per_channel = [m], [s], 0

    wd = w.data.reshape(out_f, in_f)
    k_pad = layout.quad_pad(in_f)
    bias = fold_bias(ctx, bias_values(ctx, b, out_f), wd, x.scalar_zp())
    fast = rq_fast(mults, shifts)
    fields = {
        "batches": batches, "in_features": in_f, "out_features": out_f,
        # rows padded to a multiple of 4, 4 output features interleaved (layout.py)
        "filter": ctx.const_array("filter", layout.interleave4(wd, k_pad)),
        "per_channel": per_channel,
        "out_zp": y.scalar_zp(), "act_min": act_min, "act_max": act_max,
        "rq_fast": fast,
    }
    if fast:       # one record per output feature; the kernel reads nothing else
        fields.update(rqc=ctx.const_array("rqc", rq_records(bias, mults, shifts)),
                      bias="NULL", mult="NULL", shift="NULL")
    else:
        fields.update(rqc="NULL", bias=ctx.const_array("bias", bias),
                      mult=ctx.const_array("mult", np.asarray(mults, np.int32)),
                      shift=ctx.const_array("shift", np.asarray(shifts, np.int32)))
    p = ctx.params("tm_fc_params_t", fields)
    ctx.include("tm_k_fc.h")
    if panel:
        s = ctx.scratch(2 * k_pad)             # TM_FC_PANEL_BYTES(in_f)
        ctx.call(f"tm_k_fc_pan(&{p}, {ctx.buf(x)}, {ctx.buf(y)}, {s});")
    else:
        ctx.call(f"tm_k_fc(&{p}, {ctx.buf(x)}, {ctx.buf(y)});")
    ctx.add_macs(batches * in_f * out_f)
