/* int8 logistic, bit-exact with TFLM's reference_integer_ops::Logistic:
 * input rescaled to Q4.27, gemmlowp's fixed-point logistic, output scale
 * 1/256 with zero point -128. */
#include "tm_k_misc.h"

#define TM_LG_IN_INT_BITS 4

void tm_k_logistic_s8(const int8_t *in, int8_t *out, int32_t size,
                      int32_t in_zp, int32_t range_radius,
                      int32_t multiplier, int32_t shift)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t x = (int32_t)in[i] - in_zp;
        if (x <= -range_radius) {
            out[i] = -128;
        } else if (x >= range_radius) {
            out[i] = 127;
        } else {
            const int32_t a = tm_aot_mul_by_qm(x, multiplier, (int)shift); /* Q4.27 */
            int32_t r; /* Q0.31 */
            int32_t v;
            if (a == 0) {
                r = (int32_t)1 << 30; /* 0.5 */
            } else {
                const int32_t abs_a = a > 0 ? a : -a;
                const int32_t pos = tm_aot_fx_one_over_one_plus_x(
                    tm_aot_fx_exp_neg(-abs_a, TM_LG_IN_INT_BITS));
                r = a > 0 ? pos : INT32_MAX - pos;
            }
            v = tm_aot_rdpot(r, 23) - 128; /* Q0.31 -> Q8.23, zp -128 */
            out[i] = (int8_t)tm_aot_clamp(v, -128, 127);
        }
    }
}
