"""Standalone int8 activations: RELU, RELU6, LEAKY_RELU, TANH, HARD_SWISH.

Each follows its TFLM reference kernel and Prepare exactly (scales are float32,
divided in float32 where TFLM does, then widened to double). All go through one
C kernel, tm_k_act_s8; from TABLE_MIN_ELEMENTS elements on it first evaluates the
256 possible inputs into a scratch table (same arithmetic, fewer evaluations).
"""
from __future__ import annotations

import numpy as np

from .. import access, quant
from . import register
from .base import OpContext
from .logistic import logistic_params

# Evaluating the 256-entry table costs about 256 element evaluations, so it pays
# from there on.
TABLE_MIN_ELEMENTS = 256
KINDS = {"RELU": "TM_ACT_RELU", "CLAMP": "TM_ACT_CLAMP", "LEAKY": "TM_ACT_LEAKY",
         "TANH": "TM_ACT_TANH", "HARD_SWISH": "TM_ACT_HARD_SWISH"}


def _f32(v) -> np.float32:
    return np.float32(v)


def _emit(op, ctx: OpContext, kind: str, **fields) -> None:
    x, y = op.inputs[0], op.outputs[0]
    p = {"kind": KINDS[kind], "in_zp": x.scalar_zp(), "out_zp": y.scalar_zp(),
         "m1": 0, "s1": 0, "m2": 0, "s2": 0, "neg2": 0, "radius": 0, "lo": -128, "hi": 127}
    p.update(fields)
    name = ctx.params("tm_act_params_t", p)
    table = ctx.scratch(256) if kind != "CLAMP" and x.size >= TABLE_MIN_ELEMENTS else "0"
    ctx.include("tm_k_misc.h")
    ctx.call(f"tm_k_act_s8(&{name}, {ctx.buf(x)}, {ctx.buf(y)}, {x.size}, {table});")
    ctx.overlap(0, 0, access.elementwise(y.size))


def _unary(op, ctx: OpContext):
    x, y = op.inputs[0], op.outputs[0]
    ctx.require_int8(x, y)
    if x.is_const:
        ctx.unsupported("an activation of a constant tensor is not supported", x)
    if tuple(x.shape) != tuple(y.shape):
        ctx.unsupported(f"input {list(x.shape)} and output {list(y.shape)} differ", y)
    return x, y


@register("RELU")
def lower_relu(op, ctx: OpContext) -> None:
    x, y = _unary(op, ctx)
    m, s = quant.quantize_multiplier(float(_f32(x.scalar_scale()) / _f32(y.scalar_scale())))
    _emit(op, ctx, "RELU", m1=m, s1=s, lo=max(-128, y.scalar_zp()))


@register("RELU6")
def lower_relu6(op, ctx: OpContext) -> None:
    # TFLM clamps the raw input to [zp, q(6)] in input units and never reads the
    # output's quantization, even where the converter gave it another (LiteRT rescales
    # there, so the two runtimes can disagree on such a model; TFLM is the contract).
    x, y = _unary(op, ctx)
    six = x.scalar_zp() + quant.round_away(float(_f32(6.0) / _f32(x.scalar_scale())))
    _emit(op, ctx, "CLAMP", lo=min(max(-128, x.scalar_zp()), 127), hi=min(max(-128, six), 127))


@register("LEAKY_RELU")
def lower_leaky_relu(op, ctx: OpContext) -> None:
    x, y = _unary(op, ctx)
    sx, sy = _f32(x.scalar_scale()), _f32(y.scalar_scale())
    alpha = _f32(op.options.get("alpha", 0.2))
    m1, s1 = quant.quantize_multiplier(float(sx / sy))
    m2, s2 = quant.quantize_multiplier(float(abs(sx * alpha / sy)))
    _emit(op, ctx, "LEAKY", m1=m1, s1=s1, m2=m2, s2=s2, neg2=int(alpha < 0))


@register("TANH")
def lower_tanh(op, ctx: OpContext) -> None:
    x, y = _unary(op, ctx)
    if y.scalar_zp() != 0 or _f32(y.scalar_scale()) != _f32(1 / 128):
        ctx.unsupported(f"int8 TANH output must have scale 1/128 and zero point 0 "
                        f"(got {y.scalar_scale():.6g}, {y.scalar_zp()})", y)
    mult, shift, radius = logistic_params(x.scalar_scale())
    if shift < 0 or shift > 31:
        ctx.unsupported(f"input scale {x.scalar_scale()} is out of the supported range", x)
    _emit(op, ctx, "TANH", m1=mult, s1=shift, radius=radius)


def _int16_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier, then DownScaleInt32ToInt16Multiplier (as TFLM's HardSwish)."""
    m, s = quant.quantize_multiplier(real)
    m16 = 32767 if m >= (1 << 31) - 1 - (1 << 15) else (m + (1 << 15)) >> 16
    return m16, s


@register("HARD_SWISH")
def lower_hard_swish(op, ctx: OpContext) -> None:
    x, y = _unary(op, ctx)
    hires = _f32(1.0 / 128.0) * _f32(x.scalar_scale())
    m_out, e_out = _int16_multiplier(float(hires / _f32(y.scalar_scale())))
    m_rel, e_rel = _int16_multiplier(float(hires / _f32(3.0 / 32768.0)))
    if not -31 <= e_out <= 0 or not -31 <= e_rel <= 31:
        ctx.unsupported(f"input/output scales give multiplier exponents {e_out}, {e_rel} "
                        "outside the supported range", y)
    _emit(op, ctx, "HARD_SWISH", m1=m_out, s1=e_out, m2=m_rel, s2=e_rel)
