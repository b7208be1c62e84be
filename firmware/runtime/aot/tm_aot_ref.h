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

/* ---- CONV_2D / FULLY_CONNECTED panels (tm_k_conv.c, tm_k_fc.c) ----
 * Weights interleaved by the compiler (tinyml/codegen/aot/ops/layout.py): groups of
 * 4 output channels (the last may have nb < 4), and per 4 k-bytes ("quad") the 4
 * bytes of each channel of the group in turn. The input stays int8 and is read in
 * place; only a vector whose length is not a multiple of 4 is copied into `buf`
 * with zeros after it, so the loops see whole quads. */
typedef struct { const int8_t *a, *b; } tm_ref_xp2_t;
typedef struct { const int8_t *a; } tm_ref_xp1_t;

/* x (n bytes) as kq whole quads: x itself, or a zero-padded copy in buf. */
TM_AOT_INLINE const int8_t *tm_ref_quads(const int8_t *x, int32_t n, int32_t kq, int8_t *buf)
{
    int32_t i;
    if (n == 4 * kq) {
        return x;
    }
    for (i = 0; i < 4 * kq; ++i) {
        buf[i] = i < n ? x[i] : 0;
    }
    return buf;
}

/* buf: 8 * kq bytes (two pixels) or 4 * kq (one). */
TM_AOT_INLINE tm_ref_xp2_t tm_ref_xprep2(const int8_t *x0, const int8_t *x1, int32_t n,
                                         int32_t kq, int8_t *buf)
{
    tm_ref_xp2_t r;
    r.a = tm_ref_quads(x0, n, kq, buf);
    r.b = tm_ref_quads(x1, n, kq, buf + 4 * kq);
    return r;
}

TM_AOT_INLINE tm_ref_xp1_t tm_ref_xprep1(const int8_t *x, int32_t n, int32_t kq, int8_t *buf)
{
    tm_ref_xp1_t r;
    r.a = tm_ref_quads(x, n, kq, buf);
    return r;
}

/* im2col straight into a 2-pixel panel of kq quads (here: two int8 rows of 4 * kq
 * bytes): nq quads of src, or of the byte zp, as quads q0.. of pixel `slot`. */
TM_AOT_INLINE void tm_ref_pan2_quads(int8_t *buf, int32_t kq, int32_t slot, int32_t q0,
                                     const int8_t *src, int32_t nq)
{
    int8_t *o = buf + 4 * (slot * kq + q0);
    int32_t i;
    for (i = 0; i < 4 * nq; ++i) {
        o[i] = src[i];
    }
}

TM_AOT_INLINE void tm_ref_pan2_fill(int8_t *buf, int32_t kq, int32_t slot, int32_t q0, int32_t zp,
                                    int32_t nq)
{
    int8_t *o = buf + 4 * (slot * kq + q0);
    int32_t i;
    for (i = 0; i < 4 * nq; ++i) {
        o[i] = (int8_t)zp;
    }
}

TM_AOT_INLINE tm_ref_xp2_t tm_ref_xpan2(const int8_t *buf, int32_t kq)
{
    tm_ref_xp2_t r;
    r.a = buf;
    r.b = buf + 4 * kq;
    return r;
}

/* One k step of a 2-pixel x 4-channel block: w points at the quad, t is the byte. */
#define TM_REF_MM2_4_STEP(t) do { \
        const int32_t xa = xa_[t], xb = xb_[t]; \
        int32_t wv = w[(t)]; \
        s0 += xa * wv; s4 += xb * wv; \
        wv = w[4 + (t)]; s1 += xa * wv; s5 += xb * wv; \
        wv = w[8 + (t)]; s2 += xa * wv; s6 += xb * wv; \
        wv = w[12 + (t)]; s3 += xa * wv; s7 += xb * wv; \
    } while (0)

/* 2 pixels x a group of 4 channels: acc[j] += x0 . w_j, acc[4 + j] += x1 . w_j. */
TM_AOT_INLINE void tm_ref_mm2_4(tm_ref_xp2_t xp, const int8_t *w, int32_t kq, int32_t *acc)
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    int32_t s4 = acc[4], s5 = acc[5], s6 = acc[6], s7 = acc[7];
    const int8_t *xa_ = xp.a, *xb_ = xp.b;
    const int8_t *const end = w + (size_t)kq * 16u;
    for (; w != end; w += 16, xa_ += 4, xb_ += 4) {
        TM_REF_MM2_4_STEP(0);
        TM_REF_MM2_4_STEP(1);
        TM_REF_MM2_4_STEP(2);
        TM_REF_MM2_4_STEP(3);
    }
    acc[0] = s0; acc[1] = s1; acc[2] = s2; acc[3] = s3;
    acc[4] = s4; acc[5] = s5; acc[6] = s6; acc[7] = s7;
}

/* 2 pixels x a last group of nb (1..3) channels (quads 4 * nb bytes apart). */
TM_AOT_INLINE void tm_ref_mm2_n(tm_ref_xp2_t xp, const int8_t *w, int32_t kq, int32_t nb,
                                int32_t *acc)
{
    int32_t j, q, t;
    for (j = 0; j < nb; ++j) {
        int32_t s0 = acc[j], s1 = acc[4 + j];
        for (q = 0; q < kq; ++q) {
            const int8_t *wq = w + (size_t)(q * nb + j) * 4u;
            for (t = 0; t < 4; ++t) {
                s0 += (int32_t)xp.a[4 * q + t] * wq[t];
                s1 += (int32_t)xp.b[4 * q + t] * wq[t];
            }
        }
        acc[j] = s0;
        acc[4 + j] = s1;
    }
}

/* 1 pixel x a group of 4 channels. */
TM_AOT_INLINE void tm_ref_mm1_4(tm_ref_xp1_t xp, const int8_t *w, int32_t kq, int32_t *acc)
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    const int8_t *x = xp.a;
    const int8_t *const end = w + (size_t)kq * 16u;
    int32_t t;
    for (; w != end; w += 16, x += 4) {
        for (t = 0; t < 4; ++t) {
            const int32_t xv = x[t];
            s0 += xv * w[t];
            s1 += xv * w[4 + t];
            s2 += xv * w[8 + t];
            s3 += xv * w[12 + t];
        }
    }
    acc[0] = s0; acc[1] = s1; acc[2] = s2; acc[3] = s3;
}

/* 1 pixel x a group of 4 channels, the input int8 in place (kq whole quads). */
TM_AOT_INLINE void tm_ref_mm1s_4(const int8_t *x, const int8_t *w, int32_t kq, int32_t *acc)
{
    tm_ref_xp1_t xp;
    xp.a = x;
    tm_ref_mm1_4(xp, w, kq, acc);
}

/* 1 pixel x a last group of nb (1..3) channels, the input int8 in place. */
TM_AOT_INLINE void tm_ref_mm1s_n(const int8_t *x, const int8_t *w, int32_t kq, int32_t nb,
                                 int32_t *acc);

/* 1 pixel x a last group of nb (1..3) channels. */
TM_AOT_INLINE void tm_ref_mm1_n(tm_ref_xp1_t xp, const int8_t *w, int32_t kq, int32_t nb,
                                int32_t *acc)
{
    int32_t j, q, t;
    for (j = 0; j < nb; ++j) {
        int32_t s = acc[j];
        for (q = 0; q < kq; ++q) {
            const int8_t *wq = w + (size_t)(q * nb + j) * 4u;
            for (t = 0; t < 4; ++t) {
                s += (int32_t)xp.a[4 * q + t] * wq[t];
            }
        }
        acc[j] = s;
    }
}

TM_AOT_INLINE void tm_ref_mm1s_n(const int8_t *x, const int8_t *w, int32_t kq, int32_t nb,
                                 int32_t *acc)
{
    tm_ref_xp1_t xp;
    xp.a = x;
    tm_ref_mm1_n(xp, w, kq, nb, acc);
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

/* Depthwise 3x3, one channel along an output row (tm_k_dwconv3x3.c): the portable
 * forms of tm_aot_arm_dsp.h's tm_dsp_dw3_*. Weights per kernel row as int16 pairs
 * w01 = (w0 | w1 << 16), w12 = (w1 | w2 << 16); a pair of outputs shares (x0, x1). */
typedef struct {
    int32_t x0, x1;
} tm_ref_dw3c_t;

#define TM_REF_LO16(w) ((int32_t)(int16_t)(uint16_t)((uint32_t)(w) & 0xffffu))
#define TM_REF_HI16(w) ((int32_t)(w) >> 16)

/* A channel's nine weights, unpacked once per row. */
typedef struct {
    int32_t w[9];
} tm_ref_dw3w_t;

TM_AOT_INLINE tm_ref_dw3w_t tm_ref_dw3_wprep(const int32_t *rec)
{
    tm_ref_dw3w_t w;
    int k;
    for (k = 0; k < 3; ++k) {
        w.w[3 * k] = TM_REF_LO16(rec[2 * k]);
        w.w[3 * k + 1] = TM_REF_HI16(rec[2 * k]);
        w.w[3 * k + 2] = TM_REF_HI16(rec[2 * k + 1]);
    }
    return w;
}

TM_AOT_INLINE int32_t tm_ref_dw3_ld2(const int8_t *q, size_t cs)
{
    return q[2 * cs];
}

TM_AOT_INLINE int32_t tm_ref_dw3_ld4(const int8_t *q, size_t cs)
{
    return q[4 * cs];
}

TM_AOT_INLINE void tm_ref_dw3_st2(int8_t *y, size_t cs, int32_t a0, int32_t a1)
{
    y[0] = (int8_t)a0;
    y[cs] = (int8_t)a1;
}

TM_AOT_INLINE tm_ref_dw3c_t tm_ref_dw3_init(int32_t x0, int32_t x1)
{
    tm_ref_dw3c_t c;
    c.x0 = x0;
    c.x1 = x1;
    return c;
}

TM_AOT_INLINE void tm_ref_dw3_pair(tm_ref_dw3c_t *c, int32_t x2, int32_t x3,
                                   const tm_ref_dw3w_t *w, int k, int32_t *a0, int32_t *a1)
{
    const int32_t w0 = w->w[3 * k], w1 = w->w[3 * k + 1], w2 = w->w[3 * k + 2];
    *a0 += c->x0 * w0 + c->x1 * w1 + x2 * w2;
    *a1 += c->x1 * w0 + x2 * w1 + x3 * w2;
    c->x0 = x2;
    c->x1 = x3;
}

TM_AOT_INLINE int32_t tm_ref_dw3_mac3(int32_t x0, int32_t x1, int32_t x2, const tm_ref_dw3w_t *w,
                                      int k, int32_t a)
{
    return a + x0 * w->w[3 * k] + x1 * w->w[3 * k + 1] + x2 * w->w[3 * k + 2];
}

/* tm_dsp_dw_rq1: (srdhm(x, m) + kz - [x < 0]) >> r with m2 = 2m - 2^32, wrapping like
 * the hardware. */
TM_AOT_INLINE int32_t tm_ref_dw_rq1(int32_t x, int32_t m2, int32_t kz, int32_t r)
{
    const int32_t m = (int32_t)((uint32_t)m2 >> 1);
    const int32_t q = (int32_t)(((int64_t)x * m + ((int64_t)1 << 30)) >> 31);
    return (int32_t)((uint32_t)kz + (uint32_t)(x >> 31) + (uint32_t)q) >> r;
}

TM_AOT_INLINE int8_t tm_ref_dw_sat8(int32_t v)
{
    return (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
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
