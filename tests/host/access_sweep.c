/* access_sweep.c - runs one AOT kernel with its output placed at every offset d
 * from its input, in one buffer, and reports which placements gave the same bytes
 * as an out-of-place run. tests/host/test_aot_access.py checks that every placement
 * the kernel's access pattern (tinyml/codegen/aot/access.py) calls safe is right.
 *
 * stdin, one case per line:
 *   kind reverse in_h in_w in_c out_h out_w out_c k_h k_w sh sw dh dw ph pw dmin dmax
 *   kind: 0 tm_k_conv (im2col), 1 tm_k_conv_1x1, 2 tm_k_dwconv, 3 tm_k_add (in1 overlapped),
 *         4 tm_k_add_lut (in1 overlapped), 5 tm_k_add_lin (in1 overlapped),
 *         6 tm_k_dwconv_3x3
 * stdout, one line per case: one char per d in [dmin, dmax], '1' same bytes, '0' not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tm_aot.h"
#include "tm_k_add.h"
#include "tm_k_conv.h"
#include "tm_k_dwconv.h"

static uint32_t rng_state = 12345u;

static int32_t rnd(int32_t lo, int32_t hi)   /* inclusive */
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + (int32_t)((rng_state >> 8) % (uint32_t)(hi - lo + 1));
}

/* Nonzero weights and a multiplier of ~1.0: any changed input byte changes the
 * accumulator, and with small inputs the output shows it (no saturation). */
static int8_t *rand_weights(size_t n)
{
    int8_t *w = malloc(n + 1);
    size_t i;
    for (i = 0; i < n; ++i) {
        int32_t v = rnd(1, 3);
        w[i] = (int8_t)(rnd(0, 1) ? v : -v);
    }
    return w;
}

typedef struct {
    int kind;
    tm_conv_params_t conv;
    tm_dwconv_params_t dw;
    tm_add_params_t add;
    tm_dwconv3x3_params_t dw3;
    const int8_t *in2;
    int8_t *scratch;
} sweep_case_t;

static void run(const sweep_case_t *c, const int8_t *in, int8_t *out)
{
    switch (c->kind) {
    case 0: tm_k_conv(&c->conv, in, out, c->scratch); break;
    case 1: tm_k_conv_1x1(&c->conv, in, out, c->scratch); break;
    case 2: tm_k_dwconv(&c->dw, in, out, c->scratch); break;
    case 6: tm_k_dwconv_3x3(&c->dw3, in, out, c->scratch); break;
    case 3: tm_k_add(&c->add, in, c->in2, out); break;
    case 4: tm_k_add_lut(&c->add, in, c->in2, out); break;
    default: tm_k_add_lin(&c->add, in, c->in2, out); break;
    }
}

int main(void)
{
    int kind, rev, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, ph, pw, dmin, dmax;
    while (scanf("%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", &kind, &rev, &ih, &iw,
                 &ic, &oh, &ow, &oc, &kh, &kw, &sh, &sw, &dh, &dw, &ph, &pw, &dmin, &dmax) == 18) {
        sweep_case_t c;
        const size_t ni = (size_t)ih * (size_t)iw * (size_t)ic;
        const size_t no = (size_t)oh * (size_t)ow * (size_t)oc;
        const size_t ntaps = (size_t)kh * (size_t)kw;
        const size_t base = (size_t)(dmin < 0 ? -dmin : 0) + 16u;
        const size_t total = base + ni + no + (size_t)(dmax > 0 ? dmax : 0) + 32u;
        int8_t *in = malloc(ni), *ref = malloc(no), *arena = malloc(total);
        int32_t *bias = calloc((size_t)oc, sizeof(int32_t));
        int32_t *mult = malloc((size_t)oc * sizeof(int32_t));
        int32_t *shift = calloc((size_t)oc, sizeof(int32_t));
        const size_t kq4 = (ntaps * (size_t)ic + 3u) / 4u * 4u;    /* conv k_stride */
        int8_t *filter = rand_weights(kind == 2 ? ntaps * (size_t)oc : kq4 * (size_t)oc);
        int8_t *in2 = malloc(ni);
        int32_t *chan3;
        size_t i;
        int d;
        int32_t lut[256];
        memset(&c, 0, sizeof c);
        for (i = 0; i < (size_t)oc; ++i) {
            mult[i] = 2147483647;
        }
        for (i = 0; i < ni; ++i) {
            in[i] = (int8_t)rnd(-8, 8);
            in2[i] = (int8_t)rnd(-8, 8);
        }
        c.kind = kind;
        c.conv = (tm_conv_params_t){1, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, ph, pw,
                                    0, 0, -128, 127, filter, bias, mult, shift, rev, (int32_t)kq4, 0};
        c.dw = (tm_dwconv_params_t){1, ih, iw, ic, oh, ow, oc, oc / ic, kh, kw, sh, sw, dh, dw,
                                    ph, pw, 0, 0, -128, 127, filter, bias, mult, shift, rev, 0};
        /* a + b exactly: both rescaled by 1/4 of 2^20, the sum by 2^-17 (linear form:
         * 1 * a + 1 * b + 0, shift 0). */
        c.add = (tm_add_params_t){(int32_t)ni, 0, 0, 20, 1 << 30, -1, 1 << 30, -1, 1, 1 << 30, -17,
                                  0, -128, 127, {0}, {0}, {0}, NULL, NULL, 1, 1, 0, 0};
        for (d = 0; d < 256; ++d) {     /* tm_k_add_lut's tables for the same scales */
            lut[d] = tm_aot_mul_by_qm_lt1((int32_t)((uint32_t)(d - 128) << 20), 1 << 30, -1);
        }
        c.add.lut1 = lut;
        c.add.lut2 = lut;
        c.in2 = in2;
        /* tm_k_dwconv_3x3: records of the same weights (pairs w0 | w1 << 16, w1 | w2 << 16),
         * bias 0, mult ~1.0, shift 0 (rq 0) */
        chan3 = calloc((size_t)ic * TM_DW3_REC, sizeof(int32_t));
        if (kind == 6) {
            for (i = 0; i < (size_t)ic; ++i) {
                int k;
                for (k = 0; k < 3; ++k) {
                    const int8_t *w3 = filter + (size_t)k * 3u * (size_t)ic + i;
                    chan3[i * TM_DW3_REC + 2 * k] = (int32_t)(((uint32_t)(uint16_t)(int16_t)w3[0]) |
                                                              ((uint32_t)(int32_t)w3[ic] << 16));
                    chan3[i * TM_DW3_REC + 2 * k + 1] = (int32_t)(((uint32_t)(uint16_t)(int16_t)w3[ic]) |
                                                                  ((uint32_t)(int32_t)w3[2 * ic] << 16));
                }
                chan3[i * TM_DW3_REC + 7] = 2147483647;
            }
        }
        c.dw3 = (tm_dwconv3x3_params_t){1, ih, iw, ic, oh, ow, sh, ph, pw, 0, 0, -128, 127, chan3, 0, rev};
        c.scratch = malloc(TM_CONV_SCRATCH_BYTES(kq4, (size_t)ic) + TM_DW_SCRATCH_BYTES(ntaps, (size_t)ic) +
                           TM_DW3_SCRATCH_BYTES((size_t)iw, (size_t)ic) + 16u);
        run(&c, in, ref);
        for (d = dmin; d <= dmax; ++d) {
            int8_t *x = arena + base, *y = arena + (long)base + d;
            memset(arena, 0x5a, total);
            memcpy(x, in, ni);
            run(&c, x, y);
            putchar(memcmp(y, ref, no) == 0 ? '1' : '0');
        }
        putchar('\n');
        fflush(stdout);
        free(in); free(ref); free(arena); free(bias); free(mult); free(shift);
        free(filter); free(in2); free(c.scratch); free(chan3);
    }
    return 0;
}
