/* tm_k_dwconv.h - int8 DEPTHWISE_CONV_2D, per-channel, any depth multiplier. */
#ifndef TM_K_DWCONV_H
#define TM_K_DWCONV_H

#include <stdint.h>

#define TM_DW_MAX_TAPS 100   /* k_h * k_w; the compiler refuses larger kernels */

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;   /* out_c = in_c * depth_mult */
    int32_t depth_mult;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t in_zp;                 /* padding value: adds nothing after bias folding */
    int32_t out_zp, act_min, act_max;
    const int8_t *filter;          /* [k_h][k_w][out_c] */
    const int32_t *bias;           /* [out_c]: bias - in_zp * sum of the channel's taps */
    const int32_t *mult;           /* [out_c] */
    const int32_t *shift;          /* [out_c] */
    int32_t reverse;               /* 1: pixels from last to first (memory plan overlap) */
} tm_dwconv_params_t;

/* zp_row: scratch of in_c bytes (filled with in_zp here). */
void tm_k_dwconv(const tm_dwconv_params_t *p, const int8_t *in, int8_t *out, int8_t *zp_row);

#endif /* TM_K_DWCONV_H */
