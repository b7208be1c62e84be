/* tm_k_conv_add.c - CONV_2D reading interior pixels in place (no im2col), with an
 * optional residual-ADD epilogue; see tm_k_conv_add.h.
 *
 * Its point is RAM: one pixel of scratch, and fused with the ADD no separate conv
 * output, so a residual block's peak is the skip tensor plus the conv's input. The
 * arithmetic is tm_k_conv's (bias with the input zero point folded in, padding taps
 * read the zero point), then TFLM's requantization, then the ADD's linear form. */
#include "tm_aot.h"

#define TM_AOT_DOT_IMPL TM_AOT_IMPL_CONV
#include "tm_aot_dot.h"
#include "tm_k_conv_add.h"
#include "tm_k_im2col.h"

/* One output: the conv's int8 value, then (has_add) the sum with the skip byte it
 * replaces (has_add, rq_fast: branches per output, small against its MACs). */
#define TM_CA_STORE(dst, acc, o) do { \
        const int32_t yv_ = TM_REQ((acc), (o)); \
        if (has_add) { \
            *(dst) = (int8_t)tm_aot_clamp((k_c + k_skip * *(dst) + k_conv * yv_) >> k_sh, klo, khi); \
        } else { \
            *(dst) = (int8_t)yv_; \
        } \
    } while (0)

#define TM_CA_ADD_LOCALS(add) \
    const int32_t k_skip = has_add ? (add)->lin_a : 0, k_conv = has_add ? (add)->lin_b : 0; \
    const int32_t k_c = has_add ? (add)->lin_c : 0, k_sh = has_add ? (add)->lin_shift : 0; \
    const int32_t klo = has_add ? (add)->act_min : 0, khi = has_add ? (add)->act_max : 0

/* All channels of one pixel whose input is `nseg` segments of `seg` bytes, `step`
 * bytes apart (interior: the kernel rows in the image; border: one im2col row). */
static void tm_ca_1px(const tm_conv_params_t *p, const tm_add_params_t *add,
                      const int8_t *x, int32_t nseg, int32_t seg, size_t step,
                      int8_t *y, const int has_add, const int rq_fast)
{
    TM_REQ_LOCALS(p);
    TM_CA_ADD_LOCALS(add);
    const size_t k = (size_t)p->k_stride;
    const int32_t nc = p->out_c;
    int32_t o = 0, s;
    for (; o + 2 <= nc; o += 2) {
        const int8_t *w0 = p->filter + (size_t)o * k, *w1 = w0 + k;
        int32_t a0 = p->bias[o], a1 = p->bias[o + 1];
        for (s = 0; s < nseg; ++s) {
            tm_dot2_s8(x + (size_t)s * step, w0 + s * seg, w1 + s * seg, seg, &a0, &a1);
        }
        TM_CA_STORE(y + o, a0, o);
        TM_CA_STORE(y + o + 1, a1, o + 1);
    }
    if (o < nc) {
        const int8_t *w0 = p->filter + (size_t)o * k;
        int32_t a0 = p->bias[o];
        for (s = 0; s < nseg; ++s) {
            a0 = tm_dot_s8(x + (size_t)s * step, w0 + s * seg, seg, a0);
        }
        TM_CA_STORE(y + o, a0, o);
    }
}

/* Two interior pixels (inputs x0, x1, outputs y0, y1) in 2x2 blocks. */
static void tm_ca_2px(const tm_conv_params_t *p, const tm_add_params_t *add,
                      const int8_t *x0, const int8_t *x1, int32_t nseg, int32_t seg,
                      size_t step, int8_t *y0, int8_t *y1, const int has_add,
                      const int rq_fast)
{
    TM_REQ_LOCALS(p);
    TM_CA_ADD_LOCALS(add);
    const size_t k = (size_t)p->k_stride;
    const int32_t nc = p->out_c;
    int32_t o = 0, s;
    for (; o + 2 <= nc; o += 2) {
        const int8_t *w0 = p->filter + (size_t)o * k, *w1 = w0 + k;
        int32_t acc[4];
        acc[0] = acc[2] = p->bias[o];
        acc[1] = acc[3] = p->bias[o + 1];
        for (s = 0; s < nseg; ++s) {
            tm_dot2x2_s8(x0 + (size_t)s * step, x1 + (size_t)s * step, w0 + s * seg,
                         w1 + s * seg, seg, acc);
        }
        TM_CA_STORE(y0 + o, acc[0], o);
        TM_CA_STORE(y0 + o + 1, acc[1], o + 1);
        TM_CA_STORE(y1 + o, acc[2], o);
        TM_CA_STORE(y1 + o + 1, acc[3], o + 1);
    }
    if (o < nc) {
        const int8_t *w0 = p->filter + (size_t)o * k;
        int32_t a0 = p->bias[o], a1 = p->bias[o];
        for (s = 0; s < nseg; ++s) {
            tm_dot2_s8(w0 + s * seg, x0 + (size_t)s * step, x1 + (size_t)s * step, seg, &a0, &a1);
        }
        TM_CA_STORE(y0 + o, a0, o);
        TM_CA_STORE(y1 + o, a1, o);
    }
}

static void tm_ca_run(const tm_conv_params_t *p, const tm_add_params_t *add,
                      const int8_t *in, int8_t *out, int8_t *scratch,
                      const int has_add, const int rq_fast)
{
    const size_t in_c = (size_t)p->in_c, nc = (size_t)p->out_c;
    const int32_t seg = p->k_w * p->in_c;
    const size_t step = (size_t)p->dil_h * (size_t)p->in_w * in_c;
    /* interior: every tap inside the image (and dil_w 1: a kernel row is contiguous) */
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = p->k_w - 1;
    int32_t b, oy, ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * in_c;
        int8_t *oimg = out + (size_t)b * (size_t)p->out_h * (size_t)p->out_w * nc;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy = oy * p->stride_h - p->pad_h;
            const int row_in = p->dil_w == 1 && iy >= 0 && iy + span_h < p->in_h;
            int8_t *yrow = oimg + (size_t)oy * (size_t)p->out_w * nc;
            for (ox = 0; ox < p->out_w;) {
                const int32_t ix = ox * p->stride_w - p->pad_w;
                const int in0 = row_in && ix >= 0 && ix + span_w < p->in_w;
                const int8_t *x0 = img + ((size_t)(in0 ? iy : 0) * (size_t)p->in_w +
                                          (size_t)(in0 ? ix : 0)) * in_c;
                if (in0 && ox + 1 < p->out_w && ix + p->stride_w + span_w < p->in_w) {
                    tm_ca_2px(p, add, x0, x0 + (size_t)p->stride_w * in_c, p->k_h, seg, step,
                              yrow + (size_t)ox * nc, yrow + (size_t)(ox + 1) * nc, has_add, rq_fast);
                    ox += 2;
                } else if (in0) {
                    tm_ca_1px(p, add, x0, p->k_h, seg, step, yrow + (size_t)ox * nc, has_add, rq_fast);
                    ox += 1;
                } else {
                    tm_conv_im2col(p, img, oy * p->out_w + ox, scratch);
                    tm_ca_1px(p, add, scratch, 1, p->k_stride, 0, yrow + (size_t)ox * nc,
                              has_add, rq_fast);
                    ox += 1;
                }
            }
        }
    }
}

/* ---- tm_k_conv_rows: in_c a multiple of 4, weights interleaved (layout.py) ----
 * Per pixel pair and kernel row, the row's taps go into a 2-pixel panel (in place
 * copies or the zero point: tm_conv_row_pan), which every output
 * channel group then reads (tm_mm2_4 / tm_mm2_n); the accumulators of up to
 * TM_ROWS_CH channels of both pixels persist across the rows on the stack. */
#define TM_ROWS_CH 32

/* Output pixels pix and pix + 1 (`two`; else slot 1 repeats pix and is dropped),
 * channels c0 .. c0 + nch - 1 (c0 a multiple of 4). */
static void tm_rows_block(const tm_conv_params_t *p, const tm_add_params_t *add,
                          const int8_t *img, int8_t *oimg, int8_t *buf, int32_t pix, int two,
                          int32_t c0, int32_t nch, const int has_add, const int rq_fast)
{
    TM_REQ_LOCALS(p);
    TM_CA_ADD_LOCALS(add);
    int32_t acc[2 * TM_ROWS_CH];
    const int32_t kq = (p->k_w * p->in_c) >> 2, kpad = p->k_stride;
    const int32_t oy0 = pix / p->out_w, ox0 = pix % p->out_w;
    const int32_t pix1 = two ? pix + 1 : pix;
    const int32_t oy1 = pix1 / p->out_w, ox1 = pix1 % p->out_w;
    int8_t *y0 = oimg + (size_t)pix * (size_t)p->out_c, *y1 = y0 + p->out_c;
    int32_t ky, c, j;
    for (c = 0; c < nch; c += 4) {
        const int32_t nb = nch - c < 4 ? nch - c : 4;
        memcpy(acc + 2 * c, p->bias + c0 + c, (size_t)nb * sizeof(int32_t));
        memcpy(acc + 2 * c + 4, p->bias + c0 + c, (size_t)nb * sizeof(int32_t));
    }
    for (ky = 0; ky < p->k_h; ++ky) {
        const tm_xp2_t xp = tm_xpan2(buf, kq);
        tm_conv_row_pan(p, img, oy0, ox0, ky, buf, kq, 0, 0);
        tm_conv_row_pan(p, img, oy1, ox1, ky, buf, kq, 1, 0);
        for (c = 0; c < nch; c += 4) {
            /* group of channels c0 + c: 4 * nb bytes per quad, this row's quads */
            const int32_t nb = p->out_c - (c0 + c) < 4 ? p->out_c - (c0 + c) : 4;
            const int8_t *w = p->filter + (size_t)(c0 + c) * (size_t)kpad +
                              (size_t)ky * (size_t)kq * 4u * (size_t)nb;
            if (nb == 4) {
                tm_mm2_4(xp, w, kq, acc + 2 * c);
            } else {
                tm_mm2_n(xp, w, kq, nb, acc + 2 * c);
            }
        }
    }
    for (c = 0; c + 4 <= nch; c += 4) {
        const int32_t *a = acc + 2 * c;
        int8_t *d0 = y0 + c0 + c, *d1 = y1 + c0 + c;
        const int32_t o = c0 + c;
        TM_CA_STORE(d0, a[0], o);
        TM_CA_STORE(d0 + 1, a[1], o + 1);
        TM_CA_STORE(d0 + 2, a[2], o + 2);
        TM_CA_STORE(d0 + 3, a[3], o + 3);
        if (two) {
            TM_CA_STORE(d1, a[4], o);
            TM_CA_STORE(d1 + 1, a[5], o + 1);
            TM_CA_STORE(d1 + 2, a[6], o + 2);
            TM_CA_STORE(d1 + 3, a[7], o + 3);
        }
    }
    for (j = 0; c + j < nch; ++j) {
        TM_CA_STORE(y0 + c0 + c + j, acc[2 * c + j], c0 + c + j);
        if (two) {
            TM_CA_STORE(y1 + c0 + c + j, acc[2 * c + 4 + j], c0 + c + j);
        }
    }
}

static void tm_rows_run(const tm_conv_params_t *p, const tm_add_params_t *add,
                        const int8_t *in, int8_t *out, int8_t *buf, const int has_add,
                        const int rq_fast)
{
    const int32_t npix = p->out_h * p->out_w;
    int32_t b, pix, c0;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
        int8_t *oimg = out + (size_t)b * (size_t)npix * (size_t)p->out_c;
        for (pix = 0; pix < npix; pix += 2) {
            for (c0 = 0; c0 < p->out_c; c0 += TM_ROWS_CH) {
                const int32_t nch = p->out_c - c0 < TM_ROWS_CH ? p->out_c - c0 : TM_ROWS_CH;
                tm_rows_block(p, add, img, oimg, buf, pix, pix + 1 < npix, c0, nch, has_add,
                              rq_fast);
            }
        }
    }
}


void tm_k_conv_rows(const tm_conv_params_t *p, const tm_add_params_t *add, const int8_t *in,
                    int8_t *out, int8_t *scratch)
{
    tm_rows_run(p, add, in, out, scratch, add != NULL, p->rq_fast != 0);
}

void tm_k_conv_direct(const tm_conv_params_t *p, const tm_add_params_t *add,
                      const int8_t *in, int8_t *out, int8_t *scratch)
{
    tm_ca_run(p, add, in, out, scratch, add != NULL, p->rq_fast != 0);
}
