/* int8 MEAN over contiguous axes, bit-exact with TFLM's QuantizedMeanOrSum.
 * The pip TFLM runtime takes this requantizing path even when input and
 * output quantization are equal (checked against it), so there is no
 * truncating-division variant. */
#include "tm_k_misc.h"

void tm_k_mean_s8(const int8_t *in, int8_t *out, int32_t outer,
                  int32_t reduce, int32_t inner, int32_t in_zp,
                  int32_t out_zp, int32_t multiplier, int32_t shift)
{
    int32_t o, r, i;
    for (o = 0; o < outer; ++o) {
        const int8_t *base = in + o * reduce * inner;
        for (i = 0; i < inner; ++i) {
            int32_t sum = 0;
            int32_t v;
            for (r = 0; r < reduce; ++r) {
                sum += base[r * inner + i];
            }
            sum -= in_zp * reduce;
            v = tm_aot_mul_by_qm(sum, multiplier, (int)shift) + out_zp;
            out[o * inner + i] = (int8_t)tm_aot_clamp(v, -128, 127);
        }
    }
}
