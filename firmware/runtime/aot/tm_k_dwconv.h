/* tm_k_dwconv.h - int8 DEPTHWISE_CONV_2D, per-channel, any depth multiplier. */
#ifndef TM_K_DWCONV_H
#define TM_K_DWCONV_H

#include <stdint.h>

/* Arena scratch of tm_k_dwconv: two tables of k_h*k_w tap pointers stored in
 * TM_DW_TAP_BYTES each (enough for 64-bit hosts), then in_c bytes of zero points.
 * The compiler reads TM_DW_TAP_BYTES from this header (ops/conv.py). */
#define TM_DW_TAP_BYTES 8
#define TM_DW_SCRATCH_BYTES(taps, in_c) (2 * (taps) * TM_DW_TAP_BYTES + (in_c))

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
    int32_t rq_fast;            /* 1: every channel has mult > 2^30, shift <= -2 (tm_aot_requant_r2) */
} tm_dwconv_params_t;

/* scratch: TM_DW_SCRATCH_BYTES(k_h * k_w, in_c) bytes, pointer-aligned. */
void tm_k_dwconv(const tm_dwconv_params_t *p, const int8_t *in, int8_t *out, int8_t *scratch);

#endif /* TM_K_DWCONV_H */
