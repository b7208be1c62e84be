/* tm_aot_fx.h - the fixed-point arithmetic of the AOT kernels, in one place.
 *
 * Everything here matches TensorFlow Lite Micro's reference integer kernels (and
 * gemmlowp's fixed-point library they use) bit for bit: rounding doubling high
 * multiply, rounding shifts, MultiplyByQuantizedMultiplier, requantization to
 * int8, exp on negative values and 1/(1+x). Every kernel variant (portable
 * reference, Arm DSP, ...) uses these, so the paths differ only in how they
 * compute integer sums, which are exact. tests/host/test_aot_fx.py checks each
 * helper against an exact Python model at the edges (INT32_MIN/MAX, all shifts).
 * C99, header-only.
 */
#ifndef TM_AOT_FX_H
#define TM_AOT_FX_H

#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TM_AOT_INLINE static inline __attribute__((always_inline))
#else
#define TM_AOT_INLINE static inline
#endif

TM_AOT_INLINE int32_t tm_aot_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Round(a * b / 2^31) with ties away from zero, saturating the one overflow case
 * (INT32_MIN * INT32_MIN). TFLM computes (ab + nudge) / 2^31 with a truncating
 * division, nudge = 2^30 or 1 - 2^30 by sign; for both signs that equals
 * floor((ab + 2^30) / 2^31), a shift: no 64-bit division on the device. */
TM_AOT_INLINE int32_t tm_aot_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero (exponent 0..31).
 * Mask and threshold in 32 bits (gemmlowp's RoundingDivideByPOT): never overflows,
 * unlike adding half first. */
TM_AOT_INLINE int32_t tm_aot_rdpot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)x >> 31);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT with exponent 1..31: x * 2^exponent,
 * saturated to [INT32_MIN, INT32_MAX]. */
TM_AOT_INLINE int32_t tm_aot_sat_shl(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* gemmlowp RoundingHalfSum on int32: (a + b) / 2 rounded away from zero. */
TM_AOT_INLINE int32_t tm_aot_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* MultiplyByQuantizedMultiplier: x * m * 2^(shift-31), shift > 0 shifts left first.
 * The left shift wraps like the two's-complement hardware TFLM runs on. */
TM_AOT_INLINE int32_t tm_aot_mul_by_qm(int32_t x, int32_t m, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    return tm_aot_rdpot(tm_aot_srdhm((int32_t)((uint32_t)x << left), m), right);
}

/* MultiplyByQuantizedMultiplierSmallerThanOneExp: shift <= 0 (used by ADD). */
TM_AOT_INLINE int32_t tm_aot_mul_by_qm_lt1(int32_t x, int32_t m, int shift)
{
    return tm_aot_rdpot(tm_aot_srdhm(x, m), -shift);
}

/* Requantize an int32 accumulator to int8: tm_aot_mul_by_qm(acc, m, shift) + out_zp
 * (int32, wrapping), clamped to [act_min, act_max]. m comes from QuantizeMultiplier (0 <= m < 2^31),
 * so the srdhm overflow case cannot occur and its test is left out. */
TM_AOT_INLINE int8_t tm_aot_requant(int32_t acc, int32_t m, int shift, int32_t out_zp,
                                    int32_t act_min, int32_t act_max)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int64_t x = (int64_t)(int32_t)((uint32_t)acc << left);
    const int32_t v = (int32_t)((x * m + ((int64_t)1 << 30)) >> 31);
    /* + out_zp wraps like TFLM's int32 add on the device (no UB at the extremes) */
    const int32_t r = (int32_t)((uint32_t)tm_aot_rdpot(v, right) + (uint32_t)out_zp);
    return (int8_t)tm_aot_clamp(r, act_min, act_max);
}

/* tm_aot_mul_by_qm(x, m, shift) in one rounding step, exact when m > 2^30 and
 * shift <= -2 (r = -shift): TFLM rounds twice, q = floor((x*m + 2^30) / 2^31) then
 * rdpot(q, r) = floor((q + 2^(r-1) - [q < 0]) / 2^r). Since floor(floor(a)/n) =
 * floor(a/n), that is floor((x*m + 2^30 + 2^(30+r) - 2^31*[q < 0]) / 2^(31+r)), and
 * with m > 2^30, q < 0 exactly when x < 0. The constant is built in the register
 * pair (SMLAL adds the product), the shift by 31 + r is the high word >> (r - 1).
 * tm_aot_mul_by_qm_r2c takes the per-channel constants rm1 = r - 1 and
 * half = 2^(r - 2) (computed once for several accumulators of a channel). */
TM_AOT_INLINE int32_t tm_aot_mul_by_qm_r2c(int32_t x, int32_t m, int rm1, uint32_t half)
{
    const uint32_t lo = 0x40000000u | ((uint32_t)x & 0x80000000u);
    const uint32_t hi = (uint32_t)(x >> 31) + half;
    const int64_t t = (int64_t)(((uint64_t)hi << 32) | lo) + (int64_t)x * m;
    return (int32_t)(t >> 32) >> rm1;
}

TM_AOT_INLINE int32_t tm_aot_mul_by_qm_r2(int32_t x, int32_t m, int shift)
{
    const int r = -shift;
    return tm_aot_mul_by_qm_r2c(x, m, r - 1, (uint32_t)1 << (r - 2));
}

/* tm_aot_requant through tm_aot_mul_by_qm_r2: same result under its conditions. */
TM_AOT_INLINE int8_t tm_aot_requant_r2(int32_t acc, int32_t m, int shift, int32_t out_zp,
                                       int32_t act_min, int32_t act_max)
{
    const int32_t r = (int32_t)((uint32_t)tm_aot_mul_by_qm_r2(acc, m, shift) + (uint32_t)out_zp);
    return (int8_t)tm_aot_clamp(r, act_min, act_max);
}

/* One output channel's requantization for several accumulators: tm_aot_rq_ch
 * takes the channel's constants once, tm_aot_rq_apply requantizes one accumulator.
 * mode (a compile-time constant in each specialized copy of a kernel):
 *   TM_RQ_TFLM  TFLM's two roundings (tm_aot_requant), any multiplier and shift
 *   TM_RQ_FAST  one rounding (tm_aot_mul_by_qm_r2c: the layer's rq_fast flag)
 *   TM_RQ_FULL  TM_RQ_FAST with act range [-128, 127]: a clamp to constants (SSAT) */
#define TM_RQ_TFLM 0
#define TM_RQ_FAST 1
#define TM_RQ_FULL 2

typedef struct {
    int32_t m, shift, rm1;
    uint32_t half;
} tm_aot_rq_t;

TM_AOT_INLINE tm_aot_rq_t tm_aot_rq_ch(int32_t m, int32_t shift, const int mode)
{
    tm_aot_rq_t c;
    c.m = m;
    c.shift = shift;
    c.rm1 = mode == TM_RQ_TFLM ? 0 : -shift - 1;
    c.half = mode == TM_RQ_TFLM ? 0u : (uint32_t)1 << (-shift - 2);
    return c;
}

/* The one-rounding modes from a channel record the compiler precomputed
 * (ops/common.py rq_records): {bias, m, rm1, half}, TM_AOT_RQC_WORDS int32 each, so
 * a kernel loads one record per output channel and derives nothing from the shift. */
#define TM_AOT_RQC_WORDS 4
TM_AOT_INLINE tm_aot_rq_t tm_aot_rq_rec(const int32_t *r)
{
    tm_aot_rq_t c;
    c.m = r[1];
    c.shift = -(r[2] + 1);
    c.rm1 = r[2];
    c.half = (uint32_t)r[3];
    return c;
}

TM_AOT_INLINE int8_t tm_aot_rq_apply(tm_aot_rq_t c, int32_t acc, int32_t out_zp,
                                     int32_t act_min, int32_t act_max, const int mode)
{
    int32_t r;
    if (mode == TM_RQ_TFLM) {
        return tm_aot_requant(acc, c.m, c.shift, out_zp, act_min, act_max);
    }
    r = (int32_t)((uint32_t)tm_aot_mul_by_qm_r2c(acc, c.m, c.rm1, c.half) + (uint32_t)out_zp);
    if (mode == TM_RQ_FULL) {
#if defined(__ARM_FEATURE_SAT) && (__ARM_FEATURE_SAT == 1) && defined(__GNUC__) && \
    !defined(TM_AOT_FORCE_PORTABLE)
        return (int8_t)__builtin_arm_ssat(r, 8);      /* SSAT: one instruction */
#else
        return (int8_t)tm_aot_clamp(r, -128, 127);
#endif
    }
    return (int8_t)tm_aot_clamp(r, act_min, act_max);
}

/* The mode of a layer: its rq_fast flag and activation range. */
TM_AOT_INLINE int tm_aot_rq_mode(int32_t rq_fast, int32_t act_min, int32_t act_max)
{
    if (!rq_fast) {
        return TM_RQ_TFLM;
    }
    return act_min == -128 && act_max == 127 ? TM_RQ_FULL : TM_RQ_FAST;
}

/* Per-channel requantization inside a kernel: copy the parameters into locals
 * first (TM_REQ_LOCALS), since int8 stores may alias `*p` and would force a reload
 * per output; TM_REQ(acc, channel) then requantizes one accumulator. */
#define TM_REQ_LOCALS(p) \
    const int32_t *const rq_mult = (p)->mult; \
    const int32_t *const rq_shift = (p)->shift; \
    const int32_t rq_zp = (p)->out_zp, rq_lo = (p)->act_min, rq_hi = (p)->act_max
/* `rq_fast` (in scope, a compile-time constant in each specialized copy): the layer's
 * every channel meets tm_aot_mul_by_qm_r2's conditions (the compiler's rq_fast flag). */
#define TM_REQ(a, o) (rq_fast ? \
    tm_aot_requant_r2((a), rq_mult[(o)], rq_shift[(o)], rq_zp, rq_lo, rq_hi) : \
    tm_aot_requant((a), rq_mult[(o)], rq_shift[(o)], rq_zp, rq_lo, rq_hi))

/* exp(a) for a in [-1/4, 0), Q0.31 in and out (gemmlowp's Taylor series around -1/8). */
static inline int32_t tm_aot_fx_exp_quarter(int32_t a)
{
    const int32_t exp_m1_8 = 1895147668;   /* exp(-1/8) */
    const int32_t one_third = 715827883;   /* 1/3 */
    const int32_t x = a + (1 << 28);       /* a + 1/8 */
    const int32_t x2 = tm_aot_srdhm(x, x);
    const int32_t x3 = tm_aot_srdhm(x2, x);
    const int32_t x4 = tm_aot_srdhm(x2, x2);
    const int32_t x4_4 = tm_aot_rdpot(x4, 2);
    const int32_t poly = tm_aot_rdpot(tm_aot_srdhm(x4_4 + x3, one_third) + x2, 1);
    return exp_m1_8 + tm_aot_srdhm(exp_m1_8, x + poly);
}

/* gemmlowp exp_on_negative_values: exp(a) for a <= 0 given in
 * Q<int_bits>.<31-int_bits> (int_bits 0..30); result in Q0.31. */
static inline int32_t tm_aot_fx_exp_neg(int32_t a, int int_bits)
{
    /* exp(-2^k) in Q0.31 for k = -2 .. 4 */
    static const int32_t mult[7] = {1672461947, 1302514674, 790015084,
                                    290630308, 39332535, 720401, 242};
    const int frac_bits = 31 - int_bits;
    const int32_t quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t mod = (a & (quarter - 1)) - quarter;
    const int32_t remainder = (int32_t)((uint32_t)mod - (uint32_t)a);
    int32_t result;
    int k;
    /* Rescale mod from Q(int_bits) to Q0: saturating left shift. */
    result = tm_aot_fx_exp_quarter(int_bits > 0 ? tm_aot_sat_shl(mod, int_bits) : mod);
    for (k = -2; k <= 4; ++k) {
        /* int_bits > k keeps the bit index frac_bits + k below 31 */
        if (int_bits > k && (remainder & ((int32_t)1 << (frac_bits + k)))) {
            result = tm_aot_srdhm(result, mult[k + 2]);
        }
    }
    if (int_bits > 5) {
        const int32_t clamp = -((int32_t)1 << (36 - int_bits)); /* -32.0 */
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = INT32_MAX;
    }
    return result;
}

/* gemmlowp's Newton-Raphson division shared by the two functions below: about
 * 1 / half_den in Q2.29 for half_den = (1 + a) / 2, a in [0, 1) (three iterations). */
static inline int32_t tm_aot_fx_nr_recip(int32_t half_den)
{
    const int32_t c48_17 = 1515870810;      /* 48/17 in Q2.29 */
    const int32_t cm32_17 = -1010580540;    /* -32/17 in Q2.29 */
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = c48_17 + tm_aot_srdhm(half_den, cm32_17);
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t hdx = tm_aot_srdhm(half_den, x);
        const int32_t one_minus = one_q2 - hdx;
        /* x * one_minus is Q4.27; Rescale<2> = saturating shift left by 2. */
        x = x + tm_aot_sat_shl(tm_aot_srdhm(x, one_minus), 2);
    }
    return x;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1/(1+a) for a in [0, 1) in Q0.31;
 * result in Q0.31. */
static inline int32_t tm_aot_fx_one_over_one_plus_x(int32_t a)
{
    /* ExactMulByPot<-1> then Rescale<0> from Q1: saturating shift left 1. */
    return tm_aot_sat_shl(tm_aot_fx_nr_recip(tm_aot_half_sum(a, INT32_MAX)), 1);
}

/* gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: (1-a)/(1+a), Q0.31 in and out. */
static inline int32_t tm_aot_fx_one_minus_x_over_one_plus_x(int32_t a)
{
    const int32_t x = tm_aot_fx_nr_recip(tm_aot_half_sum(a, INT32_MAX));
    /* x - 1 in Q2.29 (a plain wrapping subtract), Rescale<0>: saturating shift left 2. */
    return tm_aot_sat_shl((int32_t)((uint32_t)x - ((uint32_t)1 << 29)), 2);
}

/* gemmlowp tanh on Q4.27 input (the int8 TANH kernel's), result in Q0.31:
 * tanh(|a|) = (1 - exp(-2|a|)) / (1 + exp(-2|a|)), sign restored, 0 for 0. */
static inline int32_t tm_aot_fx_tanh_q4(int32_t a)
{
    int32_t t;
    if (a == 0) {
        return 0;
    }
    /* ExactMulByPot<1>: the same raw value read as Q5.26 is 2a. */
    t = tm_aot_fx_one_minus_x_over_one_plus_x(tm_aot_fx_exp_neg(a < 0 ? a : -a, 5));
    return a < 0 ? -t : t;
}

#endif /* TM_AOT_FX_H */
