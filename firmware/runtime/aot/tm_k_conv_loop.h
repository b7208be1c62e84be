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

#include "tm_k_conv.h"
#include "tm_k_im2col.h"

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
