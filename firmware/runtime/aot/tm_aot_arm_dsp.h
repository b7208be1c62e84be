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

/* ---- CONV_2D / FULLY_CONNECTED panels (tm_k_conv.c, tm_k_fc.c) ----
 * The weights come interleaved by the compiler (tinyml/codegen/aot/ops/layout.py):
 * groups of 4 output channels (the last group may be smaller, nb channels), and
 * inside a group, for every 4 k-bytes ("quad"), the quad of each channel in turn:
 * 4 * nb consecutive bytes per quad. The input vector of a pixel is expanded once
 * to int16 pairs in the same lane order SXTB16 gives the weights: per quad the
 * words (x0, x2) and (x1, x3); every output channel then reuses it, so a weight
 * word costs one load (shared by two pixels), two SXTB16 and SMLADs only. */
typedef int32_t tm_dsp_w32_t __attribute__((may_alias, aligned(4)));

/* 2-pixel panel: per quad (x0e, x0o, x1e, x1o); 1-pixel panel: per quad (xe, xo). */
typedef struct { const tm_dsp_w32_t *x; } tm_dsp_xp2_t;
typedef struct { const tm_dsp_w32_t *x; } tm_dsp_xp1_t;

/* Four int8 values of x (n - i of them valid when fewer than 4 remain, zeros after). */
TM_AOT_INLINE int32_t tm_dsp_load4_tail(const int8_t *x, int32_t i, int32_t n)
{
    uint32_t v = 0;
    int32_t j;
    if (i + 4 <= n) {
        return tm_dsp_load4(x + i);
    }
    for (j = 0; i + j < n; ++j) {
        v |= (uint32_t)(uint8_t)x[i + j] << (8 * j);
    }
    return (int32_t)v;
}

/* Panels of kq quads from n input bytes (n <= 4 * kq; missing bytes are zeros).
 * buf: 16 * kq bytes (two pixels) or 8 * kq (one), word aligned. */
TM_AOT_INLINE tm_dsp_xp2_t tm_dsp_xprep2(const int8_t *x0, const int8_t *x1, int32_t n,
                                         int32_t kq, int8_t *buf)
{
    tm_dsp_w32_t *o = (tm_dsp_w32_t *)(void *)buf;
    tm_dsp_xp2_t r;
    int32_t q;
    for (q = 0; q < kq; ++q, o += 4) {
        const int32_t v0 = tm_dsp_load4_tail(x0, 4 * q, n);
        const int32_t v1 = tm_dsp_load4_tail(x1, 4 * q, n);
        o[0] = __sxtb16(v0);
        o[1] = tm_dsp_sxtb16_ror8(v0);
        o[2] = __sxtb16(v1);
        o[3] = tm_dsp_sxtb16_ror8(v1);
    }
    r.x = (const tm_dsp_w32_t *)(const void *)buf;
    return r;
}

TM_AOT_INLINE tm_dsp_xp1_t tm_dsp_xprep1(const int8_t *x, int32_t n, int32_t kq, int8_t *buf)
{
    tm_dsp_w32_t *o = (tm_dsp_w32_t *)(void *)buf;
    tm_dsp_xp1_t r;
    int32_t q;
    for (q = 0; q < kq; ++q, o += 2) {
        const int32_t v = tm_dsp_load4_tail(x, 4 * q, n);
        o[0] = __sxtb16(v);
        o[1] = tm_dsp_sxtb16_ror8(v);
    }
    r.x = (const tm_dsp_w32_t *)(const void *)buf;
    return r;
}

/* im2col straight into a 2-pixel panel of kq quads: nq quads of src as quads
 * q0.. of pixel `slot` (0 or 1); tm_dsp_pan2_fill writes the byte zp there instead. */
TM_AOT_INLINE void tm_dsp_pan2_quads(int8_t *buf, int32_t kq, int32_t slot, int32_t q0,
                                     const int8_t *src, int32_t nq)
{
    tm_dsp_w32_t *o = (tm_dsp_w32_t *)(void *)buf + 4 * q0 + 2 * slot;
    int32_t i;
    (void)kq;
    for (i = 0; i < nq; ++i, o += 4, src += 4) {
        const int32_t v = tm_dsp_load4(src);
        o[0] = __sxtb16(v);
        o[1] = tm_dsp_sxtb16_ror8(v);
    }
}

TM_AOT_INLINE void tm_dsp_pan2_fill(int8_t *buf, int32_t kq, int32_t slot, int32_t q0, int32_t zp,
                                    int32_t nq)
{
    tm_dsp_w32_t *o = (tm_dsp_w32_t *)(void *)buf + 4 * q0 + 2 * slot;
    const int32_t v = __sxtb16((int32_t)((uint32_t)(uint8_t)zp * 0x01010101u));
    int32_t i;
    (void)kq;
    for (i = 0; i < nq; ++i, o += 4) {
        o[0] = v;
        o[1] = v;
    }
}

TM_AOT_INLINE tm_dsp_xp2_t tm_dsp_xpan2(const int8_t *buf, int32_t kq)
{
    tm_dsp_xp2_t r;
    (void)kq;
    r.x = (const tm_dsp_w32_t *)(const void *)buf;
    return r;
}

/* 2 pixels x 2 channels: the channels' quads are adjacent (8 bytes), quads `ws`
 * bytes apart. a[0] += x0.w0, a[1] += x0.w1, a[2] += x1.w0, a[3] += x1.w1. */
TM_AOT_INLINE void tm_dsp_mm2x2(const tm_dsp_w32_t *x, const int8_t *w, int32_t kq, int32_t ws,
                                int32_t *a)
{
    int32_t s00 = a[0], s01 = a[1], s10 = a[2], s11 = a[3];
    const int8_t *const end = w + (size_t)kq * (size_t)ws;
    for (; w != end; w += ws, x += 4) {
        const tm_dsp_w32_t *wp = (const tm_dsp_w32_t *)(const void *)w;
        const int32_t x0e = x[0], x0o = x[1], x1e = x[2], x1o = x[3];
        const int32_t wa = wp[0], wb = wp[1];
        int32_t e = __sxtb16(wa), o = tm_dsp_sxtb16_ror8(wa);
        s00 = __smlad(x0e, e, s00);
        s00 = __smlad(x0o, o, s00);
        s10 = __smlad(x1e, e, s10);
        s10 = __smlad(x1o, o, s10);
        e = __sxtb16(wb);
        o = tm_dsp_sxtb16_ror8(wb);
        s01 = __smlad(x0e, e, s01);
        s01 = __smlad(x0o, o, s01);
        s11 = __smlad(x1e, e, s11);
        s11 = __smlad(x1o, o, s11);
    }
    a[0] = s00;
    a[1] = s01;
    a[2] = s10;
    a[3] = s11;
}

/* tm_dsp_mm2x2 for a full group (quads 16 bytes apart), as one hand-scheduled loop
 * of 17 instructions per quad (two LDRD of the panel quad, two LDR of the weight
 * words, 4 SXTB16, 8 SMLAD; CMP and BNE once per two quads; 13 registers): gcc's
 * own schedule of the C loop takes 20. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__thumb2__) && defined(__OPTIMIZE__)
/* One quad: both pixels' panel words, then the group's two weight words. */
#define TM_DSP_MM2X2_QUAD \
    "ldrd %[x0e], %[x0o], [%[x]], #16\n\t" \
    "ldrd %[x1e], %[x1o], [%[x], #-8]\n\t" \
    "ldr %[v], [%[w]], #16\n\t" \
    "sxtb16 %[t], %[v]\n\t" \
    "smlad %[s00], %[x0e], %[t], %[s00]\n\t" \
    "smlad %[s10], %[x1e], %[t], %[s10]\n\t" \
    "sxtb16 %[t], %[v], ror #8\n\t" \
    "smlad %[s00], %[x0o], %[t], %[s00]\n\t" \
    "smlad %[s10], %[x1o], %[t], %[s10]\n\t" \
    "ldr %[v], [%[w], #-12]\n\t" \
    "sxtb16 %[t], %[v]\n\t" \
    "smlad %[s01], %[x0e], %[t], %[s01]\n\t" \
    "smlad %[s11], %[x1e], %[t], %[s11]\n\t" \
    "sxtb16 %[t], %[v], ror #8\n\t" \
    "smlad %[s01], %[x0o], %[t], %[s01]\n\t" \
    "smlad %[s11], %[x1o], %[t], %[s11]\n\t"

TM_AOT_INLINE void tm_dsp_mm2x2_g4(const tm_dsp_w32_t *x, const int8_t *w, int32_t kq, int32_t *a)
{
    int32_t s00, s01, s10, s11;
    const int8_t *end;
    int32_t x0e, x0o, x1e, x1o, v, t;
    if (kq & 1) {           /* an odd first quad in C: the loop takes two per pass */
        tm_dsp_mm2x2(x, w, 1, 16, a);
        x += 4;
        w += 16;
        --kq;
    }
    s00 = a[0];
    s01 = a[1];
    s10 = a[2];
    s11 = a[3];
    end = w + (size_t)kq * 16u;
    if (kq > 0) {
        __asm__ volatile(
            "1:\n\t"
            TM_DSP_MM2X2_QUAD
            TM_DSP_MM2X2_QUAD
            "cmp %[w], %[end]\n\t"
            "bne 1b\n\t"
            : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11),
              [x] "+r"(x), [w] "+r"(w), [x0e] "=&r"(x0e), [x0o] "=&r"(x0o),
              [x1e] "=&r"(x1e), [x1o] "=&r"(x1o), [v] "=&r"(v), [t] "=&r"(t)
            : [end] "r"(end), "m"(*(const char (*)[])(const void *)x),
              "m"(*(const char (*)[])(const void *)w)
            : "cc");
    }
    a[0] = s00;
    a[1] = s01;
    a[2] = s10;
    a[3] = s11;
}
#undef TM_DSP_MM2X2_QUAD
#else
TM_AOT_INLINE void tm_dsp_mm2x2_g4(const tm_dsp_w32_t *x, const int8_t *w, int32_t kq, int32_t *a)
{
    tm_dsp_mm2x2(x, w, kq, 16, a);
}
#endif

/* 2 pixels x 1 channel: a[0] += x0.w, a[1] += x1.w. */
TM_AOT_INLINE void tm_dsp_mm2x1(const tm_dsp_w32_t *x, const int8_t *w, int32_t kq, int32_t ws,
                                int32_t *a)
{
    int32_t s0 = a[0], s1 = a[1];
    const int8_t *const end = w + (size_t)kq * (size_t)ws;
    for (; w != end; w += ws, x += 4) {
        const int32_t wa = *(const tm_dsp_w32_t *)(const void *)w;
        const int32_t e = __sxtb16(wa), o = tm_dsp_sxtb16_ror8(wa);
        s0 = __smlad(x[0], e, s0);
        s0 = __smlad(x[1], o, s0);
        s1 = __smlad(x[2], e, s1);
        s1 = __smlad(x[3], o, s1);
    }
    a[0] = s0;
    a[1] = s1;
}

/* 2 pixels x a group of 4 channels: acc[j] pixel 0, acc[4 + j] pixel 1. */
TM_AOT_INLINE void tm_dsp_mm2_4(tm_dsp_xp2_t xp, const int8_t *w, int32_t kq, int32_t *acc)
{
    int32_t a[4];
    a[0] = acc[0]; a[1] = acc[1]; a[2] = acc[4]; a[3] = acc[5];
    tm_dsp_mm2x2_g4(xp.x, w, kq, a);
    acc[0] = a[0]; acc[1] = a[1]; acc[4] = a[2]; acc[5] = a[3];
    a[0] = acc[2]; a[1] = acc[3]; a[2] = acc[6]; a[3] = acc[7];
    tm_dsp_mm2x2_g4(xp.x, w + 8, kq, a);
    acc[2] = a[0]; acc[3] = a[1]; acc[6] = a[2]; acc[7] = a[3];
}

/* 2 pixels x a last group of nb (1..3) channels. */
TM_AOT_INLINE void tm_dsp_mm2_n(tm_dsp_xp2_t xp, const int8_t *w, int32_t kq, int32_t nb,
                                int32_t *acc)
{
    const int32_t ws = 4 * nb;
    int32_t a[4];
    int32_t j = 0;
    if (nb >= 2) {
        a[0] = acc[0]; a[1] = acc[1]; a[2] = acc[4]; a[3] = acc[5];
        tm_dsp_mm2x2(xp.x, w, kq, ws, a);
        acc[0] = a[0]; acc[1] = a[1]; acc[4] = a[2]; acc[5] = a[3];
        j = 2;
    }
    if (nb & 1) {
        a[0] = acc[j]; a[1] = acc[4 + j];
        tm_dsp_mm2x1(xp.x, w + 4 * j, kq, ws, a);
        acc[j] = a[0]; acc[4 + j] = a[1];
    }
}

/* 1 pixel x nb (1..4) channels of a group (quads 4 * nb bytes apart). */
TM_AOT_INLINE void tm_dsp_mm1_k(tm_dsp_xp1_t xp, const int8_t *w, int32_t kq, const int32_t nb,
                                int32_t *acc)
{
    int32_t s0 = acc[0], s1 = nb > 1 ? acc[1] : 0, s2 = nb > 2 ? acc[2] : 0;
    int32_t s3 = nb > 3 ? acc[3] : 0;
    const tm_dsp_w32_t *x = xp.x;
    const tm_dsp_w32_t *wp = (const tm_dsp_w32_t *)(const void *)w;
    const tm_dsp_w32_t *const end = wp + (size_t)kq * (size_t)nb;
    for (; wp != end; wp += nb, x += 2) {
        const int32_t xe = x[0], xo = x[1];
        int32_t v = wp[0];
        s0 = __smlad(xe, __sxtb16(v), s0);
        s0 = __smlad(xo, tm_dsp_sxtb16_ror8(v), s0);
        if (nb > 1) {
            v = wp[1];
            s1 = __smlad(xe, __sxtb16(v), s1);
            s1 = __smlad(xo, tm_dsp_sxtb16_ror8(v), s1);
        }
        if (nb > 2) {
            v = wp[2];
            s2 = __smlad(xe, __sxtb16(v), s2);
            s2 = __smlad(xo, tm_dsp_sxtb16_ror8(v), s2);
        }
        if (nb > 3) {
            v = wp[3];
            s3 = __smlad(xe, __sxtb16(v), s3);
            s3 = __smlad(xo, tm_dsp_sxtb16_ror8(v), s3);
        }
    }
    acc[0] = s0;
    if (nb > 1) { acc[1] = s1; }
    if (nb > 2) { acc[2] = s2; }
    if (nb > 3) { acc[3] = s3; }
}

/* 1 pixel x a group of 4 channels, the input int8 in place (kq whole quads of x):
 * FULLY_CONNECTED, where the expansion would not be shared by a second pixel. */
TM_AOT_INLINE void tm_dsp_mm1s_4_c(const int8_t *x, const int8_t *w, int32_t kq, int32_t *acc)
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    const tm_dsp_w32_t *wp = (const tm_dsp_w32_t *)(const void *)w;
    const tm_dsp_w32_t *const end = wp + (size_t)kq * 4u;
    for (; wp != end; wp += 4, x += 4) {
        const int32_t v = tm_dsp_load4(x);
        const int32_t xe = __sxtb16(v), xo = tm_dsp_sxtb16_ror8(v);
        int32_t u = wp[0];
        s0 = __smlad(xe, __sxtb16(u), s0);
        s0 = __smlad(xo, tm_dsp_sxtb16_ror8(u), s0);
        u = wp[1];
        s1 = __smlad(xe, __sxtb16(u), s1);
        s1 = __smlad(xo, tm_dsp_sxtb16_ror8(u), s1);
        u = wp[2];
        s2 = __smlad(xe, __sxtb16(u), s2);
        s2 = __smlad(xo, tm_dsp_sxtb16_ror8(u), s2);
        u = wp[3];
        s3 = __smlad(xe, __sxtb16(u), s3);
        s3 = __smlad(xo, tm_dsp_sxtb16_ror8(u), s3);
    }
    acc[0] = s0; acc[1] = s1; acc[2] = s2; acc[3] = s3;
}

/* One quad of 1 pixel x 4 channels after the pixel's int16 pairs are in xe, xo: two
 * LDRD of the four weight words, 8 SXTB16, 8 SMLAD (shared by the two loops below). */
#define TM_DSP_W4_QUAD \
    "ldrd %[wa], %[wb], [%[w]], #8\n\t" \
    "sxtb16 %[t], %[wa]\n\t" \
    "smlad %[s0], %[xe], %[t], %[s0]\n\t" \
    "sxtb16 %[t], %[wa], ror #8\n\t" \
    "smlad %[s0], %[xo], %[t], %[s0]\n\t" \
    "sxtb16 %[t], %[wb]\n\t" \
    "smlad %[s1], %[xe], %[t], %[s1]\n\t" \
    "sxtb16 %[t], %[wb], ror #8\n\t" \
    "smlad %[s1], %[xo], %[t], %[s1]\n\t" \
    "ldrd %[wa], %[wb], [%[w]], #8\n\t" \
    "sxtb16 %[t], %[wa]\n\t" \
    "smlad %[s2], %[xe], %[t], %[s2]\n\t" \
    "sxtb16 %[t], %[wa], ror #8\n\t" \
    "smlad %[s2], %[xo], %[t], %[s2]\n\t" \
    "sxtb16 %[t], %[wb]\n\t" \
    "smlad %[s3], %[xe], %[t], %[s3]\n\t" \
    "sxtb16 %[t], %[wb], ror #8\n\t" \
    "smlad %[s3], %[xo], %[t], %[s3]\n\t"

/* The same, with gcc -O two quads per pass in inline asm (per quad: LDR of the input
 * word and its two SXTB16, two LDRD of the four weight words, 8 SXTB16, 8 SMLAD;
 * CMP and BNE once per two quads; 13 registers): 22 instructions per 16 MACs
 * against gcc's 25. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__thumb2__) && defined(__OPTIMIZE__)
#define TM_DSP_MM1S_4_QUAD \
    "ldr %[v], [%[x]], #4\n\t" \
    "sxtb16 %[xe], %[v]\n\t" \
    "sxtb16 %[xo], %[v], ror #8\n\t" \
    TM_DSP_W4_QUAD

TM_AOT_INLINE void tm_dsp_mm1s_4(const int8_t *x, const int8_t *w, int32_t kq, int32_t *acc)
{
    const int8_t *end;
    int32_t s0, s1, s2, s3, v, xe, xo, wa, wb, t;
    if (kq & 1) {           /* an odd first quad in C: the loop takes two per pass */
        tm_dsp_mm1s_4_c(x, w, 1, acc);
        x += 4;
        w += 16;
        --kq;
    }
    if (kq == 0) {
        return;
    }
    s0 = acc[0];
    s1 = acc[1];
    s2 = acc[2];
    s3 = acc[3];
    end = w + (size_t)kq * 16u;
    __asm__ volatile(
        "1:\n\t"
        TM_DSP_MM1S_4_QUAD
        TM_DSP_MM1S_4_QUAD
        "cmp %[w], %[end]\n\t"
        "bne 1b\n\t"
        : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [x] "+r"(x), [w] "+r"(w),
          [v] "=&r"(v), [xe] "=&r"(xe), [xo] "=&r"(xo), [wa] "=&r"(wa), [wb] "=&r"(wb),
          [t] "=&r"(t)
        : [end] "r"(end)
        : "cc", "memory");
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}
#undef TM_DSP_MM1S_4_QUAD
#else
#define tm_dsp_mm1s_4 tm_dsp_mm1s_4_c
#endif

/* 1 pixel x nb (1..3) channels of a last group, the input int8 in place. */
TM_AOT_INLINE void tm_dsp_mm1s_n(const int8_t *x, const int8_t *w, int32_t kq, int32_t nb,
                                 int32_t *acc)
{
    int32_t j;
    for (j = 0; j < nb; ++j) {
        int32_t s = acc[j];
        const tm_dsp_w32_t *wp = (const tm_dsp_w32_t *)(const void *)w + j;
        int32_t q;
        for (q = 0; q < kq; ++q, wp += nb) {
            const int32_t v = tm_dsp_load4(x + 4 * q), u = *wp;
            s = __smlad(__sxtb16(v), __sxtb16(u), s);
            s = __smlad(tm_dsp_sxtb16_ror8(v), tm_dsp_sxtb16_ror8(u), s);
        }
        acc[j] = s;
    }
}

/* 1 pixel x a group of 4 channels over a panel. With gcc -O, two quads per pass in
 * inline asm (per quad: LDRD of the panel words, two LDRD of the four weight words,
 * 8 SXTB16, 8 SMLAD; CMP and BNE once per two quads; 12 registers): 20 instructions
 * per 16 MACs against 25 for the in-place loop (FULLY_CONNECTED's panel path). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__thumb2__) && defined(__OPTIMIZE__)
#define TM_DSP_MM1_4_QUAD \
    "ldrd %[xe], %[xo], [%[x]], #8\n\t" \
    TM_DSP_W4_QUAD

TM_AOT_INLINE void tm_dsp_mm1_4(tm_dsp_xp1_t xp, const int8_t *w, int32_t kq, int32_t *acc)
{
    const tm_dsp_w32_t *x = xp.x;
    const int8_t *end;
    int32_t s0, s1, s2, s3, xe, xo, wa, wb, t;
    if (kq & 1) {           /* an odd first quad in C: the loop takes two per pass */
        tm_dsp_mm1_k(xp, w, 1, 4, acc);
        x += 2;
        w += 16;
        --kq;
    }
    if (kq == 0) {
        return;
    }
    s0 = acc[0];
    s1 = acc[1];
    s2 = acc[2];
    s3 = acc[3];
    end = w + (size_t)kq * 16u;
    __asm__ volatile(
        "1:\n\t"
        TM_DSP_MM1_4_QUAD
        TM_DSP_MM1_4_QUAD
        "cmp %[w], %[end]\n\t"
        "bne 1b\n\t"
        : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [x] "+r"(x), [w] "+r"(w),
          [xe] "=&r"(xe), [xo] "=&r"(xo), [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t)
        : [end] "r"(end)
        : "cc", "memory");
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}
#undef TM_DSP_MM1_4_QUAD
#else
TM_AOT_INLINE void tm_dsp_mm1_4(tm_dsp_xp1_t xp, const int8_t *w, int32_t kq, int32_t *acc)
{
    tm_dsp_mm1_k(xp, w, kq, 4, acc);
}
#endif
#undef TM_DSP_W4_QUAD

TM_AOT_INLINE void tm_dsp_mm1_n(tm_dsp_xp1_t xp, const int8_t *w, int32_t kq, int32_t nb,
                                int32_t *acc)
{
    if (nb == 3) {
        tm_dsp_mm1_k(xp, w, kq, 3, acc);
    } else if (nb == 2) {
        tm_dsp_mm1_k(xp, w, kq, 2, acc);
    } else {
        tm_dsp_mm1_k(xp, w, kq, 1, acc);
    }
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

/* Depthwise 3x3, one channel of a block of outputs (tm_k_dwconv3x3.c). Weights per
 * kernel row as int16 pairs w01 = (w0 | w1 << 16), w12 = (w1 | w2 << 16); inputs are
 * sign-extended int8 values. Two outputs at stride 1 share the packed pairs (x0, x1),
 * (x2, x3) of a row: SMLAD + SMLABT and SMLATB + SMLAD (6 MACs in 4 instructions). */
typedef int32_t tm_dsp_dw3c_t;

TM_AOT_INLINE int32_t tm_dsp_pkhbt16(int32_t lo, int32_t hi)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

/* A channel's weights: read from its record at each use (LDR / LDRD from flash, as cheap
 * as a spill, and the loop keeps its registers for the row pointers). */
typedef struct {
    const int32_t *r;
} tm_dsp_dw3w_t;

TM_AOT_INLINE tm_dsp_dw3w_t tm_dsp_dw3_wprep(const int32_t *rec)
{
    tm_dsp_dw3w_t w;
    w.r = rec;
    return w;
}

/* q[2 * cs] in one LDRSB with a shifted register offset (no register for 2 cs). */
TM_AOT_INLINE int32_t tm_dsp_dw3_ld2(const int8_t *q, size_t cs)
{
    int32_t x;
    __asm__("ldrsb %0, [%1, %2, lsl #1]" : "=r"(x) : "r"(q), "r"(cs), "m"(*(const int8_t (*)[1])q));
    return x;
}

/* q[4 * cs] likewise (LSL #2). */
TM_AOT_INLINE int32_t tm_dsp_dw3_ld4(const int8_t *q, size_t cs)
{
    int32_t x;
    __asm__("ldrsb %0, [%1, %2, lsl #2]" : "=r"(x) : "r"(q), "r"(cs), "m"(*(const int8_t (*)[1])q));
    return x;
}

/* y[0] = a0, y[cs] = a1 (STRB with a register offset: no second output pointer). */
TM_AOT_INLINE void tm_dsp_dw3_st2(int8_t *y, size_t cs, int32_t a0, int32_t a1)
{
    __asm__("strb %1, [%0]\n\tstrb %2, [%0, %3]" : : "r"(y), "r"(a0), "r"(a1), "r"(cs) : "memory");
}

TM_AOT_INLINE tm_dsp_dw3c_t tm_dsp_dw3_init(int32_t x0, int32_t x1)
{
    return tm_dsp_pkhbt16(x0, x1);
}

/* Outputs at x0 (a0) and x1 (a1) of kernel row k; new columns x2, x3. */
TM_AOT_INLINE void tm_dsp_dw3_pair(tm_dsp_dw3c_t *c, int32_t x2, int32_t x3,
                                   const tm_dsp_dw3w_t *w, int k, int32_t *a0, int32_t *a1)
{
    const int32_t w01 = w->r[2 * k], w12 = w->r[2 * k + 1];
    const int32_t p23 = tm_dsp_pkhbt16(x2, x3);
    *a0 = __smlabt(x2, w12, __smlad(*c, w01, *a0));    /* x0 w0 + x1 w1 + x2 w2 */
    *a1 = __smlad(p23, w12, __smlatb(*c, w01, *a1));    /* x1 w0 + x2 w1 + x3 w2 */
    *c = p23;
}

/* a + x0 w0 + x1 w1 + x2 w2 of kernel row k (single outputs, stride 2). */
TM_AOT_INLINE int32_t tm_dsp_dw3_mac3(int32_t x0, int32_t x1, int32_t x2, const tm_dsp_dw3w_t *w,
                                      int k, int32_t a)
{
    return __smlabt(x2, w->r[2 * k + 1], __smlad(tm_dsp_pkhbt16(x0, x1), w->r[2 * k], a));
}

/* Single-rounding requantization of tm_k_dwconv3x3 (before the clamp): with m2 = 2m - 2^32
 * (m > 2^30, as int32) and kz = 2^(r-1) + out_zp * 2^r, returns
 * (srdhm(x, m) + kz - [x < 0]) >> r, which is TFLM's rdpot(srdhm(x, m), r) + out_zp when
 * no step overflows (the compiler proves it per channel). SMMLAR(x, m2, acc) is
 * acc + srdhm(x, m) - x, so the accumulator adds x back: four instructions. */
TM_AOT_INLINE int32_t tm_dsp_dw_rq1(int32_t x, int32_t m2, int32_t kz, int32_t r)
{
    const int32_t a = (int32_t)((uint32_t)x + (uint32_t)(x >> 31) + (uint32_t)kz);
    int32_t q;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(q) : "r"(x), "r"(m2), "r"(a));
    return q >> r;
}

/* Saturate to int8 (SSAT). */
TM_AOT_INLINE int8_t tm_dsp_dw_sat8(int32_t v)
{
    return (int8_t)__ssat(v, 8);
}

/* One STR (unaligned stores are fine on Cortex-M4). */
TM_AOT_INLINE void tm_dsp_store4(int8_t *y, uint32_t v)
{
    memcpy(y, &v, 4);
}

#endif /* TM_AOT_ARM_DSP_H */
