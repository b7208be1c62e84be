/* tm_aot_ref.h - the portable inner products of the kernels (plain C99; the
 * compiler may vectorize them where the target allows). tm_aot_dot.h picks
 * these or an ISA's variant (tm_aot_arm_dsp.h) for each kernel family. */
#ifndef TM_AOT_REF_H
#define TM_AOT_REF_H

#include "tm_aot.h"

/* acc + sum(a[i] * b[i]) for i < n. */
TM_AOT_INLINE int32_t tm_ref_dot_s8(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}

/* Two dot products sharing the `a` operand (two output channels per pass). */
TM_AOT_INLINE void tm_ref_dot2_s8(const int8_t *a, const int8_t *b0, const int8_t *b1,
                                  int32_t n, int32_t *acc0, int32_t *acc1)
{
    int32_t s0 = *acc0, s1 = *acc1;
    int32_t i;
    for (i = 0; i < n; ++i) {
        s0 += (int32_t)a[i] * (int32_t)b0[i];
        s1 += (int32_t)a[i] * (int32_t)b1[i];
    }
    *acc0 = s0;
    *acc1 = s1;
}

/* 2x2 block: acc[0] += x0.w0, acc[1] += x0.w1, acc[2] += x1.w0, acc[3] += x1.w1. */
TM_AOT_INLINE void tm_ref_dot2x2_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0,
                                    const int8_t *w1, int32_t n, int32_t *acc)
{
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t a0 = x0[i], a1 = x1[i], b0 = w0[i], b1 = w1[i];
        s00 += a0 * b0;
        s01 += a0 * b1;
        s10 += a1 * b0;
        s11 += a1 * b1;
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
}

/* Depthwise: acc[j] += taps[t][c + j] * w[t * nc + j] for j < 4, over every tap. */
TM_AOT_INLINE void tm_ref_dw_mac4(const int8_t *const *taps, int32_t ntaps, int32_t c,
                                  const int8_t *w, size_t nc, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t t;
    for (t = 0; t < ntaps; ++t, w += nc) {
        const int8_t *x = taps[t] + c;
        a0 += (int32_t)x[0] * w[0];
        a1 += (int32_t)x[1] * w[1];
        a2 += (int32_t)x[2] * w[2];
        a3 += (int32_t)x[3] * w[3];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Four bytes packed little-endian in v, stored with no alignment assumption. */
TM_AOT_INLINE void tm_ref_store4(int8_t *y, uint32_t v)
{
    y[0] = (int8_t)(v & 0xffu);
    y[1] = (int8_t)((v >> 8) & 0xffu);
    y[2] = (int8_t)((v >> 16) & 0xffu);
    y[3] = (int8_t)(v >> 24);
}

#endif /* TM_AOT_REF_H */
