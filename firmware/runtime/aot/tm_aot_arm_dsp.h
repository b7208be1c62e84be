/* tm_aot_arm_dsp.h - the Arm DSP-extension variant of the kernels' inner products
 * (Cortex-M4/M7/M33/M55; tm_aot_dot.h selects it). SXTB16 sign-extends two int8 lanes
 * into int16 halves and SMLAD multiplies and adds both: 2 MACs per instruction.
 * Integer sums are exact, so the results equal the portable references'. */
#ifndef TM_AOT_ARM_DSP_H
#define TM_AOT_ARM_DSP_H

#include <string.h>

#include <arm_acle.h>

#include "tm_aot.h"

/* Unaligned 32-bit load of four int8 values (memcpy compiles to one LDR on M4). */
TM_AOT_INLINE int32_t tm_dsp_load4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* SXTB16 of the value rotated right by 8: sign-extended bytes 1 and 3. */
TM_AOT_INLINE int32_t tm_dsp_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* acc + sum(a[i] * b[i]) for i < n. */
TM_AOT_INLINE int32_t tm_dsp_dot_s8(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t va = tm_dsp_load4(a + i);
        const int32_t vb = tm_dsp_load4(b + i);
        acc = __smlad(__sxtb16(va), __sxtb16(vb), acc);
        acc = __smlad(tm_dsp_sxtb16_ror8(va), tm_dsp_sxtb16_ror8(vb), acc);
    }
    for (; i < n; ++i) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}

/* Two dot products sharing the `a` operand (two output channels per pass). */
TM_AOT_INLINE void tm_dsp_dot2_s8(const int8_t *a, const int8_t *b0, const int8_t *b1,
                                  int32_t n, int32_t *acc0, int32_t *acc1)
{
    int32_t s0 = *acc0, s1 = *acc1;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t va = tm_dsp_load4(a + i);
        const int32_t v0 = tm_dsp_load4(b0 + i);
        const int32_t v1 = tm_dsp_load4(b1 + i);
        const int32_t a02 = __sxtb16(va);
        const int32_t a13 = tm_dsp_sxtb16_ror8(va);
        s0 = __smlad(a02, __sxtb16(v0), s0);
        s0 = __smlad(a13, tm_dsp_sxtb16_ror8(v0), s0);
        s1 = __smlad(a02, __sxtb16(v1), s1);
        s1 = __smlad(a13, tm_dsp_sxtb16_ror8(v1), s1);
    }
    for (; i < n; ++i) {
        s0 += (int32_t)a[i] * (int32_t)b0[i];
        s1 += (int32_t)a[i] * (int32_t)b1[i];
    }
    *acc0 = s0;
    *acc1 = s1;
}

/* 2x2 block: inputs x0, x1 (two pixels) times weights w0, w1 (two channels).
 * acc[0] += x0.w0, acc[1] += x0.w1, acc[2] += x1.w0, acc[3] += x1.w1.
 * Each loaded word feeds two SMLADs: 16 MACs per 4 loads. */
TM_AOT_INLINE void tm_dsp_dot2x2_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0,
                                    const int8_t *w1, int32_t n, int32_t *acc)
{
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t vw0 = tm_dsp_load4(w0 + i);
        const int32_t vw1 = tm_dsp_load4(w1 + i);
        const int32_t w0e = __sxtb16(vw0), w0o = tm_dsp_sxtb16_ror8(vw0);
        const int32_t w1e = __sxtb16(vw1), w1o = tm_dsp_sxtb16_ror8(vw1);
        int32_t vx = tm_dsp_load4(x0 + i);
        int32_t xe = __sxtb16(vx), xo = tm_dsp_sxtb16_ror8(vx);
        s00 = __smlad(xe, w0e, s00);
        s00 = __smlad(xo, w0o, s00);
        s01 = __smlad(xe, w1e, s01);
        s01 = __smlad(xo, w1o, s01);
        vx = tm_dsp_load4(x1 + i);
        xe = __sxtb16(vx);
        xo = tm_dsp_sxtb16_ror8(vx);
        s10 = __smlad(xe, w0e, s10);
        s10 = __smlad(xo, w0o, s10);
        s11 = __smlad(xe, w1e, s11);
        s11 = __smlad(xo, w1o, s11);
    }
    for (; i < n; ++i) {
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

/* Depthwise, four channels per word: SXTB16 splits a word into two int16 pairs
 * and the halfword multiplies SMLABB/SMLATT accumulate each lane. */
TM_AOT_INLINE void tm_dsp_dw_mac4(const int8_t *const *taps, int32_t ntaps, int32_t c,
                                  const int8_t *w, size_t nc, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t t;
    for (t = 0; t < ntaps; ++t, w += nc) {
        const int32_t vx = tm_dsp_load4(taps[t] + c);
        const int32_t vw = tm_dsp_load4(w);
        const int32_t xe = __sxtb16(vx), xo = tm_dsp_sxtb16_ror8(vx);
        const int32_t we = __sxtb16(vw), wo = tm_dsp_sxtb16_ror8(vw);
        a0 = __smlabb(xe, we, a0);
        a1 = __smlabb(xo, wo, a1);
        a2 = __smlatt(xe, we, a2);
        a3 = __smlatt(xo, wo, a3);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* One STR (unaligned stores are fine on Cortex-M4). */
TM_AOT_INLINE void tm_dsp_store4(int8_t *y, uint32_t v)
{
    memcpy(y, &v, 4);
}

#endif /* TM_AOT_ARM_DSP_H */
