/* tm_k_conv_add.h - int8 CONV_2D with little scratch (no im2col of a whole pixel), optionally
 * fused with the residual ADD that consumes it (tinyml/codegen/aot/fuse.py). */
#ifndef TM_K_CONV_ADD_H
#define TM_K_CONV_ADD_H

#include <stdint.h>

#include "tm_k_add.h"
#include "tm_k_conv.h"

/* Filter layout: plain rows, [out_c][k_stride] (k_h*k_w*in_c weights, then zeros);
 * p->reverse is ignored (pixels run first to last). Interior pixels read their k_h
 * input row segments in place (k_w*in_c contiguous bytes each: needs dil_w == 1);
 * border pixels go through an im2col of one pixel in `scratch` (k_stride bytes).
 *
 * add == NULL: out = conv(in), out must not overlap in.
 * add != NULL: out holds the skip tensor on entry and the ADD's output on return:
 * out[i] = clamp((lin_c + lin_a * out[i] + lin_b * conv(in)[i]) >> lin_shift,
 * act_min, act_max) with add's linear-form fields, element by element in place. */
void tm_k_conv_direct(const tm_conv_params_t *p, const tm_add_params_t *add,
                      const int8_t *in, int8_t *out, int8_t *scratch);

/* Same contract, in_c a multiple of 4 and the filter interleaved like tm_k_conv's
 * (groups of 4 channels, quads of 4 k-bytes): one kernel row of a pixel pair at a
 * time in a panel, scratch TM_CONV_PANEL_BYTES(k_w * in_c) bytes, 4-byte aligned. */
void tm_k_conv_rows(const tm_conv_params_t *p, const tm_add_params_t *add,
                    const int8_t *in, int8_t *out, int8_t *scratch);

#endif /* TM_K_CONV_ADD_H */
