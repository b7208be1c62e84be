/* tm_k_conv_loop.h - the loop order of CONV_2D, shared by every variant.
 *
 * Included by tm_k_conv.c (portable reference) and tm_k_conv_<variant>.c after
 * they define the two block kernels
 *   tm_conv_1px(p, x, n, y, buf)            all output channels of one pixel
 *   tm_conv_2px(p, x0, x1, n, y0, y1, buf)  all output channels of two pixels
 * from contiguous n-byte input vectors (buf: TM_CONV_PANEL_BYTES of scratch,
 * where the variant may expand them; the Arm DSP one reads all input bytes of
 * the block there before its first store). The pixel order here (pairs, p->reverse,
 * im2col of the whole pair before its outputs are stored) is what the memory plan
 * relies on: mirrored step for step in tinyml/codegen/aot/access.py (conv_im2col,
 * conv_1x1). Variants change only the block kernels, so one mirror holds for all.
 */
#ifndef TM_K_CONV_LOOP_H
#define TM_K_CONV_LOOP_H

#include <string.h>

#include "tm_k_conv.h"

/* im2col of output pixel `pix` of one image into col (k_h*k_w*in_c bytes). */
static void tm_conv_im2col(const tm_conv_params_t *p, const int8_t *img, int32_t pix, int8_t *col)
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

/* im2col of output pixel `pix` straight into slot `slot` of the 2-pixel panel in
 * buf (in_c a multiple of 4: every tap is whole quads, k_stride = k_h*k_w*in_c). */
static void tm_conv_im2col_pan(const tm_conv_params_t *p, const int8_t *img, int32_t pix,
                               int8_t *buf, int32_t slot)
{
    const size_t row = (size_t)p->in_c;
    const int32_t nq = p->in_c >> 2, kq = p->k_stride >> 2;
    const int32_t oy = pix / p->out_w, ox = pix % p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int row_run = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    int32_t ky, kx, q = 0;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (row_run && iy >= 0 && iy < p->in_h) {   /* the kernel row in one run */
            tm_pan2_quads(buf, kq, slot, q,
                          img + ((size_t)iy * (size_t)p->in_w + (size_t)x0) * row, nq * p->k_w);
            q += nq * p->k_w;
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx, q += nq) {
            const int32_t ix = x0 + kx * p->dil_w;
            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                tm_pan2_quads(buf, kq, slot, q,
                              img + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * row, nq);
            } else {
                tm_pan2_fill(buf, kq, slot, q, p->in_zp, nq);
            }
        }
    }
}

/* Output pixel `pix` (and pix + 1 when `two`) of one image. */
static void tm_conv_do(const tm_conv_params_t *p, const int8_t *img, int8_t *oimg,
                       int8_t *scratch, int32_t pix, int two)
{
    /* k_stride >= k_h*k_w*in_c: rows padded to a multiple of 4 with zero weights,
     * so the dot products have no scalar tail; the padding bytes of the im2col rows
     * are never written (whatever they hold is multiplied by 0). */
    const int32_t k = p->k_stride;
    int8_t *y = oimg + (size_t)pix * (size_t)p->out_c;
    if ((p->in_c & 3) == 0) {
        /* scratch: the panel (4k bytes); one pixel's im2col row in its last quarter */
        if (two) {
            tm_conv_im2col_pan(p, img, pix, scratch, 0);
            tm_conv_im2col_pan(p, img, pix + 1, scratch, 1);
            tm_conv_2px_pan(p, tm_xpan2(scratch, k >> 2), y, y + p->out_c);
        } else {
            tm_conv_im2col(p, img, pix, scratch + 3 * k);
            tm_conv_1px(p, scratch + 3 * k, k, y, scratch);
        }
        return;
    }
    /* few input channels: int8 im2col rows after the panel, then the panel */
    tm_conv_im2col(p, img, pix, scratch + 4 * k);
    if (two) {
        tm_conv_im2col(p, img, pix + 1, scratch + 5 * k);
        tm_conv_2px(p, scratch + 4 * k, scratch + 5 * k, k, y, y + p->out_c, scratch);
    } else {
        tm_conv_1px(p, scratch + 4 * k, k, y, scratch);
    }
}

void tm_k_conv(const tm_conv_params_t *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    const int32_t npix = p->out_h * p->out_w;
    int32_t b, pix;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
        int8_t *oimg = out + (size_t)b * (size_t)npix * (size_t)p->out_c;
        if (!p->reverse) {
            for (pix = 0; pix + 2 <= npix; pix += 2) {
                tm_conv_do(p, img, oimg, scratch, pix, 1);
            }
            if (pix < npix) {
                tm_conv_do(p, img, oimg, scratch, pix, 0);
            }
        } else {
            pix = npix;
            if (npix & 1) {
                tm_conv_do(p, img, oimg, scratch, --pix, 0);
            }
            while (pix >= 2) {
                pix -= 2;
                tm_conv_do(p, img, oimg, scratch, pix, 1);
            }
        }
    }
}

/* 1x1 kernel without padding: input pixel of output pixel `pix` is read in place. */
static const int8_t *tm_conv_1x1_src(const tm_conv_params_t *p, const int8_t *img, int32_t pix)
{
    const int32_t oy = pix / p->out_w, ox = pix % p->out_w;
    return img + ((size_t)oy * (size_t)p->stride_h * (size_t)p->in_w +
                  (size_t)ox * (size_t)p->stride_w) * (size_t)p->in_c;
}

static void tm_conv_1x1_do(const tm_conv_params_t *p, const int8_t *img, int8_t *oimg,
                           int32_t pix, int two, int8_t *scratch)
{
    int8_t *y = oimg + (size_t)pix * (size_t)p->out_c;
    if (two) {
        tm_conv_2px(p, tm_conv_1x1_src(p, img, pix), tm_conv_1x1_src(p, img, pix + 1),
                    p->in_c, y, y + p->out_c, scratch);
    } else {
        tm_conv_1px(p, tm_conv_1x1_src(p, img, pix), p->in_c, y, scratch);
    }
}

void tm_k_conv_1x1(const tm_conv_params_t *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    const int32_t npix = p->out_h * p->out_w;
    int32_t b, pix;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
        int8_t *oimg = out + (size_t)b * (size_t)npix * (size_t)p->out_c;
        if (!p->reverse) {
            for (pix = 0; pix + 2 <= npix; pix += 2) {
                tm_conv_1x1_do(p, img, oimg, pix, 1, scratch);
            }
            if (pix < npix) {
                tm_conv_1x1_do(p, img, oimg, pix, 0, scratch);
            }
        } else {
            pix = npix;
            if (npix & 1) {
                tm_conv_1x1_do(p, img, oimg, --pix, 0, scratch);
            }
            while (pix >= 2) {
                pix -= 2;
                tm_conv_1x1_do(p, img, oimg, pix, 1, scratch);
            }
        }
    }
}

#endif /* TM_K_CONV_LOOP_H */
