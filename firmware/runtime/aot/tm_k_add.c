/* tm_k_add.c - int8 ADD and SUB: both inputs rescaled to a common 2^20-scaled
 * domain with their own multipliers, summed (SUB: subtracted), then rescaled to
 * the output (TFLM's scheme). */
#include "tm_k_add.h"

#include "tm_aot.h"

#if TM_AOT_DSP
#include <arm_acle.h>
#endif

void tm_k_add(const tm_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    /* Locals: int8 stores may alias `*p`, which would force a reload per element. */
    const int32_t n = p->size, ls = p->left_shift;
    const int32_t off1 = p->in1_offset, m1 = p->in1_mult, s1 = p->in1_shift;
    const int32_t off2 = p->in2_offset, m2 = p->in2_mult, s2 = p->in2_shift, sg = p->in2_sign;
    const int32_t mo = p->out_mult, so = p->out_shift, zp = p->out_zp;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t x1 = (int32_t)((uint32_t)(off1 + a[i]) << ls);
        const int32_t x2 = (int32_t)((uint32_t)(off2 + b[i]) << ls);
        const int32_t r = tm_aot_mul_by_qm_lt1(tm_aot_mul_by_qm_lt1(x1, m1, s1) +
                                               sg * tm_aot_mul_by_qm_lt1(x2, m2, s2), mo, so) + zp;
        out[i] = (int8_t)tm_aot_clamp(r, lo, hi);
    }
}

void tm_k_add_lut(const tm_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    const int32_t n = p->size;
    const int32_t *const t1 = p->lut1 + 128;
    const int32_t *const t2 = p->lut2 + 128;
    const int32_t mo = p->out_mult, so = p->out_shift, zp = p->out_zp;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t r = tm_aot_mul_by_qm_lt1(t1[a[i]] + t2[b[i]], mo, so) + zp;
        out[i] = (int8_t)tm_aot_clamp(r, lo, hi);
    }
}

/* One element of the linear form, before the clamp (kc first: two MLAs). */
#define TM_ADD_LIN(i) ((kc + ka * a[(i)] + kb * b[(i)]) >> sh)

void tm_k_add_lin(const tm_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    /* >> of a negative int is an arithmetic shift, as tm_aot_fx.h assumes throughout */
    const int32_t n = p->size;
    const int32_t ka = p->lin_a, kb = p->lin_b, kc = p->lin_c, sh = p->lin_shift;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t i = 0;
#if TM_AOT_DSP
    if (lo == -128 && hi == 127) {      /* no activation clamp: SSAT alone */
        for (; i + 2 <= n; i += 2) {
            const int32_t r0 = TM_ADD_LIN(i), r1 = TM_ADD_LIN(i + 1);
            out[i] = (int8_t)__ssat(r0, 8);
            out[i + 1] = (int8_t)__ssat(r1, 8);
        }
    }
#endif
    for (; i < n; ++i) {
        out[i] = (int8_t)tm_aot_clamp(TM_ADD_LIN(i), lo, hi);
    }
}

void tm_k_add_bcast(const tm_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    const int32_t ls = p->left_shift;
    const int32_t off1 = p->in1_offset, m1 = p->in1_mult, s1 = p->in1_shift;
    const int32_t off2 = p->in2_offset, m2 = p->in2_mult, s2 = p->in2_shift, sg = p->in2_sign;
    const int32_t mo = p->out_mult, so = p->out_shift, zp = p->out_zp;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t i0, i1, i2, i3;
    for (i0 = 0; i0 < p->dims[0]; ++i0) {
        for (i1 = 0; i1 < p->dims[1]; ++i1) {
            for (i2 = 0; i2 < p->dims[2]; ++i2) {
                const int8_t *pa = a + i0 * p->a_strides[0] + i1 * p->a_strides[1] + i2 * p->a_strides[2];
                const int8_t *pb = b + i0 * p->b_strides[0] + i1 * p->b_strides[1] + i2 * p->b_strides[2];
                const int32_t sa = p->a_strides[3], sb = p->b_strides[3];
                for (i3 = 0; i3 < p->dims[3]; ++i3) {
                    const int32_t x1 = (int32_t)((uint32_t)(off1 + pa[i3 * sa]) << ls);
                    const int32_t x2 = (int32_t)((uint32_t)(off2 + pb[i3 * sb]) << ls);
                    const int32_t r = tm_aot_mul_by_qm_lt1(tm_aot_mul_by_qm_lt1(x1, m1, s1) +
                                                           sg * tm_aot_mul_by_qm_lt1(x2, m2, s2), mo, so) + zp;
                    *out++ = (int8_t)tm_aot_clamp(r, lo, hi);
                }
            }
        }
    }
}
