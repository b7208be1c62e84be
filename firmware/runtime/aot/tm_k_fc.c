/* tm_k_fc.c - int8 FULLY_CONNECTED (inner products: tm_aot_dot.h).
 *
 * TFLM computes sum((x + input_offset) * w) + bias per output. The compiler folds
 * input_offset * sum(w) into the bias (exact integer algebra), so the inner loop is
 * a plain int8 dot product, two output features per pass.
 */
#include "tm_aot.h"

#define TM_AOT_DOT_IMPL TM_AOT_IMPL_FC
#include "tm_aot_dot.h"
#include "tm_k_fc.h"

void tm_k_fc(const tm_fc_params_t *p, const int8_t *in, int8_t *out)
{
    const int32_t n = p->in_features;
    int32_t b, o;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + (size_t)b * (size_t)n;
        int8_t *y = out + (size_t)b * (size_t)p->out_features;
        for (o = 0; o + 2 <= p->out_features; o += 2) {
            int32_t a0 = p->bias[o], a1 = p->bias[o + 1];
            const int32_t c0 = p->per_channel ? o : 0;
            const int32_t c1 = p->per_channel ? o + 1 : 0;
            tm_dot2_s8(x, p->filter + (size_t)o * (size_t)n,
                           p->filter + (size_t)(o + 1) * (size_t)n, n, &a0, &a1);
            y[o] = tm_aot_requant(a0, p->mult[c0], p->shift[c0], p->out_zp, p->act_min, p->act_max);
            y[o + 1] = tm_aot_requant(a1, p->mult[c1], p->shift[c1], p->out_zp, p->act_min, p->act_max);
        }
        for (; o < p->out_features; ++o) {
            const int32_t c = p->per_channel ? o : 0;
            const int32_t a = tm_dot_s8(x, p->filter + (size_t)o * (size_t)n, n, p->bias[o]);
            y[o] = tm_aot_requant(a, p->mult[c], p->shift[c], p->out_zp, p->act_min, p->act_max);
        }
    }
}

