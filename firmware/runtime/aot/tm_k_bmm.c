/* tm_k_bmm.c - int8 BATCH_MATMUL (TFLM reference BatchMatMul arithmetic: zero points
 * subtracted, one multiplier, int8 clamp). Operands are read through strides, so
 * adj_x / adj_y (transposed operands) and broadcast batch dims need no copies; TFLM
 * transposes into arena buffers first. */
#include "tm_aot.h"
#include "tm_k_misc.h"

void tm_k_batch_matmul_s8(const tm_bmm_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    const int32_t za = p->a_zp, zb = p->b_zp, m = p->mult, sh = p->shift;
    int32_t b0, b1, b2, i, j, k;
    for (b0 = 0; b0 < p->batch[0]; ++b0) {
        for (b1 = 0; b1 < p->batch[1]; ++b1) {
            for (b2 = 0; b2 < p->batch[2]; ++b2) {
                const int8_t *pa = a + b0 * p->a_batch[0] + b1 * p->a_batch[1] + b2 * p->a_batch[2];
                const int8_t *pb = b + b0 * p->b_batch[0] + b1 * p->b_batch[1] + b2 * p->b_batch[2];
                for (i = 0; i < p->rows; ++i) {
                    for (j = 0; j < p->cols; ++j) {
                        const int8_t *ra = pa + i * p->a_row, *cb = pb + j * p->b_col;
                        int32_t acc = 0;
                        for (k = 0; k < p->depth; ++k) {
                            acc += (ra[k * p->a_k] - za) * (cb[k * p->b_k] - zb);
                        }
                        *out++ = tm_aot_requant(acc, m, (int)sh, p->out_zp, -128, 127);
                    }
                }
            }
        }
    }
}
