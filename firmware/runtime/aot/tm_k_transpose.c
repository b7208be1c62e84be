/* int8 TRANSPOSE (TFLM reference_ops::Transpose), rank <= 6: a byte copy in
 * permuted order. The compiler passes the output shape and, per output axis,
 * the input stride, both left-padded to rank 6. */
#include "tm_k_misc.h"

void tm_k_transpose_s8(const int8_t *in, int8_t *out, const int32_t out_shape[6],
                       const int32_t in_stride[6])
{
    int32_t i0, i1, i2, i3, i4, i5;
    int8_t *o = out;
    for (i0 = 0; i0 < out_shape[0]; ++i0) {
        const int8_t *p0 = in + i0 * in_stride[0];
        for (i1 = 0; i1 < out_shape[1]; ++i1) {
            const int8_t *p1 = p0 + i1 * in_stride[1];
            for (i2 = 0; i2 < out_shape[2]; ++i2) {
                const int8_t *p2 = p1 + i2 * in_stride[2];
                for (i3 = 0; i3 < out_shape[3]; ++i3) {
                    const int8_t *p3 = p2 + i3 * in_stride[3];
                    for (i4 = 0; i4 < out_shape[4]; ++i4) {
                        const int8_t *p4 = p3 + i4 * in_stride[4];
                        const int32_t s5 = in_stride[5];
                        for (i5 = 0; i5 < out_shape[5]; ++i5) {
                            *o++ = p4[i5 * s5];
                        }
                    }
                }
            }
        }
    }
}
