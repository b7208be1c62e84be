"""UNIDIRECTIONAL_SEQUENCE_LSTM, TFLM's integer LSTM: int8 input, hidden state,
output and per-tensor weights, int16 gates and cell state, int32 biases.

What TFLM's kernel runs is what this compiles: the standard (Keras) LSTM, with no
peephole, projection, layer norm or coupled input gate; TFLM refuses those models.
The hidden and cell states are variable tensors in the file; TFLM resets them to
the hidden zero point and 0, and the device starts each inference from there (as
the host references do), so they live in the arena only while the op runs.

Compile-time arithmetic mirrors TFLM's Prepare: gate FCs rescale to Q3.12
(2^-12) with float32 scale products, the gates come out in Q0.15 (2^-15), the cell
state's scale is 2^-p, which sets the tanh input shift."""
from __future__ import annotations

import math

import numpy as np

from .. import quant
from . import register
from .base import OpContext
from .common import check_symmetric_filter

NOT_TFLM = ("TFLM's LSTM kernel refuses it too: train a standard Keras LSTM (no peephole, "
            "projection, layer norm or coupled input gate)")
GATE_IN_SCALE = 2.0 ** -12       # FC output: Q3.12
GATE_OUT_SCALE = 2.0 ** -15      # sigmoid / tanh output: Q0.15
# .tflite input indices: input weights, recurrent weights, biases (gate order i, f, c, o)
W_IN, W_REC, BIAS = (1, 2, 3, 4), (5, 6, 7, 8), (12, 13, 14, 15)
PEEPHOLE, PROJECTION, LAYER_NORM = (9, 10, 11), (16, 17), (20, 21, 22, 23)
HIDDEN, CELL = 18, 19


def mul_multiplier(s1: float, s2: float, out: float) -> tuple[int, int]:
    """CreateInterGateMulParams: s1 * s2 / out, in double."""
    return quant.quantize_multiplier(float(np.float32(s1)) * float(np.float32(s2))
                                     / float(np.float32(out)))


def cell_scale_power(scale: float) -> int:
    """TFLM CheckedLog2 (float32): the cell state's scale as 2^power."""
    x = np.float32(scale)
    return int(np.round(np.float32(np.log(x)) * np.float32(1.0 / np.log(np.float32(2.0)))))


def tanh_params(power: int) -> tuple[int, int]:
    """TFLM lstm_internal::Tanh then reference Tanh: effective (multiplier, right shift)."""
    left = 15 + power - 3
    return (3, -left) if left < 0 else (3 << left, 0)


def wrapped_bias(bias: np.ndarray, w: np.ndarray, zp: int) -> np.ndarray:
    """bias - zp * sum(w row) modulo 2^32, as int32: the kernel adds it to the dot
    product with wrapping, so the sum equals TFLM's int32 accumulator (also where the
    folded constant alone would not fit, e.g. a saturated int32 bias)."""
    v = bias.astype(np.int64) - int(zp) * w.astype(np.int64).sum(axis=1)
    return ((v + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def _weights(ctx: OpContext, op, idx: tuple[int, ...], rows: int, cols: int) -> np.ndarray:
    ws = []
    for i in idx:
        w = op.inputs[i]
        check_symmetric_filter(ctx, w)
        if tuple(w.shape) != (rows, cols):
            ctx.unsupported(f"weights #{i} are {list(w.shape)}, expected {[rows, cols]}", w)
        if w.scale.size != 1:
            ctx.unsupported(f"weights #{i} are quantized per channel; TFLM's integer LSTM "
                            "takes one scale per weight tensor", w)
        ws.append(w.data.astype(np.int8))
    return np.stack(ws)


@register("UNIDIRECTIONAL_SEQUENCE_LSTM")
def lower_lstm(op, ctx: OpContext) -> None:
    ins = list(op.inputs) + [None] * (24 - len(op.inputs))
    x, y, h, c = ins[0], op.outputs[0], ins[HIDDEN], ins[CELL]
    variants = [("peephole", PEEPHOLE), ("projection", PROJECTION), ("layer norm", LAYER_NORM)]
    for name, idx in variants:
        if any(ins[i] is not None for i in idx):
            ctx.unsupported(f"an LSTM with {name} weights is not supported", y, hint=NOT_TFLM)
    if any(ins[i] is None for i in W_IN + W_REC + BIAS) or h is None or c is None:
        ctx.unsupported("an LSTM without an input gate (CIFG) or without biases is not "
                        "supported", y, hint=NOT_TFLM)
    ctx.require_int8(x, y, h)
    if c.dtype != "int16":
        ctx.unsupported(f"cell state is {c.dtype}; the AOT runs the int8 LSTM with an int16 "
                        "cell state (full-int8 conversion gives one)", c)
    if h.is_const or c.is_const:
        ctx.unsupported("the LSTM's state tensors must be variables, not constants", h)
    act = op.options.get("fused_activation", "TANH")
    if act != "TANH":      # the file format has no SIGMOID for it; TFLM asserts on others
        ctx.unsupported(f"cell activation {act} is not supported (TFLM runs TANH)", y)
    if op.options.get("time_major", False):
        ctx.unsupported("a time-major LSTM is not supported by the AOT (Keras exports batch-"
                        "major); TFLM runs it", y)
    if len(x.shape) != 3 or len(y.shape) != 3:
        ctx.unsupported(f"expects 3-D input and output, got {list(x.shape)} and {list(y.shape)}", x)
    batches, steps, n_in = (int(d) for d in x.shape)
    units = int(ins[W_IN[0]].shape[0]) if ins[W_IN[0]].shape else 0
    if tuple(y.shape) != (batches, steps, units) or h.size != batches * units or c.size != batches * units:
        ctx.unsupported(f"output {list(y.shape)} and states {list(h.shape)}, {list(c.shape)} do "
                        f"not match {units} units of input {list(x.shape)}", y)
    w_in = _weights(ctx, op, W_IN, units, n_in)
    w_rec = _weights(ctx, op, W_REC, units, units)
    b_in, b_rec = [], []
    for g in range(4):
        b = ins[BIAS[g]]
        if b.dtype != "int32" or b.data is None or b.size != units:
            ctx.unsupported(f"gate bias #{BIAS[g]} must be {units} constant int32 values", b)
        b_in.append(wrapped_bias(b.data.reshape(-1), w_in[g], x.scalar_zp()))
        b_rec.append(wrapped_bias(np.zeros(units), w_rec[g], h.scalar_zp()))
    in_m = [quant.tensor_multiplier(x.scalar_scale(), ins[i].scalar_scale(), GATE_IN_SCALE) for i in W_IN]
    rec_m = [quant.tensor_multiplier(h.scalar_scale(), ins[i].scalar_scale(), GATE_IN_SCALE) for i in W_REC]
    cs = c.scalar_scale()
    if not math.isfinite(cs) or cs <= 0:
        ctx.unsupported(f"cell state scale {cs} is not a positive number", c)
    power = cell_scale_power(cs)
    clip = float(op.options.get("cell_clip", 0.0) or 0.0)
    q_clip = int(min(max(float(np.float32(clip)) / float(np.float32(cs)), -32768.0), 32767.0)) \
        if clip > 0 else 0
    fc_m = mul_multiplier(GATE_OUT_SCALE, cs, cs)
    ic_m = mul_multiplier(GATE_OUT_SCALE, GATE_OUT_SCALE, cs)
    oh_m = mul_multiplier(GATE_OUT_SCALE, GATE_OUT_SCALE, h.scalar_scale())
    tm, ts = tanh_params(power)
    ctx.require_shifts(f"cell state scale {cs:.3g}", (fc_m[1], ic_m[1], oh_m[1], ts), c)
    ctx.require_shifts("a gate FC", [v for _, v in in_m + rec_m], y)
    fields = dict(
        batches=batches, steps=steps, in_dim=n_in, units=units,
        h_zp=h.scalar_zp(), w_in=ctx.const_array("w_in", w_in), w_rec=ctx.const_array("w_rec", w_rec),
        b_in=ctx.const_array("b_in", np.concatenate(b_in)),
        b_rec=ctx.const_array("b_rec", np.concatenate(b_rec)),
        in_mult=[m for m, _ in in_m], in_shift=[s for _, s in in_m],
        rec_mult=[m for m, _ in rec_m], rec_shift=[s for _, s in rec_m],
        fc_mult=fc_m[0], fc_shift=fc_m[1], ic_mult=ic_m[0],
        ic_shift=ic_m[1], oh_mult=oh_m[0], oh_shift=oh_m[1], tanh_mult=tm, tanh_shift=ts,
        cell_clip=q_clip)
    p = ctx.params("tm_lstm_params_t", fields)
    ctx.include("tm_k_lstm.h")
    ctx.call(f"tm_k_lstm_s8(&{p}, {ctx.buf(x)}, {ctx.buf(y)}, (int16_t *)(void *){ctx.buf(c)}, "
             f"{ctx.buf(h)});")
    ctx.add_macs(batches * steps * 4 * units * (n_in + units))
