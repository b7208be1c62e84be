/* tm_k_dwconv_loop.h - the loop order of DEPTHWISE_CONV_2D, shared by every variant.
 *
 * Included by tm_k_dwconv.c (portable reference) and tm_k_dwconv_<variant>.c after
 * they define the depth-multiplier-1 block kernels
 *   tm_dw_pixel_m1(p, taps, ntaps, y)       all channels of one pixel
 *   tm_dw_2px_m1(p, ta, tb, ntaps, ya, yb)  all channels of two pixels
 * which keep four channels' accumulators in registers across all taps (channel
 * groups of four, then one by one). Taps in the padding point at a row of input
 * zero points, which adds filter * (zp - zp) = 0 once input_offset * sum(filter)
 * is folded into the bias (done by the compiler): no branch per tap.
 *
 * Memory-plan contract: the output may overlap the input, so the loop order (pixel
 * pairs, channel groups of four, p->reverse) is mirrored step for step by dwconv()
 * in tinyml/codegen/aot/access.py. Variants change only the block kernels.
 *
 * No limit on the kernel size: the tap pointer tables live in the op's arena
 * scratch (TM_DW_SCRATCH_BYTES), which the memory plan counts.
 */
#ifndef TM_K_DWCONV_LOOP_H
#define TM_K_DWCONV_LOOP_H

#include <string.h>

#include "tm_k_dwconv.h"

/* The tap tables are stored in TM_DW_TAP_BYTES per pointer (compile-time check). */
typedef char tm_dw_tap_bytes_check_t[sizeof(const int8_t *) <= TM_DW_TAP_BYTES ? 1 : -1];

/* Any depth multiplier m: output channel ic*m + j uses input channel ic. */
TM_AOT_INLINE void tm_dw_pixel_mn_k(const tm_dwconv_params_t *p, const int8_t *const *taps,
                                   int32_t ntaps, int8_t *y, const int rq_fast)
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
        y[o] = TM_REQ(a, o);
    }
}

static void tm_dw_pixel_mn(const tm_dwconv_params_t *p, const int8_t *const *taps,
                           int32_t ntaps, int8_t *y)
{
    /* rq_fast: a constant in each copy, so the requantization is chosen once per call */
    if (p->rq_fast) {
        tm_dw_pixel_mn_k(p, taps, ntaps, y, 1);
    } else {
        tm_dw_pixel_mn_k(p, taps, ntaps, y, 0);
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
                     const int8_t **ta, const int8_t **tb, int8_t *oimg, int32_t oy, int32_t ox,
                     int two)
{
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

void tm_k_dwconv(const tm_dwconv_params_t *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    const size_t row = (size_t)p->in_c;
    const int pairs = p->depth_mult == 1;
    const size_t ntaps = (size_t)p->k_h * (size_t)p->k_w;
    /* scratch: two tap tables, then the row of zero points (TM_DW_SCRATCH_BYTES) */
    const int8_t **ta = (const int8_t **)(void *)scratch;
    const int8_t **tb = (const int8_t **)(void *)(scratch + ntaps * TM_DW_TAP_BYTES);
    int8_t *zp_row = scratch + 2u * ntaps * TM_DW_TAP_BYTES;
    int32_t b, oy, ox;
    memset(zp_row, p->in_zp, row);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * row;
        int8_t *oimg = out + (size_t)b * (size_t)p->out_h * (size_t)p->out_w * (size_t)p->out_c;
        if (!p->reverse) {
            for (oy = 0; oy < p->out_h; ++oy) {
                for (ox = 0; pairs && ox + 2 <= p->out_w; ox += 2) {
                    tm_dw_do(p, img, zp_row, ta, tb, oimg, oy, ox, 1);
                }
                for (; ox < p->out_w; ++ox) {
                    tm_dw_do(p, img, zp_row, ta, tb, oimg, oy, ox, 0);
                }
            }
        } else {
            for (oy = p->out_h - 1; oy >= 0; --oy) {
                for (ox = p->out_w; pairs && ox >= 2; ox -= 2) {
                    tm_dw_do(p, img, zp_row, ta, tb, oimg, oy, ox - 2, 1);
                }
                while (ox > 0) {
                    tm_dw_do(p, img, zp_row, ta, tb, oimg, oy, --ox, 0);
                }
            }
        }
    }
}

#endif /* TM_K_DWCONV_LOOP_H */
