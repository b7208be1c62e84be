/*
 * tm_k_misc.h - int8 kernels of the tinyml AOT runtime for the "misc" ops:
 * pooling, softmax, mean, pad, strided copies (transpose, slices, splits),
 * concatenation, logistic, the other activations, quantize/dequantize.
 *
 * Every kernel reproduces the integer arithmetic of the TensorFlow Lite Micro
 * reference kernels bit for bit; the code generator (tinyml/codegen/aot/ops/)
 * computes all multipliers/shifts on the host, exactly as TFLM's Prepare
 * functions do, and passes them as plain arguments. Tensors are NHWC, int8,
 * contiguous. No kernel allocates memory or keeps state.
 */
#ifndef TM_K_MISC_H
#define TM_K_MISC_H

#include <stdint.h>

#include "tm_aot.h" /* fixed-point helpers (tm_aot_fx.h): srdhm, rdpot, exp, 1/(1+x) */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pooling (TFLM reference_integer_ops::AveragePool / MaxPool) -------- */

/* Window geometry shared by both pools. pad_* is the top/left padding TFLM's
 * ComputePaddingHeightWidth derives; act_min/act_max the fused activation
 * clamp in output units. */
typedef struct {
    int32_t batches, in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t filter_h, filter_w, stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
} tm_pool_params_t;

/* Averages only the window elements inside the input (TFLM semantics under
 * SAME padding), rounding half away from zero. */
void tm_k_avg_pool_s8(const tm_pool_params_t *p, const int8_t *in, int8_t *out);
void tm_k_max_pool_s8(const tm_pool_params_t *p, const int8_t *in, int8_t *out);

/* ---- softmax (TFLM reference_ops::Softmax<int8_t,int8_t>, gemmlowp exp) -- */

/* Softmax over the last axis of `outer` rows of `depth` values. Output scale
 * is 1/256, zero point -128 (TFLM requires it). beta_multiplier/beta_shift/
 * diff_min come from PreprocessSoftmaxScaling/CalculateInputRadius. */
void tm_k_softmax_s8(const int8_t *in, int8_t *out, int32_t outer,
                     int32_t depth, int32_t beta_multiplier,
                     int32_t beta_shift, int32_t diff_min);

/* ---- logistic (TFLM reference_integer_ops::Logistic, gemmlowp) ---------- */

void tm_k_logistic_s8(const int8_t *in, int8_t *out, int32_t size,
                      int32_t in_zp, int32_t range_radius,
                      int32_t multiplier, int32_t shift);

/* ---- activations (TFLM RELU, RELU6, LEAKY_RELU, TANH, HARD_SWISH) ------- */

#define TM_ACT_RELU 0       /* out_zp + rescale(x) by (m1, s1), clamped to [lo, hi] */
#define TM_ACT_CLAMP 1      /* RELU6: the input value clamped to [lo, hi] */
#define TM_ACT_LEAKY 2      /* x >= 0: rescale (m1, s1); else (m2, s2), negated if neg2 */
#define TM_ACT_TANH 3       /* input to Q4.27 by (m1, s1), |x| >= radius saturates */
#define TM_ACT_HARD_SWISH 4 /* m1/s1: int16 output multiplier and exponent, m2/s2 reluish */

typedef struct {
    int32_t kind;
    int32_t in_zp, out_zp;  /* x = in - in_zp */
    int32_t m1, s1, m2, s2, neg2;
    int32_t radius;
    int32_t lo, hi;         /* output clamp */
} tm_act_params_t;

/* `table` (256 bytes of scratch, or 0): evaluate all 256 inputs once, then look
 * each element up. `out` may be `in` (in place). */
void tm_k_act_s8(const tm_act_params_t *p, const int8_t *in, int8_t *out, int32_t size,
                 int8_t *table);

/* ---- mean over contiguous axes (TFLM QuantizedMeanOrSum) ---------------- */

/* The input is viewed as [outer, reduce, inner]; the output as
 * [outer, inner]. multiplier/shift already include the 1/reduce factor the
 * way TFLM folds it in. */
void tm_k_mean_s8(const int8_t *in, int8_t *out, int32_t outer,
                  int32_t reduce, int32_t inner, int32_t in_zp,
                  int32_t out_zp, int32_t multiplier, int32_t shift);

/* ---- data movement (tm_k_strided.c) ------------------------------------- */

/* out (contiguous, out_shape) takes in[sum_d i_d * in_stride[d]]: TRANSPOSE
 * (permuted strides), SLICE / STRIDED_SLICE / SPLIT / UNPACK (`in` already offset
 * to the first element; strides may be negative). Rank <= 6, left-padded with 1. */
void tm_k_strided_copy_s8(const int8_t *in, int8_t *out, const int32_t out_shape[6],
                          const int32_t in_stride[6]);

/* GATHER along one axis: in is [outer, axis_len, inner], out [outer, n_index, inner]. */
void tm_k_gather_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis_len,
                    int32_t inner, const int32_t *index, int32_t n_index);

/* RESIZE_NEAREST_NEIGHBOR (NHWC): output pixel (y, x) copies the `depth` bytes at
 * row_offset[y] + col_offset[x] of its batch (tables from TFLM's GetNearestNeighbor). */
void tm_k_resize_nearest_s8(const int8_t *in, int8_t *out, int32_t batches,
                            int32_t batch_stride, int32_t out_h, int32_t out_w,
                            int32_t depth, const int32_t *row_offset,
                            const int32_t *col_offset);

/* RESIZE_BILINEAR (NHWC, tm_k_bilinear.c): rows[3y .. 3y+2] are output row y's two
 * source row offsets and its 10-bit fraction, cols[] the same per column. */
void tm_k_resize_bilinear_s8(const int8_t *in, int8_t *out, int32_t batches,
                             int32_t batch_stride, int32_t out_h, int32_t out_w,
                             int32_t depth, const int32_t *rows, const int32_t *cols);

/* ---- transpose convolution (tm_k_tconv.c) ------------------------------- */

typedef struct {
    int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w;
    int32_t stride_h, stride_w, pad_h, pad_w; /* TFLM's padding of the output size */
    int32_t in_zp, out_zp, act_min, act_max;
    const int8_t *filter;   /* [out_c][k_h][k_w][in_c], as in the .tflite */
    const int32_t *bias;    /* [out_c] (zeros without a bias input) */
    const int32_t *mult;    /* [out_c] */
    const int32_t *shift;   /* [out_c] */
} tm_tconv_params_t;

void tm_k_transpose_conv_s8(const tm_tconv_params_t *p, const int8_t *in, int8_t *out);

/* ---- batch matmul (tm_k_bmm.c) ---------------------------------------- */

typedef struct {
    int32_t batch[3];             /* output batch dims (rank padded to 5) */
    int32_t a_batch[3], b_batch[3]; /* element strides per batch dim (0: broadcast) */
    int32_t rows, cols, depth;    /* out [.., rows, cols] = a [.., rows, depth] x b */
    int32_t a_row, a_k;           /* a's element strides along rows and depth */
    int32_t b_k, b_col;           /* b's element strides along depth and cols */
    int32_t a_zp, b_zp, mult, shift, out_zp;
} tm_bmm_params_t;

void tm_k_batch_matmul_s8(const tm_bmm_params_t *p, const int8_t *a, const int8_t *b, int8_t *out);

/* ---- pad (TFLM reference_ops::Pad, rank <= 4, shapes left-padded with 1) - */

void tm_k_pad_s8(const int8_t *in, int8_t *out, const int32_t in_shape[4],
                 const int32_t pad_before[4], const int32_t pad_after[4],
                 int8_t pad_value);

/* ---- concatenation (TFLM copies int8 bytes; the converter equalises the
 * scales beforehand with QUANTIZE ops) ------------------------------------ */

/* Inputs are viewed as [outer, axis_len[i] * inner]. */
void tm_k_concat_s8(const int8_t *const *inputs, const int32_t *axis_len,
                    int32_t n_inputs, int8_t *out, int32_t outer,
                    int32_t inner);

/* ---- quantize / requantize / dequantize --------------------------------- */

/* int8 -> int8 with a new scale/zero point (TFLM reference_ops::Requantize). */
void tm_k_requantize_s8(const int8_t *in, int8_t *out, int32_t size,
                        int32_t in_zp, int32_t out_zp, int32_t multiplier,
                        int32_t shift);

/* float -> int8: round(x / scale) + zp, clamped (TFLM AffineQuantize).
 * The float side is untyped bytes: the model's float tensors live in the int8
 * arena, and reading them through a float pointer would break strict aliasing,
 * so every float is copied with memcpy (one load on Cortex-M). */
void tm_k_quantize_f32_s8(const void *in, int8_t *out, int32_t size,
                          float scale, int32_t zp);

/* int8 -> float: scale * (q - zp) (TFLM Dequantize); float bytes out via memcpy. */
void tm_k_dequantize_s8_f32(const int8_t *in, void *out, int32_t size,
                            float scale, int32_t zp);

#ifdef __cplusplus
}
#endif

#endif /* TM_K_MISC_H */
