/* tm_k_strided.c - int8 data movement, byte copies as TFLM's reference kernels:
 * a strided copy over up to 6 dims (TRANSPOSE, SLICE, STRIDED_SLICE, SPLIT,
 * SPLIT_V, UNPACK), GATHER along one axis and RESIZE_NEAREST_NEIGHBOR. All
 * offsets and index tables come from the compiler, which checked them against the
 * input's size: no kernel can read or write out of its tensors. */
#include <string.h>

#include "tm_k_misc.h"

void tm_k_strided_copy_s8(const int8_t *in, int8_t *out, const int32_t out_shape[6],
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

void tm_k_gather_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis_len,
                    int32_t inner, const int32_t *index, int32_t n_index)
{
    int32_t o, j;
    for (o = 0; o < outer; ++o) {
        const int8_t *base = in + o * axis_len * inner;
        for (j = 0; j < n_index; ++j) {
            memcpy(out, base + index[j] * inner, (size_t)inner);
            out += inner;
        }
    }
}

void tm_k_resize_nearest_s8(const int8_t *in, int8_t *out, int32_t batches,
                            int32_t batch_stride, int32_t out_h, int32_t out_w,
                            int32_t depth, const int32_t *row_offset,
                            const int32_t *col_offset)
{
    int32_t b, y, x;
    for (b = 0; b < batches; ++b) {
        const int8_t *ib = in + b * batch_stride;
        for (y = 0; y < out_h; ++y) {
            const int8_t *iy = ib + row_offset[y];
            for (x = 0; x < out_w; ++x) {
                memcpy(out, iy + col_offset[x], (size_t)depth);
                out += depth;
            }
        }
    }
}
