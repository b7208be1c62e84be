/* tm_k_fc.h - int8 FULLY_CONNECTED (TFLM reference arithmetic). */
#ifndef TM_K_FC_H
#define TM_K_FC_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_features;
    int32_t out_features;
    const int8_t *filter;      /* [out_features][in_features] */
    const int32_t *bias;       /* [out_features]: bias - input_zp * sum(filter row) */
    const int32_t *mult;       /* [per_channel ? out_features : 1] */
    const int32_t *shift;      /* same length as mult */
    int32_t per_channel;
    int32_t out_zp;
    int32_t act_min;
    int32_t act_max;
} tm_fc_params_t;

void tm_k_fc(const tm_fc_params_t *p, const int8_t *in, int8_t *out);

#endif /* TM_K_FC_H */
