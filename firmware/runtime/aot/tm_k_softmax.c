/* int8 softmax, bit-exact with TFLM's reference_ops::Softmax<int8_t,int8_t>:
 * the input difference to the row maximum is rescaled into Q5.26, exp() is
 * gemmlowp's fixed-point exp_on_negative_values, the sum is kept in Q12.19
 * and the reciprocal comes from gemmlowp's Newton-Raphson 1/(1+x) (both in
 * tm_aot_fx.h). */
#include "tm_k_misc.h"

#define TM_SM_DIFF_INT_BITS 5  /* Q5.26 scaled input difference */
#define TM_SM_ACC_INT_BITS 12  /* Q12.19 sum of exps */

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
                const int32_t e = tm_aot_fx_exp_neg(scaled, TM_SM_DIFF_INT_BITS);
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
        shifted_scale = tm_aot_fx_one_over_one_plus_x(
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
                const int32_t e = tm_aot_fx_exp_neg(scaled, TM_SM_DIFF_INT_BITS);
                int32_t v = tm_aot_rdpot(tm_aot_srdhm(shifted_scale, e),
                                          exponent) - 128;
                orow[c] = (int8_t)tm_aot_clamp(v, -128, 127);
            } else {
                orow[c] = -128;
            }
        }
    }
}
