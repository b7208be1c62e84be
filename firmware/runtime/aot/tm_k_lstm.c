/* tm_k_lstm.c - int8 LSTM, int16 gates and cell (TFLM lstm_eval arithmetic).
 *
 * TFLM computes each gate for all units (two FCs to int16, saturating add, then
 * sigmoid or tanh), then the cell and hidden updates, with four unit-sized int16
 * buffers. Every step is elementwise per unit once the FCs are done, and the FCs
 * read only the previous hidden state, so this kernel finishes one unit at a time:
 * the same bytes, with no gate buffers. */
#include "tm_k_lstm.h"

#include <string.h>

#include "tm_aot.h"

/* the gate FCs use FULLY_CONNECTED's inner products (SMLAD on Cortex-M DSP) */
#define TM_AOT_DOT_IMPL TM_AOT_IMPL_FC
#include "tm_aot_dot.h"

/* sigmoid(i / 24) in unsigned Q0.16, i = 0..255: the values of TFLM's
 * sigmoid_table_uint16, which both int16 functions below interpolate. */
static const uint16_t tm_lstm_sigmoid_q16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535};

static int32_t tm_lstm_sat16(int32_t v) { return tm_aot_clamp(v, -32768, 32767); }

/* TFLM reference_integer_ops::Logistic on int16 with input multiplier 0 (the LSTM's
 * Q3.12 gate input: scaled by 3, then 9 fraction bits interpolate the table). */
static int16_t tm_lstm_sigmoid(int32_t x)
{
    const int32_t v = x * 3;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 9;
    uint32_t r;
    if (uh >= 255) {
        r = 0x7FFFu << 10;
    } else {
        const uint32_t ua = tm_lstm_sigmoid_q16[uh], ub = tm_lstm_sigmoid_q16[uh + 1];
        r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

/* TFLM reference_integer_ops::Tanh on int16 with its effective (multiplier, shift). */
static int16_t tm_lstm_tanh(int32_t x, int32_t mult, int32_t shift)
{
    const int32_t rnd = shift > 0 ? 1 << (shift - 1) : 0;
    const int32_t v = (x * mult + rnd) >> shift;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 8;
    int32_t r;
    if (uh >= 255) {
        r = 0xFFFF << 8;
    } else {
        const uint32_t ua = tm_lstm_sigmoid_q16[uh], ub = tm_lstm_sigmoid_q16[uh + 1];
        r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(r >> 8);
}

/* int32 addition that wraps (the folded bias is stored modulo 2^32) */
static int32_t tm_lstm_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* acc[g] = x . w[g * stride] for the four gates (two rows per pass: x loaded once) */
static void tm_lstm_dot4(const int8_t *w, int32_t stride, const int8_t *x, int32_t n,
                         int32_t acc[TM_LSTM_GATES])
{
    acc[0] = acc[1] = acc[2] = acc[3] = 0;
    tm_dot2_s8(x, w, w + stride, n, &acc[0], &acc[1]);
    tm_dot2_s8(x, w + 2 * stride, w + 3 * stride, n, &acc[2], &acc[3]);
}

void tm_k_lstm_s8(const tm_lstm_params_t *p, const int8_t *in, int8_t *out, int16_t *cell,
                  int8_t *h0)
{
    const int32_t n_in = p->in_dim, n_u = p->units;
    int32_t b, t, u, g;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *h = h0;
        memset(h0, (int)p->h_zp, (size_t)n_u);
        memset(cell, 0, (size_t)n_u * sizeof(int16_t));
        for (t = 0; t < p->steps; ++t) {
            const int32_t row = b * p->steps + t;
            const int8_t *x = in + row * n_in;
            int8_t *hn = out + row * n_u;
            for (u = 0; u < n_u; ++u) {
                int16_t gate[TM_LSTM_GATES];
                int32_t dx[TM_LSTM_GATES], dh[TM_LSTM_GATES];
                int32_t c, ig;
                /* gate g's weight rows for unit u: row g * units + u */
                tm_lstm_dot4(p->w_in + u * n_in, n_u * n_in, x, n_in, dx);
                tm_lstm_dot4(p->w_rec + u * n_u, n_u * n_u, h, n_u, dh);
                for (g = 0; g < TM_LSTM_GATES; ++g) {
                    const int32_t k = g * n_u + u;
                    const int32_t a = tm_lstm_sat16(tm_aot_mul_by_qm(
                        tm_lstm_wrap_add(p->b_in[k], dx[g]), p->in_mult[g], (int)p->in_shift[g]));
                    const int32_t r = tm_lstm_sat16(tm_aot_mul_by_qm(
                        tm_lstm_wrap_add(p->b_rec[k], dh[g]), p->rec_mult[g], (int)p->rec_shift[g]));
                    const int32_t pre = tm_lstm_sat16(a + r);
                    /* the cell gate's tanh: TFLM's Tanh with scale power -12 */
                    gate[g] = g == 2 ? tm_lstm_tanh(pre, 3, 0) : tm_lstm_sigmoid(pre);
                }
                c = tm_lstm_sat16(tm_aot_mul_by_qm(gate[1] * cell[u], p->fc_mult, (int)p->fc_shift));
                ig = tm_lstm_sat16(tm_aot_mul_by_qm(gate[0] * gate[2], p->ic_mult, (int)p->ic_shift));
                c = tm_lstm_sat16(c + ig);
                if (p->cell_clip > 0) {
                    c = tm_aot_clamp(c, -p->cell_clip, p->cell_clip);
                }
                cell[u] = (int16_t)c;
                hn[u] = (int8_t)tm_aot_clamp(
                    p->h_zp + tm_aot_mul_by_qm(tm_lstm_tanh(c, p->tanh_mult, p->tanh_shift) * gate[3],
                                               p->oh_mult, (int)p->oh_shift),
                    -128, 127);
            }
            h = hn;
        }
    }
}
