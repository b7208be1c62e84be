/* tm_k_fc.c - int8 FULLY_CONNECTED (inner products: the panel functions of
 * tm_aot_dot.h).
 *
 * TFLM computes sum((x + input_offset) * w) + bias per output. The compiler folds
 * input_offset * sum(w) into the bias (exact integer algebra), so the inner loop is
 * a plain int8 dot product. The weights come interleaved in groups of 4 output
 * features (tinyml/codegen/aot/ops/layout.py), so one pass over the input computes
 * 4 outputs; the input is read in place (a last partial quad from a zero-padded
 * copy), so the kernel needs no scratch.
 */
#include "tm_aot.h"

#define TM_AOT_DOT_IMPL TM_AOT_IMPL_FC
#include "tm_aot_dot.h"
#include "tm_k_fc.h"

/* Output o + j from acc[j] (in tm_fc_row; constant j keeps acc in registers). TFLM
 * mode: the multiplier index is o + j per channel, else 0 (pc_step 1 or 0); the
 * one-rounding modes read the feature's record (tm_aot_rq_rec), bias included. */
#define TM_FC_BIAS(j) (mode == TM_RQ_TFLM ? bias[o + (j)] : rqc[(o + (j)) * TM_AOT_RQC_WORDS])
#define TM_FC_RQ(j) do { \
        const int32_t c_i_ = (o + (j)) * pc_step; \
        const tm_aot_rq_t c_ = mode == TM_RQ_TFLM \
            ? tm_aot_rq_ch(mult[c_i_], shift[c_i_], mode) \
            : tm_aot_rq_rec(rqc + (o + (j)) * TM_AOT_RQC_WORDS); \
        y[o + (j)] = tm_aot_rq_apply(c_, acc[(j)], zp, lo, hi, mode); \
    } while (0)

/* One batch row; mode: the requantization (TM_RQ_*), a constant in each copy. With
 * `pan` (tm_k_fc_pan, a constant too) the row is expanded once into a panel in buf
 * (tm_xprep1) that every group of 4 outputs reads; else the input is read in place. */
TM_AOT_INLINE void tm_fc_row(const tm_fc_params_t *p, const int8_t *x, int8_t *y, const int mode,
                             const int pan, int8_t *buf)
{
    const int32_t pc_step = p->per_channel ? 1 : 0;
    const int32_t *const bias = p->bias, *const mult = p->mult, *const shift = p->shift;
    const int32_t *const rqc = p->rqc;
    const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    const int32_t nf = p->out_features, n = p->in_features;
    const int32_t kf = n >> 2, kq = (n + 3) >> 2;    /* whole quads, all quads */
    const int8_t *w = p->filter;
    int8_t xt[4] = {0, 0, 0, 0};                      /* the last partial quad */
    int32_t acc[4];
    int32_t o = 0, j;
    for (j = 0; j < (n & 3); ++j) {
        xt[j] = x[4 * kf + j];
    }
    if (pan) {
        const tm_xp1_t xp = tm_xprep1(x, n, kq, buf);
        for (; o < nf; o += 4, w += (size_t)kq * 16u) {
            const int32_t nb = nf - o < 4 ? nf - o : 4;
            if (nb == 4) {
                acc[0] = TM_FC_BIAS(0); acc[1] = TM_FC_BIAS(1);
                acc[2] = TM_FC_BIAS(2); acc[3] = TM_FC_BIAS(3);
                tm_mm1_4(xp, w, kq, acc);
                TM_FC_RQ(0);
                TM_FC_RQ(1);
                TM_FC_RQ(2);
                TM_FC_RQ(3);
            } else {
                for (j = 0; j < nb; ++j) {
                    acc[j] = TM_FC_BIAS(j);
                }
                tm_mm1_n(xp, w, kq, nb, acc);
                for (j = 0; j < nb; ++j) {
                    TM_FC_RQ(j);
                }
            }
        }
        return;
    }
    for (; o < nf; o += 4, w += (size_t)kq * 16u) {
        const int32_t nb = nf - o < 4 ? nf - o : 4;
        if (nb == 4) {
            acc[0] = TM_FC_BIAS(0); acc[1] = TM_FC_BIAS(1);
            acc[2] = TM_FC_BIAS(2); acc[3] = TM_FC_BIAS(3);
            tm_mm1s_4(x, w, kf, acc);
            if (kq > kf) {
                tm_mm1s_4(xt, w + (size_t)kf * 16u, 1, acc);
            }
            TM_FC_RQ(0);
            TM_FC_RQ(1);
            TM_FC_RQ(2);
            TM_FC_RQ(3);
        } else {
            for (j = 0; j < nb; ++j) {
                acc[j] = TM_FC_BIAS(j);
            }
            tm_mm1s_n(x, w, kf, nb, acc);
            if (kq > kf) {
                tm_mm1s_n(xt, w + (size_t)kf * 4u * (size_t)nb, 1, nb, acc);
            }
            for (j = 0; j < nb; ++j) {
                TM_FC_RQ(j);
            }
        }
    }
}

/* Each entry point gets its own copies (pan is a constant), so a model links only
 * the FC form it uses. */
TM_AOT_INLINE void tm_fc_all(const tm_fc_params_t *p, const int8_t *in, int8_t *out,
                             const int pan, int8_t *buf)
{
    const int32_t n = p->in_features;
    const int mode = tm_aot_rq_mode(p->rq_fast, p->act_min, p->act_max);
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + (size_t)b * (size_t)n;
        int8_t *y = out + (size_t)b * (size_t)p->out_features;
        /* one copy per requantization form (the requantization is a small part of
         * an FC's work; per-tensor or per-channel is a run-time index) */
        if (mode == TM_RQ_FULL) {
            tm_fc_row(p, x, y, TM_RQ_FULL, pan, buf);
        } else if (mode == TM_RQ_FAST) {
            tm_fc_row(p, x, y, TM_RQ_FAST, pan, buf);
        } else {
            tm_fc_row(p, x, y, TM_RQ_TFLM, pan, buf);
        }
    }
}

void tm_k_fc(const tm_fc_params_t *p, const int8_t *in, int8_t *out)
{
    tm_fc_all(p, in, out, 0, NULL);
}

void tm_k_fc_pan(const tm_fc_params_t *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    tm_fc_all(p, in, out, 1, scratch);
}
