"""Compile-time quantization math (pure Python) against hand-checked TFLM cases."""
from __future__ import annotations

import numpy as np
import pytest

from tinyml.codegen.aot import quant


def test_round_half_away_from_zero():
    assert [quant.round_away(v) for v in (2.5, -2.5, 0.5, -0.5, 1.49, -1.51)] == [3, -3, 1, -1, 1, -2]


@pytest.mark.parametrize("real, expected", [
    (0.0, (0, 0)),
    (0.5, (1 << 30, 0)),
    (1.0, (1 << 30, 1)),
    (0.75, (3 << 29, 0)),
    (1 - 2.0 ** -40, (1 << 30, 1)),     # q * 2^31 rounds up to 2^31: halve, shift + 1
    (2.0 ** -40, (0, 0)),               # shift < -31: flushed to zero
    (2.0 ** -31, (1 << 30, -30)),
])
def test_quantize_multiplier_edges(real, expected):
    assert quant.quantize_multiplier(real) == expected


def test_quantize_multiplier_reconstructs():
    rng = np.random.default_rng(0)
    for real in rng.uniform(1e-6, 4.0, 200):
        m, s = quant.quantize_multiplier(float(real))
        assert (1 << 30) <= m < (1 << 31)
        assert abs(m * 2.0 ** (s - 31) - real) <= real * 2.0 ** -30


def test_smaller_than_one_refuses_left_shift():
    with pytest.raises(ValueError):
        quant.quantize_multiplier_smaller_than_one(1.5)
    assert quant.quantize_multiplier_smaller_than_one(0.25) == (1 << 30, -1)


def test_activation_ranges():
    s, zp = np.float32(6.0 / 255.0), -128
    assert quant.activation_range("NONE", s, zp) == (-128, 127)
    assert quant.activation_range("RELU", s, zp) == (-128, 127)
    assert quant.activation_range("RELU6", s, zp) == (-128, 127)
    assert quant.activation_range("RELU6", 0.1, 3) == (3, 63)
    assert quant.activation_range("RELU", 0.1, 3) == (3, 127)
    assert quant.activation_range("RELU_N1_TO_1", 0.01, 0) == (-100, 100)
    with pytest.raises(ValueError):
        quant.activation_range("TANH", 0.1, 0)
