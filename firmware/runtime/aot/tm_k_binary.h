/* tm_k_binary.h - int8 MUL, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE and PRELU with
 * broadcasting over up to 4 dims, bit-exact with TFLM's reference kernels. */
#ifndef TM_K_BINARY_H
#define TM_K_BINARY_H

#include <stdint.h>

#define TM_BIN_MUL 0 /* out_zp + rescale((a - za) * (b - zb)), clamped */
#define TM_BIN_MAX 1 /* the larger raw int8 value (TFLM compares raw values) */
#define TM_BIN_MIN 2
#define TM_BIN_SQDIFF 3 /* out_zp + rescale((rescale(a) - rescale(b))^2), clamped */
#define TM_BIN_PRELU 4  /* a - za >= 0: rescale1(a - za), else rescale2((a - za) * (b - zb)) */

typedef struct {
    int32_t kind;
    int32_t in1_offset, in2_offset; /* -zero points (MUL, SQDIFF, PRELU) */
    int32_t out_mult, out_shift, out_zp, act_min, act_max;
    /* SQDIFF: inputs shifted left by left_shift, then rescaled (shift <= 0) */
    int32_t left_shift, in1_mult, in1_shift, in2_mult, in2_shift;
    int32_t out_mult2, out_shift2; /* PRELU: the negative side's rescale */
    /* output dims, element strides of a and b per output dim (0: broadcast) */
    int32_t dims[4];
    int32_t a_strides[4];
    int32_t b_strides[4];
} tm_binary_params_t;

/* `out` may be `a` or `b` when that input has the output's shape (in place). */
void tm_k_binary_s8(const tm_binary_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);

#endif /* TM_K_BINARY_H */
