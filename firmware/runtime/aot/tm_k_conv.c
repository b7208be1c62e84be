/* tm_k_conv.c - int8 CONV_2D.
 *
 * TFLM sums filter * (input + input_offset) over the taps inside the image and
 * skips taps in the padding. Filling padding with the input zero point makes those
 * taps add filter * 0 after the compiler folds input_offset * sum(filter) into the
 * bias, so every output is bias + a plain int8 dot product: bit-exact, and the
 * dot product can use SMLAD on Cortex-M DSP. Output pixels go in pairs and output
 * channels in pairs (2x2 blocks), so each loaded word feeds two multiplies.
 *
 * Memory-plan contract: the output may overlap the input, so the loop orders are
 * mirrored step for step in tinyml/codegen/aot/access.py: conv_im2col() (every
 * tap of a pixel pair is copied to scratch before the pair is written) and
 * conv_1x1() (inputs read in place once per output channel pair, between the
 * stores). p->reverse runs the pairs from the end. Change both together.
 */
#include "tm_k_conv.h"

#include <string.h>

#include "tm_aot.h"

/* Requantize with the parameters copied into locals (TM_REQ_LOCALS): int8 stores
 * may alias anything, so reading them through `p` would reload them per output. */
#define TM_REQ_LOCALS(p) \
    const int32_t *const rq_mult = (p)->mult; \
    const int32_t *const rq_shift = (p)->shift; \
    const int32_t rq_zp = (p)->out_zp, rq_lo = (p)->act_min, rq_hi = (p)->act_max
#define TM_REQ(p, a, o) tm_aot_requant((a), rq_mult[(o)], rq_shift[(o)], rq_zp, rq_lo, rq_hi)

/* All output channels of one pixel from a contiguous K-byte input vector. */
static void tm_conv_1px(const tm_conv_params_t *p, const int8_t *x, int32_t k, int8_t *y)
{
    TM_REQ_LOCALS(p);
    const int32_t *const bias = p->bias;
    const int8_t *const filter = p->filter;
    const int32_t nc = p->out_c;
    int32_t o = 0;
    for (; o + 2 <= nc; o += 2) {
        int32_t a0 = bias[o], a1 = bias[o + 1];
        tm_aot_dot2_s8(x, filter + (size_t)o * (size_t)k,
                       filter + (size_t)(o + 1) * (size_t)k, k, &a0, &a1);
        y[o] = TM_REQ(p, a0, o);
        y[o + 1] = TM_REQ(p, a1, o + 1);
    }
    for (; o < nc; ++o) {
        y[o] = TM_REQ(p, tm_aot_dot_s8(x, filter + (size_t)o * (size_t)k, k, bias[o]), o);
    }
}

/* All output channels of two pixels (inputs x0, x1; outputs y0, y1). */
static void tm_conv_2px(const tm_conv_params_t *p, const int8_t *x0, const int8_t *x1,
                        int32_t k, int8_t *y0, int8_t *y1)
{
    TM_REQ_LOCALS(p);
    const int32_t *const bias = p->bias;
    const int8_t *const filter = p->filter;
    const int32_t nc = p->out_c;
    int32_t o = 0;
    for (; o + 2 <= nc; o += 2) {
        int32_t acc[4];
        acc[0] = acc[2] = bias[o];
        acc[1] = acc[3] = bias[o + 1];
        tm_aot_dot2x2_s8(x0, x1, filter + (size_t)o * (size_t)k,
                         filter + (size_t)(o + 1) * (size_t)k, k, acc);
        y0[o] = TM_REQ(p, acc[0], o);
        y0[o + 1] = TM_REQ(p, acc[1], o + 1);
        y1[o] = TM_REQ(p, acc[2], o);
        y1[o + 1] = TM_REQ(p, acc[3], o + 1);
    }
    for (; o < nc; ++o) {
        int32_t a0 = bias[o], a1 = bias[o];
        tm_aot_dot2_s8(filter + (size_t)o * (size_t)k, x0, x1, k, &a0, &a1);
        y0[o] = TM_REQ(p, a0, o);
        y1[o] = TM_REQ(p, a1, o);
    }
}

/* im2col of output pixel `pix` of one image into col (k_h*k_w*in_c bytes). */
static void tm_conv_im2col(const tm_conv_params_t *p, const int8_t *img, int32_t pix, int8_t *col)
{
    const size_t row = (size_t)p->in_c;
    const int32_t oy = pix / p->out_w, ox = pix % p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = y0 + ky * p->dil_h;
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

/* Output pixel `pix` (and pix + 1 when `two`) of one image. */
static void tm_conv_do(const tm_conv_params_t *p, const int8_t *img, int8_t *oimg,
                       int8_t *scratch, int32_t pix, int two)
{
    const int32_t k = p->k_h * p->k_w * p->in_c;
    int8_t *y = oimg + (size_t)pix * (size_t)p->out_c;
    tm_conv_im2col(p, img, pix, scratch);
    if (two) {
        tm_conv_im2col(p, img, pix + 1, scratch + k);
        tm_conv_2px(p, scratch, scratch + k, k, y, y + p->out_c);
    } else {
        tm_conv_1px(p, scratch, k, y);
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
                           int32_t pix, int two)
{
    int8_t *y = oimg + (size_t)pix * (size_t)p->out_c;
    if (two) {
        tm_conv_2px(p, tm_conv_1x1_src(p, img, pix), tm_conv_1x1_src(p, img, pix + 1),
                    p->in_c, y, y + p->out_c);
    } else {
        tm_conv_1px(p, tm_conv_1x1_src(p, img, pix), p->in_c, y);
    }
}

void tm_k_conv_1x1(const tm_conv_params_t *p, const int8_t *in, int8_t *out)
{
    const int32_t npix = p->out_h * p->out_w;
    int32_t b, pix;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
        int8_t *oimg = out + (size_t)b * (size_t)npix * (size_t)p->out_c;
        if (!p->reverse) {
            for (pix = 0; pix + 2 <= npix; pix += 2) {
                tm_conv_1x1_do(p, img, oimg, pix, 1);
            }
            if (pix < npix) {
                tm_conv_1x1_do(p, img, oimg, pix, 0);
            }
        } else {
            pix = npix;
            if (npix & 1) {
                tm_conv_1x1_do(p, img, oimg, --pix, 0);
            }
            while (pix >= 2) {
                pix -= 2;
                tm_conv_1x1_do(p, img, oimg, pix, 1);
            }
        }
    }
}
