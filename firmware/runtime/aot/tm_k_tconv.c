/* tm_k_tconv.c - int8 TRANSPOSE_CONV, per-channel weights (TFLM
 * reference_integer_ops::TransposeConv arithmetic). TFLM scatters each input pixel
 * into an int32 copy of the whole output; this kernel gathers instead: each output
 * pixel sums the input pixels whose scatter reaches it. Integer sums do not depend
 * on order, so the bytes are the same, and no output-sized scratch is needed. */
#include "tm_aot.h"
#include "tm_k_misc.h"

void tm_k_transpose_conv_s8(const tm_tconv_params_t *p, const int8_t *in, int8_t *out)
{
    const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, out_c = p->out_c;
    const int32_t k_h = p->k_h, k_w = p->k_w, sh = p->stride_h, sw = p->stride_w;
    const int32_t in_off = -p->in_zp;
    int32_t b, oy, ox, oc, ky, kx, ic;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *ib = in + b * in_h * in_w * in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox) {
                /* taps reaching (oy, ox): ky = (oy + pad_h) % sh + j * sh, reading input
                 * row (oy + pad_h - ky) / sh, one row up per step (no division inside) */
                const int32_t ty = oy + p->pad_h, tx = ox + p->pad_w;
                const int32_t ky0 = ty % sh, kx0 = tx % sw;
                for (oc = 0; oc < out_c; ++oc) {
                    const int8_t *w = p->filter + oc * k_h * k_w * in_c;
                    int32_t acc = p->bias[oc];
                    int32_t iy = (ty - ky0) / sh;
                    for (ky = ky0; ky < k_h && iy >= 0; ky += sh, --iy) {
                        int32_t ix = (tx - kx0) / sw;
                        if (iy >= in_h) continue;
                        for (kx = kx0; kx < k_w && ix >= 0; kx += sw, --ix) {
                            const int8_t *px, *wk;
                            if (ix >= in_w) continue;
                            px = ib + (iy * in_w + ix) * in_c;
                            wk = w + (ky * k_w + kx) * in_c;
                            for (ic = 0; ic < in_c; ++ic) {
                                acc += (px[ic] + in_off) * wk[ic];
                            }
                        }
                    }
                    *out++ = tm_aot_requant(acc, p->mult[oc], (int)p->shift[oc], p->out_zp,
                                            p->act_min, p->act_max);
                }
            }
        }
    }
}
