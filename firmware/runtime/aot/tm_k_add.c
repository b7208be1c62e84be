/* tm_k_add.c - int8 ADD: both inputs rescaled to a common 2^20-scaled domain with
 * their own multipliers, summed, then rescaled to the output (TFLM's scheme). */
#include "tm_k_add.h"

#include "tm_aot.h"

void tm_k_add(const tm_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x1 = (int32_t)((uint32_t)(p->in1_offset + a[i]) << p->left_shift);
        const int32_t x2 = (int32_t)((uint32_t)(p->in2_offset + b[i]) << p->left_shift);
        const int32_t s1 = tm_aot_mul_by_qm_lt1(x1, p->in1_mult, p->in1_shift);
        const int32_t s2 = tm_aot_mul_by_qm_lt1(x2, p->in2_mult, p->in2_shift);
        const int32_t r = tm_aot_mul_by_qm_lt1(s1 + s2, p->out_mult, p->out_shift) + p->out_zp;
        out[i] = (int8_t)tm_aot_clamp(r, p->act_min, p->act_max);
    }
}
