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
                for (oc = 0; oc < out_c; ++oc) {
                    const int8_t *w = p->filter + oc * k_h * k_w * in_c;
                    int32_t acc = p->bias[oc];
                    /* tap ky reads input row (oy + pad_h - ky) / stride_h when that
                     * divides exactly and lies in the input */
                    for (ky = 0; ky < k_h; ++ky) {
                        const int32_t ty = oy + p->pad_h - ky;
                        if (ty < 0) break;
                        if (ty % sh || ty / sh >= in_h) continue;
                        for (kx = 0; kx < k_w; ++kx) {
                            const int32_t tx = ox + p->pad_w - kx;
                            const int8_t *px, *wk;
                            if (tx < 0) break;
                            if (tx % sw || tx / sw >= in_w) continue;
                            px = ib + ((ty / sh) * in_w + tx / sw) * in_c;
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
