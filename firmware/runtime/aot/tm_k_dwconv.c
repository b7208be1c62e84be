/* tm_k_dwconv.c - int8 DEPTHWISE_CONV_2D.
 *
 * TFLM sums filter * (input + input_offset) over taps inside the image. Taps in
 * the padding here read a row of input zero points instead, which adds
 * filter * (zp - zp) = 0 once input_offset * sum(filter) is folded into the bias
 * (done by the compiler): the same integers, without a branch per tap. Each
 * output pixel keeps four channels' accumulators in registers across all taps.
 *
 * Memory-plan contract (ops/conv.py raster_gap): all taps of a pixel are read
 * before the pixel is written, and pixels are written in raster order.
 */
#include "tm_k_dwconv.h"

#include <string.h>

#include "tm_aot.h"

#define TM_REQ(p, a, o) \
    tm_aot_requant((a), (p)->mult[(o)], (p)->shift[(o)], (p)->out_zp, (p)->act_min, (p)->act_max)

/* Depth multiplier 1: channel c of the output uses channel c of the input. */
static void tm_dw_pixel_m1(const tm_dwconv_params_t *p, const int8_t *const *taps,
                           int32_t ntaps, int8_t *y)
{
    const int32_t nc = p->out_c;
    int32_t c = 0, t;
    for (; c + 4 <= nc; c += 4) {
        int32_t a0 = p->bias[c], a1 = p->bias[c + 1], a2 = p->bias[c + 2], a3 = p->bias[c + 3];
        const int8_t *w = p->filter + c;
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
        int32_t a = p->bias[c];
        for (t = 0; t < ntaps; ++t) {
            a += (int32_t)taps[t][c] * p->filter[(size_t)t * (size_t)nc + (size_t)c];
        }
        y[c] = TM_REQ(p, a, c);
    }
}

/* Any depth multiplier m: output channel ic*m + j uses input channel ic. */
static void tm_dw_pixel_mn(const tm_dwconv_params_t *p, const int8_t *const *taps,
                           int32_t ntaps, int8_t *y)
{
    const int32_t nc = p->out_c, m = p->depth_mult;
    int32_t o, t;
    for (o = 0; o < nc; ++o) {
        const int32_t ic = o / m;
        int32_t a = p->bias[o];
        for (t = 0; t < ntaps; ++t) {
            a += (int32_t)taps[t][ic] * p->filter[(size_t)t * (size_t)nc + (size_t)o];
        }
        y[o] = TM_REQ(p, a, o);
    }
}

void tm_k_dwconv(const tm_dwconv_params_t *p, const int8_t *in, int8_t *out, int8_t *zp_row)
{
    const int8_t *taps[TM_DW_MAX_TAPS];
    const int32_t ntaps = p->k_h * p->k_w;
    const size_t row = (size_t)p->in_c;
    int32_t b, oy, ox, ky, kx;
    if (ntaps > TM_DW_MAX_TAPS) {
        return;   /* never generated: the compiler refuses such kernels */
    }
    memset(zp_row, p->in_zp, row);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * row;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t t = 0;
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = y0 + ky * p->dil_h;
                    for (kx = 0; kx < p->k_w; ++kx, ++t) {
                        const int32_t ix = x0 + kx * p->dil_w;
                        taps[t] = (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w)
                            ? img + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * row
                            : zp_row;
                    }
                }
                if (p->depth_mult == 1) {
                    tm_dw_pixel_m1(p, taps, ntaps, out);
                } else {
                    tm_dw_pixel_mn(p, taps, ntaps, out);
                }
                out += p->out_c;
            }
        }
    }
}
