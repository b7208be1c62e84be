/* int8 softmax, bit-exact with TFLM's reference_ops::Softmax<int8_t,int8_t>:
 * the input difference to the row maximum is rescaled into Q5.26, exp() is
 * gemmlowp's fixed-point exp_on_negative_values, the sum is kept in Q12.19
 * and the reciprocal comes from gemmlowp's Newton-Raphson 1/(1+x). */
#include "tm_k_misc.h"

#define TM_SM_DIFF_INT_BITS 5  /* Q5.26 scaled input difference */
#define TM_SM_ACC_INT_BITS 12  /* Q12.19 sum of exps */

/* gemmlowp SaturatingRoundingMultiplyByPOT with a positive exponent. */
static int32_t tm_sm_sat_shl(int32_t x, int exponent)
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

/* exp(a) for a in [-1/4, 0), Q0.31 in and out (Taylor series around -1/8). */
static int32_t tm_sm_exp_quarter(int32_t a)
{
    const int32_t exp_m1_8 = 1895147668;   /* exp(-1/8) */
    const int32_t one_third = 715827883;   /* 1/3 */
    const int32_t x = a + (1 << 28);       /* a + 1/8 */
    const int32_t x2 = tm_aot_srdhm(x, x);
    const int32_t x3 = tm_aot_srdhm(x2, x);
    const int32_t x4 = tm_aot_srdhm(x2, x2);
    const int32_t x4_4 = tm_aot_rdpot(x4, 2);
    const int32_t poly = tm_aot_rdpot(
        tm_aot_srdhm(x4_4 + x3, one_third) + x2, 1);
    return exp_m1_8 + tm_aot_srdhm(exp_m1_8, x + poly);
}

/* gemmlowp exp_on_negative_values for a Qn.(31-n) input, Q0.31 result. */
int32_t tm_k_fx_exp_neg(int32_t a, int int_bits)
{
    /* exp(-2^k) in Q0.31 for k = -2 .. 4 */
    static const int32_t mult[7] = {1672461947, 1302514674, 790015084,
                                    290630308, 39332535, 720401, 242};
    const int frac_bits = 31 - int_bits;
    const int32_t quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t mod = (a & (quarter - 1)) - quarter;
    int32_t result;
    int32_t remainder;
    int k;
    /* Rescale mod from Q(int_bits) to Q0: saturating left shift. */
    result = tm_sm_exp_quarter(int_bits > 0 ? tm_sm_sat_shl(mod, int_bits) : mod);
    remainder = mod - a;
    for (k = -2; k <= 4; ++k) {
        if (int_bits > k) {
            const int shift_amount = frac_bits + k;
            if (remainder & ((int32_t)1 << shift_amount)) {
                result = tm_aot_srdhm(result, mult[k + 2]);
            }
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

/* gemmlowp RoundingHalfSum on int32. */
static int32_t tm_sm_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* 1/(1+a) for a in [0, 1), Q0.31 in and out (gemmlowp Newton-Raphson). */
int32_t tm_k_fx_one_over_one_plus_x(int32_t a)
{
    const int32_t c48_17 = 1515870810;      /* 48/17 in Q2.29 */
    const int32_t cm32_17 = -1010580540;    /* -32/17 in Q2.29 */
    const int32_t one_q2 = (int32_t)1 << 29;
    const int32_t half_den = tm_sm_half_sum(a, INT32_MAX);
    int32_t x = c48_17 + tm_aot_srdhm(half_den, cm32_17);
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t hdx = tm_aot_srdhm(half_den, x);
        const int32_t one_minus = one_q2 - hdx;
        /* x * one_minus is Q4.27; Rescale<2> = saturating shift left by 2. */
        x = x + tm_sm_sat_shl(tm_aot_srdhm(x, one_minus), 2);
    }
    /* ExactMulByPot<-1> then Rescale<0> from Q1: saturating shift left 1. */
    return tm_sm_sat_shl(x, 1);
}

void tm_k_softmax_s8(const int8_t *in, int8_t *out, int32_t outer,
                     int32_t depth, int32_t beta_multiplier,
                     int32_t beta_shift, int32_t diff_min)
{
    int32_t r, c;
    for (r = 0; r < outer; ++r) {
        const int8_t *row = in + r * depth;
        int8_t *orow = out + r * depth;
        int32_t max_v = -128;
        int32_t sum = 0; /* Q12.19 */
        int32_t headroom, bits_over_unit, shifted_scale, exponent;
        uint32_t usum;
        for (c = 0; c < depth; ++c) {
            if (row[c] > max_v) {
                max_v = row[c];
            }
        }
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)row[c] - max_v;
            if (diff >= diff_min) {
                const int32_t scaled = tm_aot_srdhm(
                    (int32_t)((uint32_t)diff << beta_shift), beta_multiplier);
                const int32_t e = tm_k_fx_exp_neg(scaled, TM_SM_DIFF_INT_BITS);
                /* Rescale Q0.31 -> Q12.19: rounding shift right by 12. */
                sum += tm_aot_rdpot(e, TM_SM_ACC_INT_BITS);
            }
        }
        /* GetReciprocal(sum, 12): normalise sum into [1, 2) and invert. */
        usum = (uint32_t)sum;
        headroom = 0;
        while (headroom < 32 && !(usum & 0x80000000u)) {
            usum <<= 1;
            ++headroom;
        }
        bits_over_unit = TM_SM_ACC_INT_BITS - headroom;
        shifted_scale = tm_k_fx_one_over_one_plus_x(
            (int32_t)(usum - 0x80000000u));
        exponent = bits_over_unit + 31 - 8;
        if (exponent > 31) {
            /* Only rows of >= 512 near-equal values get here; TFLM aborts
             * (TFLITE_CHECK) there. Clamp so the shift stays defined. */
            exponent = 31;
        }
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)row[c] - max_v;
            if (diff >= diff_min) {
                const int32_t scaled = tm_aot_srdhm(
                    (int32_t)((uint32_t)diff << beta_shift), beta_multiplier);
                const int32_t e = tm_k_fx_exp_neg(scaled, TM_SM_DIFF_INT_BITS);
                int32_t v = tm_aot_rdpot(tm_aot_srdhm(shifted_scale, e),
                                          exponent) - 128;
                orow[c] = (int8_t)tm_aot_clamp(v, -128, 127);
            } else {
                orow[c] = -128;
            }
        }
    }
}
