/* tm_k_dwconv.c - int8 DEPTHWISE_CONV_2D.
 *
 * TFLM sums filter * (input + input_offset) over taps inside the image. Taps in
 * the padding here read a row of input zero points instead, which adds
 * filter * (zp - zp) = 0 once input_offset * sum(filter) is folded into the bias
 * (done by the compiler): the same integers, without a branch per tap. Each
 * output pixel keeps four channels' accumulators in registers across all taps.
 *
 * Memory-plan contract: the output may overlap the input, so the loop order
 * (pixel pairs, channel groups of four, p->reverse) is mirrored step for step
 * by dwconv() in tinyml/codegen/aot/access.py. Change both together.
 */
#include "tm_k_dwconv.h"

#include <string.h>

#include "tm_aot.h"

/* Requantize with the parameters copied into locals (TM_REQ_LOCALS): int8 stores
 * may alias anything, so reading them through `p` would reload them per output. */
#define TM_REQ_LOCALS(p) \
    const int32_t *const rq_mult = (p)->mult; \
    const int32_t *const rq_shift = (p)->shift; \
    const int32_t rq_zp = (p)->out_zp, rq_lo = (p)->act_min, rq_hi = (p)->act_max
#define TM_REQ(p, a, o) tm_aot_requant((a), rq_mult[(o)], rq_shift[(o)], rq_zp, rq_lo, rq_hi)

/* Depth multiplier 1: channel c of the output uses channel c of the input. */
static void tm_dw_pixel_m1(const tm_dwconv_params_t *p, const int8_t *const *taps,
                           int32_t ntaps, int8_t *y)
{
    TM_REQ_LOCALS(p);
    const int32_t *const bias = p->bias;
    const int8_t *const filter = p->filter;
    const int32_t nc = p->out_c;
    int32_t c = 0, t;
    for (; c + 4 <= nc; c += 4) {
        int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
        const int8_t *w = filter + c;
        for (t = 0; t < ntaps; ++t, w += nc) {
#if TM_AOT_DSP
            const int32_t vx = tm_aot_load4(taps[t] + c);
            const int32_t vw = tm_aot_load4(w);
            const int32_t xe = __sxtb16(vx), xo = tm_aot_sxtb16_ror8(vx);
            const int32_t we = __sxtb16(vw), wo = tm_aot_sxtb16_ror8(vw);
            a0 = __smlabb(xe, we, a0);
            a1 = __smlabb(xo, wo, a1);
            a2 = __smlatt(xe, we, a2);
            a3 = __smlatt(xo, wo, a3);
#else
            const int8_t *x = taps[t] + c;
            a0 += (int32_t)x[0] * w[0];
            a1 += (int32_t)x[1] * w[1];
            a2 += (int32_t)x[2] * w[2];
            a3 += (int32_t)x[3] * w[3];
#endif
        }
        y[c] = TM_REQ(p, a0, c);
        y[c + 1] = TM_REQ(p, a1, c + 1);
        y[c + 2] = TM_REQ(p, a2, c + 2);
        y[c + 3] = TM_REQ(p, a3, c + 3);
    }
    for (; c < nc; ++c) {
        int32_t a = bias[c];
        for (t = 0; t < ntaps; ++t) {
            a += (int32_t)taps[t][c] * filter[(size_t)t * (size_t)nc + (size_t)c];
        }
        y[c] = TM_REQ(p, a, c);
    }
}

/* Depth multiplier 1, two pixels (taps ta, tb) sharing every weight load. */
static void tm_dw_2px_m1(const tm_dwconv_params_t *p, const int8_t *const *ta,
                         const int8_t *const *tb, int32_t ntaps, int8_t *ya, int8_t *yb)
{
    TM_REQ_LOCALS(p);
    const int32_t *const bias = p->bias;
    const int8_t *const filter = p->filter;
    const int32_t nc = p->out_c;
    int32_t c = 0, t;
    for (; c + 4 <= nc; c += 4) {
        int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
        int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
        const int8_t *w = filter + c;
        for (t = 0; t < ntaps; ++t, w += nc) {
#if TM_AOT_DSP
            const int32_t vw = tm_aot_load4(w);
            const int32_t we = __sxtb16(vw), wo = tm_aot_sxtb16_ror8(vw);
            int32_t vx = tm_aot_load4(ta[t] + c);
            int32_t xe = __sxtb16(vx), xo = tm_aot_sxtb16_ror8(vx);
            a0 = __smlabb(xe, we, a0);
            a1 = __smlabb(xo, wo, a1);
            a2 = __smlatt(xe, we, a2);
            a3 = __smlatt(xo, wo, a3);
            vx = tm_aot_load4(tb[t] + c);
            xe = __sxtb16(vx);
            xo = tm_aot_sxtb16_ror8(vx);
            b0 = __smlabb(xe, we, b0);
            b1 = __smlabb(xo, wo, b1);
            b2 = __smlatt(xe, we, b2);
            b3 = __smlatt(xo, wo, b3);
#else
            const int8_t *x = ta[t] + c;
            const int8_t *z = tb[t] + c;
            a0 += (int32_t)x[0] * w[0];
            a1 += (int32_t)x[1] * w[1];
            a2 += (int32_t)x[2] * w[2];
            a3 += (int32_t)x[3] * w[3];
            b0 += (int32_t)z[0] * w[0];
            b1 += (int32_t)z[1] * w[1];
            b2 += (int32_t)z[2] * w[2];
            b3 += (int32_t)z[3] * w[3];
#endif
        }
        ya[c] = TM_REQ(p, a0, c);
        ya[c + 1] = TM_REQ(p, a1, c + 1);
        ya[c + 2] = TM_REQ(p, a2, c + 2);
        ya[c + 3] = TM_REQ(p, a3, c + 3);
        yb[c] = TM_REQ(p, b0, c);
        yb[c + 1] = TM_REQ(p, b1, c + 1);
        yb[c + 2] = TM_REQ(p, b2, c + 2);
        yb[c + 3] = TM_REQ(p, b3, c + 3);
    }
    for (; c < nc; ++c) {
        int32_t a = bias[c], b = bias[c];
        for (t = 0; t < ntaps; ++t) {
            const int32_t wv = filter[(size_t)t * (size_t)nc + (size_t)c];
            a += (int32_t)ta[t][c] * wv;
            b += (int32_t)tb[t][c] * wv;
        }
        ya[c] = TM_REQ(p, a, c);
        yb[c] = TM_REQ(p, b, c);
    }
}

/* Any depth multiplier m: output channel ic*m + j uses input channel ic. */
static void tm_dw_pixel_mn(const tm_dwconv_params_t *p, const int8_t *const *taps,
                           int32_t ntaps, int8_t *y)
{
    TM_REQ_LOCALS(p);
    const int32_t *const bias = p->bias;
    const int8_t *const filter = p->filter;
    const int32_t nc = p->out_c, m = p->depth_mult;
    int32_t o, t;
    for (o = 0; o < nc; ++o) {
        const int32_t ic = o / m;
        int32_t a = bias[o];
        for (t = 0; t < ntaps; ++t) {
            a += (int32_t)taps[t][ic] * filter[(size_t)t * (size_t)nc + (size_t)o];
        }
        y[o] = TM_REQ(p, a, o);
    }
}

/* Pointers to the k_h*k_w input pixels under output pixel (oy, ox); taps in the
 * padding point at the row of zero points. */
static void tm_dw_taps(const tm_dwconv_params_t *p, const int8_t *img, const int8_t *zp_row,
                       int32_t oy, int32_t ox, const int8_t **taps)
{
    const size_t row = (size_t)p->in_c;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = y0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = x0 + kx * p->dil_w;
            *taps++ = (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w)
                ? img + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * row
                : zp_row;
        }
    }
}

/* Output pixels (oy, ox) and, when `two` (depth multiplier 1), (oy, ox + 1). */
static void tm_dw_do(const tm_dwconv_params_t *p, const int8_t *img, const int8_t *zp_row,
                     int8_t *oimg, int32_t oy, int32_t ox, int two)
{
    const int8_t *ta[TM_DW_MAX_TAPS];
    const int8_t *tb[TM_DW_MAX_TAPS];
    const int32_t ntaps = p->k_h * p->k_w;
    int8_t *y = oimg + ((size_t)oy * (size_t)p->out_w + (size_t)ox) * (size_t)p->out_c;
    tm_dw_taps(p, img, zp_row, oy, ox, ta);
    if (two) {
        tm_dw_taps(p, img, zp_row, oy, ox + 1, tb);
        tm_dw_2px_m1(p, ta, tb, ntaps, y, y + p->out_c);
    } else if (p->depth_mult == 1) {
        tm_dw_pixel_m1(p, ta, ntaps, y);
    } else {
        tm_dw_pixel_mn(p, ta, ntaps, y);
    }
}

void tm_k_dwconv(const tm_dwconv_params_t *p, const int8_t *in, int8_t *out, int8_t *zp_row)
{
    const size_t row = (size_t)p->in_c;
    const int pairs = p->depth_mult == 1;
    int32_t b, oy, ox;
    if (p->k_h * p->k_w > TM_DW_MAX_TAPS) {
        return;   /* never generated: the compiler refuses such kernels */
    }
    memset(zp_row, p->in_zp, row);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * row;
        int8_t *oimg = out + (size_t)b * (size_t)p->out_h * (size_t)p->out_w * (size_t)p->out_c;
        if (!p->reverse) {
            for (oy = 0; oy < p->out_h; ++oy) {
                for (ox = 0; pairs && ox + 2 <= p->out_w; ox += 2) {
                    tm_dw_do(p, img, zp_row, oimg, oy, ox, 1);
                }
                for (; ox < p->out_w; ++ox) {
                    tm_dw_do(p, img, zp_row, oimg, oy, ox, 0);
                }
            }
        } else {
            for (oy = p->out_h - 1; oy >= 0; --oy) {
                for (ox = p->out_w; pairs && ox >= 2; ox -= 2) {
                    tm_dw_do(p, img, zp_row, oimg, oy, ox - 2, 1);
                }
                while (ox > 0) {
                    tm_dw_do(p, img, zp_row, oimg, oy, --ox, 0);
                }
            }
        }
    }
}
