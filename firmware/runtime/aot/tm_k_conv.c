/* tm_k_conv.c - int8 CONV_2D (the inner products come from tm_aot_dot.h: portable,
 * or SXTB16 + SMLAD on the Arm DSP extension).
 *
 * TFLM sums filter * (input + input_offset) over the taps inside the image and
 * skips taps in the padding. Filling padding with the input zero point makes those
 * taps add filter * 0 after the compiler folds input_offset * sum(filter) into the
 * bias, so every output is bias + a plain int8 dot product: bit-exact. Output
 * pixels go in pairs and output channels in pairs (2x2 blocks), so each loaded
 * input and weight feeds two multiplies. The loop order is tm_k_conv_loop.h.
 */
#include "tm_aot.h"

#define TM_AOT_DOT_IMPL TM_AOT_IMPL_CONV
#include "tm_aot_dot.h"
#include "tm_k_conv.h"

/* All output channels of one pixel from a contiguous K-byte input vector. */
TM_AOT_INLINE void tm_conv_1px_k(const tm_conv_params_t *p, const int8_t *x, int32_t k, int8_t *y,
                                 const int rq_fast)
{
    TM_REQ_LOCALS(p);
    const int32_t *const bias = p->bias;
    const int8_t *const filter = p->filter;
    const int32_t nc = p->out_c;
    int32_t o = 0;
    for (; o + 2 <= nc; o += 2) {
        int32_t a0 = bias[o], a1 = bias[o + 1];
        tm_dot2_s8(x, filter + (size_t)o * (size_t)k,
                       filter + (size_t)(o + 1) * (size_t)k, k, &a0, &a1);
        y[o] = TM_REQ(a0, o);
        y[o + 1] = TM_REQ(a1, o + 1);
    }
    for (; o < nc; ++o) {
        y[o] = TM_REQ(tm_dot_s8(x, filter + (size_t)o * (size_t)k, k, bias[o]), o);
    }
}

static void tm_conv_1px(const tm_conv_params_t *p, const int8_t *x, int32_t k, int8_t *y)
{
    /* rq_fast: a constant in each copy, so the requantization is chosen once per call */
    if (p->rq_fast) {
        tm_conv_1px_k(p, x, k, y, 1);
    } else {
        tm_conv_1px_k(p, x, k, y, 0);
    }
}

/* All output channels of two pixels (inputs x0, x1; outputs y0, y1). */
TM_AOT_INLINE void tm_conv_2px_k(const tm_conv_params_t *p, const int8_t *x0, const int8_t *x1,
                                 int32_t k, int8_t *y0, int8_t *y1, const int rq_fast)
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
        tm_dot2x2_s8(x0, x1, filter + (size_t)o * (size_t)k,
                         filter + (size_t)(o + 1) * (size_t)k, k, acc);
        y0[o] = TM_REQ(acc[0], o);
        y0[o + 1] = TM_REQ(acc[1], o + 1);
        y1[o] = TM_REQ(acc[2], o);
        y1[o + 1] = TM_REQ(acc[3], o + 1);
    }
    for (; o < nc; ++o) {
        int32_t a0 = bias[o], a1 = bias[o];
        tm_dot2_s8(filter + (size_t)o * (size_t)k, x0, x1, k, &a0, &a1);
        y0[o] = TM_REQ(a0, o);
        y1[o] = TM_REQ(a1, o);
    }
}

static void tm_conv_2px(const tm_conv_params_t *p, const int8_t *x0, const int8_t *x1,
                        int32_t k, int8_t *y0, int8_t *y1)
{
    /* rq_fast: a constant in each copy, so the requantization is chosen once per call */
    if (p->rq_fast) {
        tm_conv_2px_k(p, x0, x1, k, y0, y1, 1);
    } else {
        tm_conv_2px_k(p, x0, x1, k, y0, y1, 0);
    }
}

#include "tm_k_conv_loop.h"

