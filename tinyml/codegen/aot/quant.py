"""Quantization math done in Python at compile time, exactly as TFLM does it at Prepare.

All of it mirrors TFLM's quantization_util / kernel_util arithmetic: float32 tensor
scales are widened to double, multipliers go through the frexp-based
QuantizeMultiplier, rounding is half-away-from-zero (std::round).
"""
from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def round_away(x: float) -> int:
    """std::round: halves go away from zero (Python's round() is banker's)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """double -> (int32 significand in [2^30, 2^31), shift) like TFLM QuantizeMultiplier.

    real ~= significand * 2^(shift - 31). A positive shift is a left shift.
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_away(q * float(1 << 31))
    if q_fixed == (1 << 31):          # rounding pushed q up to 1.0
        q_fixed //= 2
        shift += 1
    if shift < -31:                   # flush tiny multipliers to zero, as TFLM does
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_smaller_than_one(real: float) -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp: same, but the shift must be <= 0."""
    if not 0.0 <= real < 1.0:
        raise ValueError(f"multiplier {real} is not in [0, 1)")
    m, s = quantize_multiplier(real)
    if s > 0:
        raise ValueError(f"multiplier {real} gives a left shift")
    return m, s


def tensor_multiplier(in_scale: float, w_scale: float, out_scale: float) -> tuple[int, int]:
    """TFLM GetQuantizedConvolutionMultipler (per-tensor FC, LSTM gates, BATCH_MATMUL):
    the two scales multiplied in float32, then divided in double."""
    prod = float(np.float32(in_scale) * np.float32(w_scale))
    return quantize_multiplier(prod / float(np.float32(out_scale)))


def per_channel_multipliers(input_scale: float, filter_scales: np.ndarray,
                            output_scale: float, channels: int) -> tuple[list[int], list[int]]:
    """Conv/depthwise: effective scale per output channel, in double like TFLM."""
    fs = np.asarray(filter_scales, np.float32)
    mults, shifts = [], []
    for c in range(channels):
        s = float(fs[c] if fs.size > 1 else fs[0])
        m, sh = quantize_multiplier(float(np.float32(input_scale)) * s / float(np.float32(output_scale)))
        mults.append(m)
        shifts.append(sh)
    return mults, shifts


def activation_range(act: str, scale: float, zero_point: int,
                     qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: clamp bounds of a fused activation.

    The division f/scale is float32 (as in TFLM), then rounded half away from zero.
    """
    def q(f: float) -> int:
        return zero_point + round_away(float(np.float32(f) / np.float32(scale)))

    if act == "NONE":
        return qmin, qmax
    if act == "RELU":
        return max(qmin, q(0.0)), qmax
    if act == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if act == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise ValueError(f"fused activation {act} has no int8 clamp range")


# --- integer helpers of tm_aot_fx.h, for tables the compiler bakes -------------------
# Same results as the C (tests/host/test_aot_fx.py holds both to TFLM's definitions).

def srdhm(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul (tm_aot_srdhm)."""
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    return (a * b + (1 << 30)) >> 31


def rdpot(x: int, exponent: int) -> int:
    """RoundingDivideByPOT, ties away from zero (tm_aot_rdpot)."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def mul_by_qm_lt1(x: int, m: int, shift: int) -> int:
    """MultiplyByQuantizedMultiplierSmallerThanOneExp (tm_aot_mul_by_qm_lt1), shift <= 0."""
    return rdpot(srdhm(x, m), -shift)
