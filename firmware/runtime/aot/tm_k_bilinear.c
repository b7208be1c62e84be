/* tm_k_bilinear.c - int8 RESIZE_BILINEAR (TFLM reference_ops::ResizeBilinearInteger,
 * 10-bit fixed-point weights). The compiler gives, per output row and column, the
 * two source offsets and the fraction (input position - 1024 * lower index), so the
 * kernel does no division. Sums stay in int32: the compiler checks the bound. */
#include "tm_k_misc.h"

void tm_k_resize_bilinear_s8(const int8_t *in, int8_t *out, int32_t batches,
                             int32_t batch_stride, int32_t out_h, int32_t out_w,
                             int32_t depth, const int32_t *rows, const int32_t *cols)
{
    int32_t b, y, x, c;
    for (b = 0; b < batches; ++b) {
        const int8_t *ib = in + b * batch_stride;
        for (y = 0; y < out_h; ++y) {
            const int8_t *r0 = ib + rows[3 * y], *r1 = ib + rows[3 * y + 1];
            const int32_t fy = rows[3 * y + 2];
            for (x = 0; x < out_w; ++x) {
                const int32_t c0 = cols[3 * x], c1 = cols[3 * x + 1], fx = cols[3 * x + 2];
                const int32_t w00 = (1024 - fy) * (1024 - fx), w10 = fy * (1024 - fx);
                const int32_t w01 = (1024 - fy) * fx, w11 = fy * fx;
                for (c = 0; c < depth; ++c) {
                    const int32_t s = r0[c0 + c] * w00 + r1[c0 + c] * w10 +
                                      r0[c1 + c] * w01 + r1[c1 + c] * w11;
                    /* TFLM rounds half away from zero, then divides truncating */
                    *out++ = (int8_t)((s + (s > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
                }
            }
        }
    }
}
