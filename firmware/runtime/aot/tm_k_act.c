/* tm_k_act.c - int8 activations, bit-exact with TFLM's reference kernels:
 * RELU (rescale + clamp), RELU6 (clamp in input units), LEAKY_RELU (two
 * rescales), TANH (gemmlowp tanh on Q4.27) and HARD_SWISH (TFLM's int16
 * fixed-point chain). The output of each depends on one int8 input value
 * only, so for large tensors the kernel first evaluates all 256 values into a
 * table (in a scratch buffer the compiler plans) and then looks them up: the
 * same arithmetic, evaluated 256 times instead of once per element. */
#include "tm_k_misc.h"

/* gemmlowp SaturatingRoundingDoublingHighMul on int16 values. */
static int32_t tm_act_srdhm16(int32_t a, int32_t b)
{
    int32_t ab;
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    ab = a * b;
    return (int16_t)((ab + (ab >= 0 ? (1 << 14) : (1 - (1 << 14)))) / (1 << 15));
}

/* TFLM hard_swish.h SaturatingDoublingHighMul: truncating, no rounding nudge. */
static int32_t tm_act_sdhm16(int32_t a, int32_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)((a * b) / (1 << 15));
}

/* TFLM hard_swish.h SaturatingLeftShift on an int16 value (amount <= 30). */
static int32_t tm_act_sat_shl16(int32_t v, int amount)
{
    const int64_t r = (int64_t)v * ((int64_t)1 << amount);
    return (int32_t)(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

/* gemmlowp RoundingDivideByPOT on int16 (exponent 0..31): its mask is
 * Dup<int16_t>(2^e - 1), the low 16 bits, so from e = 16 on the mask is all ones
 * and the result is 1 for x >= 0, -1 below: reproduced, not "fixed". */
static int32_t tm_act_rdpot16(int32_t x, int e)
{
    const int32_t mask = (int16_t)(uint16_t)((((uint32_t)1 << e) - 1u) & 0xFFFFu);
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + ((int16_t)(x & mask) > threshold ? 1 : 0);
}

static int32_t tm_act_hard_swish(const tm_act_params_t *p, int32_t x)
{
    const int32_t hires = (int16_t)(x * (1 << 7));
    const int32_t pre_out = tm_act_srdhm16(hires, p->m1);
    int32_t reluish = hires;
    if (p->s2 > 0) {
        reluish = tm_act_sat_shl16(reluish, (int)p->s2 - 1);
    }
    reluish = tm_act_srdhm16(reluish, p->m2);
    if (p->s2 > 0) {
        reluish = tm_act_sat_shl16(reluish, 1);
    }
    if (p->s2 < 0) {
        reluish = tm_act_rdpot16(reluish, (int)-p->s2);
    }
    reluish = (reluish + (1 << 15)) >> 1;
    return tm_act_rdpot16(tm_act_sdhm16(reluish, pre_out), (int)-p->s1);
}

static int8_t tm_act_one(const tm_act_params_t *p, int32_t v)
{
    const int32_t x = v - p->in_zp;
    int32_t r;
    switch (p->kind) {
    case TM_ACT_RELU:
        r = p->out_zp + tm_aot_mul_by_qm(x, p->m1, (int)p->s1);
        break;
    case TM_ACT_CLAMP:
        r = v;
        break;
    case TM_ACT_LEAKY:
        if (x >= 0) {
            r = p->out_zp + tm_aot_mul_by_qm(x, p->m1, (int)p->s1);
        } else {
            const int32_t a = tm_aot_mul_by_qm(x, p->m2, (int)p->s2);
            r = p->out_zp + (p->neg2 ? -a : a);
        }
        break;
    case TM_ACT_TANH:
        if (x <= -p->radius) {
            return -128;
        }
        if (x >= p->radius) {
            return 127;
        }
        r = tm_aot_rdpot(tm_aot_fx_tanh_q4(tm_aot_mul_by_qm(x, p->m1, (int)p->s1)), 24);
        break;
    default: /* TM_ACT_HARD_SWISH */
        r = tm_act_hard_swish(p, x) + p->out_zp;
        break;
    }
    return (int8_t)tm_aot_clamp(r, p->lo, p->hi);
}

void tm_k_act_s8(const tm_act_params_t *p, const int8_t *in, int8_t *out, int32_t size,
                 int8_t *table)
{
    int32_t i;
    if (table != 0) {
        int8_t *const t = table + 128;
        for (i = -128; i < 128; ++i) {
            t[i] = tm_act_one(p, i);
        }
        for (i = 0; i < size; ++i) {
            out[i] = t[in[i]];
        }
        return;
    }
    for (i = 0; i < size; ++i) {
        out[i] = tm_act_one(p, in[i]);
    }
}
