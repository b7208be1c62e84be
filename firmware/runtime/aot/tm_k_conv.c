/* tm_k_conv.c - int8 CONV_2D (the inner products come from tm_aot_dot.h: portable,
 * or SXTB16 + SMLAD on the Arm DSP extension).
 *
 * TFLM sums filter * (input + input_offset) over the taps inside the image and
 * skips taps in the padding. Filling padding with the input zero point makes those
 * taps add filter * 0 after the compiler folds input_offset * sum(filter) into the
 * bias, so every output is bias + a plain int8 dot product: bit-exact. Output
 * pixels go in pairs and output channels in groups of 4 over weights the compiler
 * interleaved (tm_aot_ref.h / tm_aot_arm_dsp.h: the panel functions), so each
 * loaded input and weight feeds several multiplies. The loop order is
 * tm_k_conv_loop.h.
 */
#include "tm_aot.h"

#define TM_AOT_DOT_IMPL TM_AOT_IMPL_CONV
#include "tm_aot_dot.h"
#include "tm_k_conv.h"

/* Channel o + j of the pixel from acc[j] (in tm_conv_1px_k). */
#define TM_CONV_RQ1(j) do { \
        const tm_aot_rq_t c_ = tm_aot_rq_ch(mult[o + (j)], shift[o + (j)], mode); \
        y[o + (j)] = tm_aot_rq_apply(c_, acc[(j)], zp, lo, hi, mode); \
    } while (0)

/* All output channels of one pixel from its n-byte input vector x (k_stride >= n,
 * a multiple of 4); buf: the panel scratch (TM_CONV_PANEL_BYTES). mode: the
 * requantization (TM_RQ_*, a constant in each specialized copy). */
TM_AOT_INLINE void tm_conv_1px_k(const tm_conv_params_t *p, const int8_t *x, int32_t n, int8_t *y,
                                 int8_t *buf, const int mode)
{
    const int32_t *const bias = p->bias, *const mult = p->mult, *const shift = p->shift;
    const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    const int8_t *w = p->filter;
    const int32_t nc = p->out_c, kq = p->k_stride >> 2;
    const tm_xp1_t xp = tm_xprep1(x, n, kq, buf);
    int32_t acc[4];
    int32_t o = 0, j;
    for (; o < nc; o += 4, w += (size_t)kq * 16u) {
        const int32_t nb = nc - o < 4 ? nc - o : 4;
        if (nb == 4) {
            acc[0] = bias[o]; acc[1] = bias[o + 1]; acc[2] = bias[o + 2]; acc[3] = bias[o + 3];
            tm_mm1_4(xp, w, kq, acc);
            TM_CONV_RQ1(0);
            TM_CONV_RQ1(1);
            TM_CONV_RQ1(2);
            TM_CONV_RQ1(3);
        } else {
            for (j = 0; j < nb; ++j) {
                acc[j] = bias[o + j];
            }
            tm_mm1_n(xp, w, kq, nb, acc);
            for (j = 0; j < nb; ++j) {
                TM_CONV_RQ1(j);
            }
        }
    }
}

static void tm_conv_1px(const tm_conv_params_t *p, const int8_t *x, int32_t n, int8_t *y,
                        int8_t *buf)
{
    /* the requantization is chosen once per call: a constant in each copy */
    switch (tm_aot_rq_mode(p->rq_fast, p->act_min, p->act_max)) {
    case TM_RQ_FULL: tm_conv_1px_k(p, x, n, y, buf, TM_RQ_FULL); break;
    case TM_RQ_FAST: tm_conv_1px_k(p, x, n, y, buf, TM_RQ_FAST); break;
    default: tm_conv_1px_k(p, x, n, y, buf, TM_RQ_TFLM); break;
    }
}

/* Channel o + j of both pixels from acc[j], acc[4 + j] (in tm_conv_2px_k). */
#define TM_CONV_RQ2(j) do { \
        const tm_aot_rq_t c_ = tm_aot_rq_ch(mult[o + (j)], shift[o + (j)], mode); \
        const int8_t v0_ = tm_aot_rq_apply(c_, acc[(j)], zp, lo, hi, mode); \
        const int8_t v1_ = tm_aot_rq_apply(c_, acc[4 + (j)], zp, lo, hi, mode); \
        y0[o + (j)] = v0_; \
        y1[o + (j)] = v1_; \
    } while (0)

/* All output channels of two pixels (inputs x0, x1; outputs y0, y1), output
 * channels in groups of 4 (2 pixels x 4 channels per pass), then the last group. */
TM_AOT_INLINE void tm_conv_2px_k(const tm_conv_params_t *p, const tm_xp2_t xp, int8_t *y0,
                                 int8_t *y1, const int mode)
{
    const int32_t *const bias = p->bias, *const mult = p->mult, *const shift = p->shift;
    const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    const int8_t *w = p->filter;
    const int32_t nc = p->out_c, kq = p->k_stride >> 2;
    int32_t acc[8];
    int32_t o = 0, j;
    for (; o < nc; o += 4, w += (size_t)kq * 16u) {
        const int32_t nb = nc - o < 4 ? nc - o : 4;
        if (nb == 4) {
            acc[0] = acc[4] = bias[o];
            acc[1] = acc[5] = bias[o + 1];
            acc[2] = acc[6] = bias[o + 2];
            acc[3] = acc[7] = bias[o + 3];
            tm_mm2_4(xp, w, kq, acc);
            /* unrolled: constant indexes keep acc in registers */
            TM_CONV_RQ2(0);
            TM_CONV_RQ2(1);
            TM_CONV_RQ2(2);
            TM_CONV_RQ2(3);
        } else {
            for (j = 0; j < nb; ++j) {
                acc[j] = acc[4 + j] = bias[o + j];
            }
            tm_mm2_n(xp, w, kq, nb, acc);
            for (j = 0; j < nb; ++j) {
                TM_CONV_RQ2(j);
            }
        }
    }
}

static void tm_conv_2px_pan(const tm_conv_params_t *p, const tm_xp2_t xp, int8_t *y0, int8_t *y1)
{
    /* the requantization is chosen once per call: a constant in each copy */
    switch (tm_aot_rq_mode(p->rq_fast, p->act_min, p->act_max)) {
    case TM_RQ_FULL: tm_conv_2px_k(p, xp, y0, y1, TM_RQ_FULL); break;
    case TM_RQ_FAST: tm_conv_2px_k(p, xp, y0, y1, TM_RQ_FAST); break;
    default: tm_conv_2px_k(p, xp, y0, y1, TM_RQ_TFLM); break;
    }
}

/* Two pixels from their n-byte input vectors (the panel is built in buf). */
static void tm_conv_2px(const tm_conv_params_t *p, const int8_t *x0, const int8_t *x1,
                        int32_t n, int8_t *y0, int8_t *y1, int8_t *buf)
{
    tm_conv_2px_pan(p, tm_xprep2(x0, x1, n, p->k_stride >> 2, buf), y0, y1);
}

#include "tm_k_conv_loop.h"

