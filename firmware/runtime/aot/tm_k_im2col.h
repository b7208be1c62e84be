/* tm_k_im2col.h - gathering a conv's input taps, shared by tm_k_conv.c and
 * tm_k_conv_add.c: a whole pixel's int8 im2col row, and kernel rows straight into
 * a 2-pixel panel slot (tm_pan2_quads / tm_pan2_fill, so tm_aot_dot.h comes first).
 * Taps in the padding read the input zero point. Static inline: each including
 * file keeps what it uses; the row fill is always inlined (a call per kernel row
 * cost IC 0.5 % more instructions). */
#ifndef TM_K_IM2COL_H
#define TM_K_IM2COL_H

#include <string.h>

#include "tm_aot_fx.h"
#include "tm_k_conv.h"

/* im2col of output pixel `pix` of one image into col (k_h*k_w*in_c bytes). */
static inline void tm_conv_im2col(const tm_conv_params_t *p, const int8_t *img, int32_t pix,
                                  int8_t *col)
{
    const size_t row = (size_t)p->in_c;
    const int32_t oy = pix / p->out_w, ox = pix % p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    /* the kernel row is one contiguous run of the input row when it lies inside */
    const int row_run = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    const size_t run = (size_t)p->k_w * row;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (row_run && iy >= 0 && iy < p->in_h) {
            const int8_t *src = img + ((size_t)iy * (size_t)p->in_w + (size_t)x0) * row;
            if (run >= 16u) {
                memcpy(col, src, run);
            } else {
                size_t i;   /* first layers (1 or 3 channels): a call costs more */
                for (i = 0; i < run; ++i) {
                    col[i] = src[i];
                }
            }
            col += run;
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = x0 + kx * p->dil_w;
            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                const int8_t *src = img + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * row;
                if (row >= 16u) {
                    memcpy(col, src, row);
                } else {
                    size_t i;   /* few channels (first layers): a call costs more */
                    for (i = 0; i < row; ++i) {
                        col[i] = src[i];
                    }
                }
            } else {
                memset(col, p->in_zp, row);
            }
            col += row;
        }
    }
}

/* Kernel row ky of output pixel (oy, ox) into panel slot `slot` from quad q0 on
 * (in_c a multiple of 4; kq: the quads of a panel row): k_w * in_c / 4 quads. */
TM_AOT_INLINE void tm_conv_row_pan(const tm_conv_params_t *p, const int8_t *img, int32_t oy,
                                  int32_t ox, int32_t ky, int8_t *buf, int32_t kq, int32_t slot,
                                  int32_t q0)
{
    const size_t row = (size_t)p->in_c;
    const int32_t nq = p->in_c >> 2;
    const int32_t iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    int32_t kx;
    if (iy < 0 || iy >= p->in_h) {
        tm_pan2_fill(buf, kq, slot, q0, p->in_zp, nq * p->k_w);
        return;
    }
    if (p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w) {      /* the row in one run */
        tm_pan2_quads(buf, kq, slot, q0, img + ((size_t)iy * (size_t)p->in_w + (size_t)x0) * row,
                      nq * p->k_w);
        return;
    }
    for (kx = 0; kx < p->k_w; ++kx) {
        const int32_t ix = x0 + kx * p->dil_w;
        if (ix >= 0 && ix < p->in_w) {
            tm_pan2_quads(buf, kq, slot, q0 + kx * nq,
                          img + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * row, nq);
        } else {
            tm_pan2_fill(buf, kq, slot, q0 + kx * nq, p->in_zp, nq);
        }
    }
}

/* im2col of output pixel `pix` into slot `slot` of the 2-pixel panel in buf (in_c a
 * multiple of 4: every tap is whole quads, k_stride = k_h*k_w*in_c). */
static inline void tm_conv_im2col_pan(const tm_conv_params_t *p, const int8_t *img, int32_t pix,
                                      int8_t *buf, int32_t slot)
{
    const int32_t oy = pix / p->out_w, ox = pix % p->out_w;
    const int32_t row_q = (p->in_c >> 2) * p->k_w;
    int32_t ky;
    for (ky = 0; ky < p->k_h; ++ky) {
        tm_conv_row_pan(p, img, oy, ox, ky, buf, p->k_stride >> 2, slot, ky * row_q);
    }
}

#endif /* TM_K_IM2COL_H */
