/* tm_k_conv.h - int8 CONV_2D, per-channel weights (TFLM reference arithmetic). */
#ifndef TM_K_CONV_H
#define TM_K_CONV_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;       /* top / left padding */
    int32_t in_zp;              /* value of padded input (adds nothing after folding) */
    int32_t out_zp, act_min, act_max;
    const int8_t *filter;       /* [out_c][k_stride] (k_h*k_w*in_c weights, then zeros),
                                 * interleaved: groups of 4 channels (last: out_c % 4),
                                 * per 4 k-bytes the 4 bytes of each channel in turn */
    const int32_t *bias;        /* [out_c]: bias - in_zp * sum(filter of channel) */
    const int32_t *mult;        /* [out_c] */
    const int32_t *shift;       /* [out_c] */
    int32_t reverse;            /* 1: pixels from last to first (memory plan overlap) */
    int32_t k_stride;           /* filter row and im2col row bytes, a multiple of 4 */
    int32_t rq_fast;            /* 1: every channel has mult > 2^30, shift <= -2 (tm_aot_requant_r2) */
} tm_conv_params_t;

/* Scratch of the input panel of two pixels (int16 on the Arm DSP path). */
#define TM_CONV_PANEL_BYTES(k_stride) (4 * (k_stride))

/* General conv: im2col of two output pixels into their panel in `scratch`
 * (straight when in_c is a multiple of 4, else through int8 rows after it):
 * TM_CONV_SCRATCH_BYTES(k_stride, in_c) bytes, 4-byte aligned. */
#define TM_CONV_SCRATCH_BYTES(k_stride, in_c) \
    (TM_CONV_PANEL_BYTES(k_stride) + (((in_c) & 3) ? 2 * (k_stride) : 0))
void tm_k_conv(const tm_conv_params_t *p, const int8_t *in, int8_t *out, int8_t *scratch);

/* 1x1 kernel without padding (any stride): scratch TM_CONV_PANEL_BYTES(k_stride). */
void tm_k_conv_1x1(const tm_conv_params_t *p, const int8_t *in, int8_t *out, int8_t *scratch);

#endif /* TM_K_CONV_H */
