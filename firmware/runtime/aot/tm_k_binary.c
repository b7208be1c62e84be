/* tm_k_binary.c - int8 MUL / MAXIMUM / MINIMUM / SQUARED_DIFFERENCE / PRELU (TFLM
 * MulElementwise, MaximumMinimumBroadcast, SquaredDifference, Prelu per element).
 * One loop nest per kind, so the inner loop carries no dispatch. */
#include "tm_k_binary.h"

#include "tm_aot.h"

/* Walks the 4-D output in order; `x`, `y` are the two inputs' elements. */
#define TM_BIN_LOOP(EXPR)                                                                   \
    for (i0 = 0; i0 < p->dims[0]; ++i0) {                                                   \
        for (i1 = 0; i1 < p->dims[1]; ++i1) {                                               \
            for (i2 = 0; i2 < p->dims[2]; ++i2) {                                           \
                const int8_t *pa = a + i0 * p->a_strides[0] + i1 * p->a_strides[1] +        \
                                   i2 * p->a_strides[2];                                    \
                const int8_t *pb = b + i0 * p->b_strides[0] + i1 * p->b_strides[1] +        \
                                   i2 * p->b_strides[2];                                    \
                for (i3 = 0; i3 < n3; ++i3) {                                               \
                    const int32_t x = pa[i3 * sa], y = pb[i3 * sb];                         \
                    *out++ = (int8_t)(EXPR);                                                \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    }

static int32_t tm_bin_sq(int32_t d) { return d * d; }

void tm_k_binary_s8(const tm_binary_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    /* Locals: int8 stores may alias `*p`, which would force reloads. */
    const int32_t off1 = p->in1_offset, off2 = p->in2_offset;
    const int32_t mo = p->out_mult, so = p->out_shift, zp = p->out_zp;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t n3 = p->dims[3], sa = p->a_strides[3], sb = p->b_strides[3];
    int32_t i0, i1, i2, i3;
    if (p->kind == TM_BIN_MUL) {
        TM_BIN_LOOP(tm_aot_clamp(zp + tm_aot_mul_by_qm((off1 + x) * (off2 + y), mo, (int)so),
                                 lo, hi))
    } else if (p->kind == TM_BIN_SQDIFF) {
        const int32_t ls = p->left_shift, m1 = p->in1_mult, s1 = p->in1_shift;
        const int32_t m2 = p->in2_mult, s2 = p->in2_shift;
        TM_BIN_LOOP(tm_aot_clamp(
            zp + tm_aot_mul_by_qm(tm_bin_sq(tm_aot_mul_by_qm_lt1((off1 + x) * (1 << ls), m1, (int)s1) -
                                            tm_aot_mul_by_qm_lt1((off2 + y) * (1 << ls), m2, (int)s2)),
                                  mo, (int)so),
            lo, hi))
    } else if (p->kind == TM_BIN_PRELU) {
        const int32_t mn = p->out_mult2, sn = p->out_shift2;
        TM_BIN_LOOP(tm_aot_clamp(zp + (off1 + x >= 0 ? tm_aot_mul_by_qm(off1 + x, mo, (int)so)
                                                     : tm_aot_mul_by_qm((off1 + x) * (off2 + y),
                                                                        mn, (int)sn)),
                                 lo, hi))
    } else if (p->kind == TM_BIN_MAX) {
        TM_BIN_LOOP(x > y ? x : y)
    } else {
        TM_BIN_LOOP(x < y ? x : y)
    }
}
