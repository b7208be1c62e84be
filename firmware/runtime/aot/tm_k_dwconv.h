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

/* tm_k_dwconv_3x3: 3x3 filter, depth multiplier 1, no dilation, the same stride (1 or 2)
 * and padding of at most 1 in both directions. Loop order (mirrored by access.dwconv3x3):
 * output rows (last to first when reverse), then blocks of the row left to right (two
 * pixels at stride 1, then a last single; one pixel at stride 2), then channels; channel
 * c of a block reads its input columns, then stores its outputs. Padding rows read a row of
 * in_zp in the scratch (TM_DW3_SCRATCH_BYTES); padding columns are in_zp, not read. No
 * limits beyond the shape rule (checked by the compiler). */
#define TM_DW3_REC 10     /* int32 words per channel in tm_dwconv3x3_params_t.chan */
#define TM_DW3_SCRATCH_BYTES(in_w, c) ((in_w) * (c))

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, c;
    int32_t out_h, out_w;
    int32_t stride;                /* 1 or 2 */
    int32_t pad_h, pad_w;          /* 0 or 1 (top / left) */
    int32_t in_zp, out_zp, act_min, act_max;
    /* per channel: w01, w12 of kernel rows 0..2 (int16 pairs: w0 | w1 << 16, w1 | w2 << 16),
     * bias - in_zp * sum of the taps, then rq 0: mult, unused, shift; rq 1, 2: m2 = 2 mult
     * - 2^32, kz = 2^(r-1) + out_zp * 2^r, r = -shift (tm_dw_rq1) */
    const int32_t *chan;
    int32_t rq;                    /* 0: TFLM two roundings; 1: one rounding (tm_dw_rq1),
                                      clamp to the activation range; 2: 1 with the int8 range */
    int32_t reverse;               /* 1: rows from last to first (memory plan overlap) */
} tm_dwconv3x3_params_t;

void tm_k_dwconv_3x3(const tm_dwconv3x3_params_t *p, const int8_t *in, int8_t *out,
                     int8_t *scratch);

#endif /* TM_K_DWCONV_H */
