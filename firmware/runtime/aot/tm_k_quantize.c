/* QUANTIZE (float->int8, int8->int8) and DEQUANTIZE (int8->float). */
#include "tm_k_misc.h"

void tm_k_requantize_s8(const int8_t *in, int8_t *out, int32_t size,
                        int32_t in_zp, int32_t out_zp, int32_t multiplier,
                        int32_t shift)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        int32_t v = tm_aot_mul_by_qm((int32_t)in[i] - in_zp, multiplier, (int)shift)
                    + out_zp;
        out[i] = (int8_t)tm_aot_clamp(v, -128, 127);
    }
}

void tm_k_quantize_f32_s8(const void *in, int8_t *out, int32_t size,
                          float scale, int32_t zp)
{
    const unsigned char *src = (const unsigned char *)in;
    int32_t i;
    for (i = 0; i < size; ++i) {
        /* Single-precision divide like TFLM, then round half away from zero
         * (std::round). Clamp before converting so huge values stay defined;
         * NaN compares false everywhere and ends up as the zero point. */
        float x;
        float q;
        int32_t v;
        memcpy(&x, src + (size_t)i * sizeof x, sizeof x);
        q = x / scale;
        if (q >= 256.0f) {
            v = 127;
        } else if (q <= -256.0f) {
            v = -128;
        } else if (q != q) {
            v = zp;
        } else {
            /* std::round: truncate, then step away from zero at >= .5; the
             * fraction q - trunc(q) is exact in float for |q| < 256. */
            int32_t t = (int32_t)q;
            const float frac = q - (float)t;
            if (frac >= 0.5f) {
                ++t;
            } else if (frac <= -0.5f) {
                --t;
            }
            v = tm_aot_clamp(t + zp, -128, 127);
        }
        out[i] = (int8_t)v;
    }
}

void tm_k_dequantize_s8_f32(const int8_t *in, void *out, int32_t size,
                            float scale, int32_t zp)
{
    unsigned char *dst = (unsigned char *)out;
    int32_t i;
    for (i = 0; i < size; ++i) {
        /* TFLM computes in double and narrows; the double product of a float
         * and a small integer is exact, so one float multiply rounds alike. */
        const float y = scale * (float)((int32_t)in[i] - zp);
        memcpy(dst + (size_t)i * sizeof y, &y, sizeof y);
    }
}
