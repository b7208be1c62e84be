/* tm_k_dwconv.c - int8 DEPTHWISE_CONV_2D (any depth multiplier, stride, dilation,
 * padding; loop order: tm_k_dwconv_loop.h; four-channel inner products: tm_aot_dot.h). A pixel pair's group
 * of four channels is computed one pixel at a time (four accumulators), and both
 * pixels' outputs are stored after all reads of the group, the order the memory
 * plan's mirror (access.dwconv) assumes. */
#include "tm_aot.h"

#define TM_AOT_DOT_IMPL TM_AOT_IMPL_DWCONV
#include "tm_aot_dot.h"
#include "tm_k_dwconv.h"

/* Requantized channels c..c+3 of one pixel, packed little-endian into a word. */
TM_AOT_INLINE uint32_t tm_dw_group4(const tm_dwconv_params_t *p, const int8_t *const *taps,
                                    int32_t ntaps, int32_t c, const int rq_fast)
{
    TM_REQ_LOCALS(p);
    int32_t a[4];
    memcpy(a, p->bias + c, sizeof a);
    tm_dw_mac4(taps, ntaps, c, p->filter + c, (size_t)p->out_c, a);
    return (uint32_t)(uint8_t)TM_REQ(a[0], c) | (uint32_t)(uint8_t)TM_REQ(a[1], c + 1) << 8 |
           (uint32_t)(uint8_t)TM_REQ(a[2], c + 2) << 16 | (uint32_t)(uint8_t)TM_REQ(a[3], c + 3) << 24;
}

/* Channels past the last group of four, one at a time. */
TM_AOT_INLINE int8_t tm_dw_channel(const tm_dwconv_params_t *p, const int8_t *const *taps,
                                   int32_t ntaps, int32_t c, const int rq_fast)
{
    TM_REQ_LOCALS(p);
    const size_t nc = (size_t)p->out_c;
    int32_t a = p->bias[c], t;
    for (t = 0; t < ntaps; ++t) {
        a += (int32_t)taps[t][c] * p->filter[(size_t)t * nc + (size_t)c];
    }
    return TM_REQ(a, c);
}

/* Depth multiplier 1: all channels of one pixel. */
TM_AOT_INLINE void tm_dw_pixel_m1_k(const tm_dwconv_params_t *p, const int8_t *const *taps,
                                    int32_t ntaps, int8_t *y, const int rq_fast)
{
    const int32_t nc = p->out_c;
    int32_t c = 0;
    for (; c + 4 <= nc; c += 4) {
        tm_store4(y + c, tm_dw_group4(p, taps, ntaps, c, rq_fast));
    }
    for (; c < nc; ++c) {
        y[c] = tm_dw_channel(p, taps, ntaps, c, rq_fast);
    }
}

/* Depth multiplier 1, two pixels (taps ta, tb); each channel group is stored for
 * both pixels after it has been read for both. */
TM_AOT_INLINE void tm_dw_2px_m1_k(const tm_dwconv_params_t *p, const int8_t *const *ta,
                                  const int8_t *const *tb, int32_t ntaps, int8_t *ya, int8_t *yb,
                                  const int rq_fast)
{
    const int32_t nc = p->out_c;
    int32_t c = 0;
    for (; c + 4 <= nc; c += 4) {
        const uint32_t va = tm_dw_group4(p, ta, ntaps, c, rq_fast);
        const uint32_t vb = tm_dw_group4(p, tb, ntaps, c, rq_fast);
        tm_store4(ya + c, va);
        tm_store4(yb + c, vb);
    }
    for (; c < nc; ++c) {
        const int8_t va = tm_dw_channel(p, ta, ntaps, c, rq_fast);
        const int8_t vb = tm_dw_channel(p, tb, ntaps, c, rq_fast);
        ya[c] = va;
        yb[c] = vb;
    }
}

static void tm_dw_pixel_m1(const tm_dwconv_params_t *p, const int8_t *const *taps,
                           int32_t ntaps, int8_t *y)
{
    /* rq_fast: a constant in each copy, so the requantization is chosen once per call */
    if (p->rq_fast) {
        tm_dw_pixel_m1_k(p, taps, ntaps, y, 1);
    } else {
        tm_dw_pixel_m1_k(p, taps, ntaps, y, 0);
    }
}

static void tm_dw_2px_m1(const tm_dwconv_params_t *p, const int8_t *const *ta,
                         const int8_t *const *tb, int32_t ntaps, int8_t *ya, int8_t *yb)
{
    if (p->rq_fast) {
        tm_dw_2px_m1_k(p, ta, tb, ntaps, ya, yb, 1);
    } else {
        tm_dw_2px_m1_k(p, ta, tb, ntaps, ya, yb, 0);
    }
}

#include "tm_k_dwconv_loop.h"

