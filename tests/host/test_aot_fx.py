"""The fixed-point helpers of firmware/runtime/aot/tm_aot_fx.h against an exact Python
model of TFLM / gemmlowp, at the edges: INT32_MIN/MAX, every shift, zero points and
activation clamps at their extremes. The C side is built with host gcc under UBSan
(-fno-sanitize-recover), so a signed overflow or an oversized shift fails the test too.

The Python model is written from the TFLM/gemmlowp definitions, not from our C: srdhm
with TFLM's sign-dependent nudge and truncating division, rounding shifts as exact
rational rounding (half away from zero), and exp / 1/(1+x) step by step in gemmlowp's
FixedPoint semantics (checked against math.exp as well).
"""
from __future__ import annotations

import math
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from aot_harness import _BUILD_ROOT, FIRMWARE_RUNTIME, HERE, RUNTIME_DIR

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
EDGES = [I32_MIN, I32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -(1 << 30) + 1, -65536, -255, -3, -2,
         -1, 0, 1, 2, 3, 127, 65535, (1 << 30) - 1, 1 << 30, (1 << 30) + 1, I32_MAX - 1, I32_MAX]


def wrap32(v: int) -> int:
    return (v + (1 << 31)) % (1 << 32) - (1 << 31)


def trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


# --- exact model ---------------------------------------------------------------------

def srdhm(a: int, b: int) -> int:
    """TFLM SaturatingRoundingDoublingHighMul."""
    if a == b == I32_MIN:
        return I32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return trunc_div(ab + nudge, 1 << 31)


def rdpot(x: int, e: int) -> int:
    """x / 2^e rounded to nearest, ties away from zero (exact rational)."""
    q = Fraction(x, 1 << e)
    r = math.floor(abs(q) + Fraction(1, 2))
    return r if q >= 0 else -r


def sat_shl(x: int, e: int) -> int:
    return max(I32_MIN, min(I32_MAX, x * (1 << e)))


def half_sum(a: int, b: int) -> int:
    s = a + b
    return trunc_div(s + (1 if s >= 0 else -1), 2)


def mul_by_qm(x: int, m: int, shift: int) -> int:
    left, right = max(shift, 0), max(-shift, 0)
    return rdpot(srdhm(wrap32(x << left), m), right)


def requant(acc: int, m: int, shift: int, zp: int, lo: int, hi: int) -> int:
    # TFLM adds the zero point in int32: it wraps on the device at the extremes
    return max(lo, min(hi, wrap32(mul_by_qm(acc, m, shift) + zp)))


def exp_quarter(a: int) -> int:
    """gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31)."""
    const, third = 1895147668, 715827883
    x = a + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    poly = rdpot(srdhm(rdpot(x4, 2) + x3, third) + x2, 1)
    return const + srdhm(const, x + poly)


def exp_neg(a: int, int_bits: int) -> int:
    """gemmlowp exp_on_negative_values<int_bits>, raw Q0.31 result."""
    frac = 31 - int_bits
    quarter = 1 << (frac - 2)
    mod = (a & (quarter - 1)) - quarter
    result = exp_quarter(sat_shl(mod, int_bits) if int_bits else mod)
    remainder = wrap32(mod - a)
    mults = {-2: 1672461947, -1: 1302514674, 0: 790015084, 1: 290630308, 2: 39332535,
             3: 720401, 4: 242}
    for k, mult in mults.items():
        if int_bits > k and remainder & (1 << (frac + k)):
            result = srdhm(result, mult)
    if int_bits > 5 and a < -(1 << (36 - int_bits)):
        result = 0
    return I32_MAX if a == 0 else result


def _nr_recip(a: int) -> int:
    """gemmlowp's Newton-Raphson 1/((1+a)/2) in Q2.29, a in Q0.31."""
    half_den = half_sum(a, I32_MAX)
    x = 1515870810 + srdhm(half_den, -1010580540)
    for _ in range(3):
        one_minus = (1 << 29) - srdhm(half_den, x)
        x = x + sat_shl(srdhm(x, one_minus), 2)
    return x


def one_over_one_plus_x(a: int) -> int:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out)."""
    return sat_shl(_nr_recip(a), 1)


def one_minus_x_over_one_plus_x(a: int) -> int:
    """gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out)."""
    return sat_shl(wrap32(_nr_recip(a) - (1 << 29)), 2)


def tanh_q4(a: int) -> int:
    """gemmlowp tanh of a Q4.27 value, Q0.31 result."""
    if a == 0:
        return 0
    t = one_minus_x_over_one_plus_x(exp_neg(-abs(a), 5))
    return -t if a < 0 else t


# --- the C side ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def fx():
    _BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    exe = _BUILD_ROOT / "aot_fx_ubsan"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2",
                    "-fsanitize=undefined", "-fno-sanitize-recover=all",
                    f"-I{RUNTIME_DIR}", f"-I{FIRMWARE_RUNTIME}", str(HERE / "aot_fx_main.c"),
                    "-o", str(exe)], check=True)

    def run(cases: list[tuple]) -> list[int]:
        text = "\n".join(" ".join(str(v) for v in c) for c in cases) + "\n"
        p = subprocess.run([str(exe)], input=text, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and not p.stderr, p.stderr[-2000:]
        out = [int(v) for v in p.stdout.split()]
        assert len(out) == len(cases)
        return out
    return run


def _check(fx, op: str, cases: list[tuple], model) -> None:
    got = fx([(op, *c) for c in cases])
    bad = [(c, g, model(*c)) for c, g in zip(cases, got) if g != model(*c)]
    assert not bad, f"{len(bad)} of {len(cases)} differ, first (args, C, exact): {bad[:3]}"


RNG = np.random.default_rng(10)
RAND = [int(v) for v in RNG.integers(I32_MIN, I32_MAX, 40, endpoint=True)]


def test_srdhm(fx):
    vals = EDGES + RAND[:12]
    _check(fx, "S", [(a, b) for a in vals for b in vals], srdhm)


def test_rounding_shift_every_exponent(fx):
    xs = EDGES + RAND[:8] + [5, -5, 6, -6, 7, -7]      # ties and near-ties at small shifts
    _check(fx, "R", [(x, e) for x in xs for e in range(32)], rdpot)


def test_saturating_shift_left(fx):
    _check(fx, "L", [(x, e) for x in EDGES + RAND[:8] for e in range(1, 32)], sat_shl)


def test_half_sum(fx):
    _check(fx, "H", [(a, b) for a in EDGES for b in EDGES], half_sum)


MULTS = [0, 1 << 30, (1 << 30) + 1, 1518500250, I32_MAX - 1, I32_MAX]


def test_mul_by_quantized_multiplier(fx):
    xs = EDGES + RAND[:6]
    _check(fx, "M", [(x, m, s) for x in xs for m in MULTS for s in range(-31, 32)], mul_by_qm)
    _check(fx, "m", [(x, m, s) for x in xs for m in MULTS for s in range(-31, 1)], mul_by_qm)


def test_requantize_edges(fx):
    accs = EDGES + RAND[:6]
    outs = [(-128, -128, 127), (127, -128, 127), (0, 0, 127), (-128, -128, -128), (5, -100, 100)]
    cases = [(a, m, s, zp, lo, hi) for a in accs for m in MULTS for s in range(-31, 32)
             for zp, lo, hi in outs]
    _check(fx, "Q", cases, requant)


def test_single_rounding_requantize_under_its_conditions(fx):
    """tm_aot_requant_r2 (multiplier > 2^30, shift <= -2) equals TFLM's two roundings;
    the compiler's rq_fast flag picks it only for layers meeting the conditions."""
    from tinyml.codegen.aot.ops.conv import rq_fast
    accs = EDGES + RAND + [(1 << 20) + 1, -(1 << 20) - 1, 3 << 12, -(3 << 12)]
    mults = [(1 << 30) + 1, (1 << 30) + 12345, 1518500250, 2 * 10**9, I32_MAX - 1, I32_MAX]
    outs = [(-128, -128, 127), (127, -128, 127), (3, 3, 127), (-128, -128, -128)]
    cases = [(a, m, s, zp, lo, hi) for a in accs for m in mults for s in range(-31, -1)
             for zp, lo, hi in outs]
    _check(fx, "F", cases, requant)
    # ties: acc * m lands exactly halfway at the second rounding, both signs
    ties = []
    for s in range(-20, -1):
        for q in (1, 2, 3, -1, -2, -3, 1000, -1000):
            m = (1 << 30) + (1 << 29)                     # 0.75 in Q31
            acc = (q * (1 << (-s)) + (1 << (-s - 1))) * 4 // 3 if q > 0 else \
                (q * (1 << (-s)) - (1 << (-s - 1))) * 4 // 3
            ties += [(acc + d, m, s, 0, -128, 127) for d in (-1, 0, 1)]
    _check(fx, "F", ties, requant)
    assert rq_fast([(1 << 30) + 1, I32_MAX], [-2, -31]) == 1
    assert rq_fast([1 << 30], [-5]) == 0 and rq_fast([I32_MAX], [-1]) == 0
    assert rq_fast([I32_MAX, I32_MAX], [-3, 1]) == 0


def test_exp_on_negative_values(fx):
    cases = []
    for ib in (0, 1, 4, 5, 6, 12, 29):
        frac = 31 - ib
        vals = {0, -1, -2, I32_MIN, I32_MIN + 1, -(1 << (frac - 2)), -(1 << (frac - 2)) - 1,
                -(1 << frac), -(1 << frac) + 1}
        vals |= {-int(v) for v in RNG.integers(0, 1 << 31, 60)}
        cases += [(a, ib) for a in sorted(vals)]
    _check(fx, "E", cases, exp_neg)
    # and the model itself is exp(): Q5.26 input, Q0.31 output
    for a in (-(1 << 26), -(3 << 25), -(1 << 24), -12345678):
        assert abs(exp_neg(a, 5) / 2**31 - math.exp(a / 2**26)) < 1e-6


def test_one_over_one_plus_x(fx):
    vals = sorted({0, 1, 2, (1 << 30) - 1, 1 << 30, I32_MAX - 1, I32_MAX}
                  | {int(v) for v in RNG.integers(0, I32_MAX, 200)})
    _check(fx, "O", [(a,) for a in vals], one_over_one_plus_x)
    for a in (0, 1 << 29, 1 << 30, 3 << 29):
        assert abs(one_over_one_plus_x(a) / 2**31 - 1 / (1 + a / 2**31)) < 1e-8


def test_one_minus_x_over_one_plus_x(fx):
    vals = sorted({0, 1, 2, (1 << 30) - 1, 1 << 30, I32_MAX - 1, I32_MAX}
                  | {int(v) for v in RNG.integers(0, I32_MAX, 200)})
    _check(fx, "N", [(a,) for a in vals], one_minus_x_over_one_plus_x)
    for a in (0, 1 << 29, 1 << 30, 3 << 29):
        assert abs(one_minus_x_over_one_plus_x(a) / 2**31 - (1 - a / 2**31) / (1 + a / 2**31)) < 1e-8


def test_tanh_q4(fx):
    # the int8 TANH kernel feeds |a| < 2^31 (the input radius keeps a bounded)
    vals = sorted({0, 1, -1, 1 << 27, -(1 << 27), (1 << 31) - 1, -(1 << 31) + 1}
                  | {int(v) for v in RNG.integers(-(1 << 31) + 1, 1 << 31, 200)})
    _check(fx, "T", [(a,) for a in vals], tanh_q4)
    for a in (1 << 27, -(1 << 26), 3 << 27, -(5 << 26)):
        assert abs(tanh_q4(a) / 2**31 - math.tanh(a / 2**27)) < 1e-6
