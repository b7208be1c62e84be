/* tm_k_add.h - int8 ADD and SUB (TFLM arithmetic, left_shift 20). */
#ifndef TM_K_ADD_H
#define TM_K_ADD_H

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t in1_offset, in2_offset;   /* -zero points */
    int32_t left_shift;               /* 20 for int8 */
    int32_t in1_mult, in1_shift;
    int32_t in2_mult, in2_shift;
    int32_t in2_sign;                 /* 1: ADD, -1: SUB (a - b); tables come negated */
    int32_t out_mult, out_shift;
    int32_t out_zp, act_min, act_max;
    /* Broadcasting only (tm_k_add_bcast): output dims, element strides of a and b
     * per output dim (0 where that input is broadcast). */
    int32_t dims[4];
    int32_t a_strides[4];
    int32_t b_strides[4];
    /* Tables only (tm_k_add_lut): the rescaled input for every int8 value v at
     * index v + 128, i.e. mul_by_qm_lt1((in_offset + v) << left_shift, in_mult,
     * in_shift), baked by the compiler. */
    const int32_t *lut1;
    const int32_t *lut2;
    /* Linear form only (tm_k_add_lin): out = clamp((lin_a * a + lin_b * b + lin_c)
     * >> lin_shift), which the compiler proved equal to TFLM's arithmetic for all
     * 65,536 input pairs and free of int32 overflow (output zero point in lin_c). */
    int32_t lin_a, lin_b, lin_c, lin_shift;
} tm_add_params_t;

/* Elementwise; `out` may be the same buffer as `a` or `b` (in place). */
void tm_k_add(const tm_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);

/* Same as tm_k_add, the two input rescales read from p->lut1 / p->lut2. */
void tm_k_add_lut(const tm_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);

/* Same as tm_k_add through the proven linear form: two multiply-adds per element. */
void tm_k_add_lin(const tm_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);

/* Broadcasting ADD over up to 4 dims (TFLM BroadcastAdd arithmetic per element). */
void tm_k_add_bcast(const tm_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);

#endif /* TM_K_ADD_H */
