/* tm_k_fc.h - int8 FULLY_CONNECTED (TFLM reference arithmetic). */
#ifndef TM_K_FC_H
#define TM_K_FC_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_features;
    int32_t out_features;
    const int8_t *filter;      /* [out_features][in_features rounded up to 4], interleaved
                                * in groups of 4 features like tm_k_conv's filter */
    const int32_t *bias;       /* [out_features]: bias - input_zp * sum(filter row) */
    const int32_t *mult;       /* [per_channel ? out_features : 1] */
    const int32_t *shift;      /* same length as mult */
    int32_t per_channel;
    int32_t out_zp;
    int32_t act_min;
    int32_t act_max;
    int32_t rq_fast;           /* 1: every multiplier > 2^30 and shift <= -2 (tm_aot_requant_r2);
                                * then bias, mult and shift are NULL and rqc holds them */
    const int32_t *rqc;        /* rq_fast: [out_features][TM_AOT_RQC_WORDS] records
                                * {bias, m, rm1, half} (tm_aot_rq_rec), else NULL */
} tm_fc_params_t;

/* Input read in place: no scratch. */
void tm_k_fc(const tm_fc_params_t *p, const int8_t *in, int8_t *out);

/* Each input row expanded once into a panel: TM_FC_PANEL_BYTES(in_features) of
 * scratch, 4-byte aligned (int16 pairs on the Arm DSP path). */
#define TM_FC_PANEL_BYTES(n) (2 * (((n) + 3) / 4) * 4)
void tm_k_fc_pan(const tm_fc_params_t *p, const int8_t *in, int8_t *out, int8_t *scratch);

#endif /* TM_K_FC_H */
