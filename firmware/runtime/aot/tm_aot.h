/* tm_aot.h - shared conventions and fixed-point helpers of the AOT int8 kernels.
 *
 * The arithmetic matches TensorFlow Lite Micro's reference integer kernels bit
 * for bit (gemmlowp-style rounding, no single-rounding mode), so a model
 * compiled by tinyml.codegen.aot gives the same bytes as the TFLM runtime.
 * C99, header-only, no dependencies.
 */
#ifndef TM_AOT_H
#define TM_AOT_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define TM_AOT_ALIGNED(n) __attribute__((aligned(n)))
#define TM_AOT_INLINE static inline __attribute__((always_inline))
#else
#define TM_AOT_ALIGNED(n)
#define TM_AOT_INLINE static inline
#endif

/* Kernel path compiled in: Cortex-M DSP extension (SMLAD dual MACs) or portable C. */
#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(TM_AOT_FORCE_PORTABLE)
#define TM_AOT_DSP 1
#define TM_AOT_KERNEL_PATH "dsp"
#else
#define TM_AOT_DSP 0
#define TM_AOT_KERNEL_PATH "portable"
#endif

/* Per-layer profiling hooks around every op of the generated model. With
 * TM_ENABLE_PROFILE=1 the default reads the port counter (tm_port.h) into
 * tm_aot_profile_ticks[op] (defined in tm_rt_aot.c); a port may define its own
 * TM_PROFILE_BEGIN/END before this header instead. Off: they compile to nothing. */
#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE && !defined(TM_PROFILE_BEGIN)
extern uint32_t tm_aot_profile_ticks[];
uint64_t tm_port_counter(void);
#define TM_PROFILE_BEGIN(i) const uint64_t tm_prof_t0_##i = tm_port_counter()
#define TM_PROFILE_END(i) (tm_aot_profile_ticks[(i)] = (uint32_t)(tm_port_counter() - tm_prof_t0_##i))
#endif
#ifndef TM_PROFILE_BEGIN
#define TM_PROFILE_BEGIN(i) ((void)0)
#endif
#ifndef TM_PROFILE_END
#define TM_PROFILE_END(i) ((void)0)
#endif

TM_AOT_INLINE int32_t tm_aot_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Round(a * b / 2^31) with ties away from zero, saturating the one overflow case
 * (INT32_MIN * INT32_MIN). TFLM computes (ab + nudge) / 2^31 with a truncating
 * division, nudge = 2^30 or 1 - 2^30 by sign; for both signs that equals
 * floor((ab + 2^30) / 2^31), a shift: no 64-bit division on the device. */
TM_AOT_INLINE int32_t tm_aot_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero (exponent 0..31). */
TM_AOT_INLINE int32_t tm_aot_rdpot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier: x * m * 2^(shift-31), shift > 0 shifts left first.
 * The left shift wraps like the two's-complement hardware TFLM runs on. */
TM_AOT_INLINE int32_t tm_aot_mul_by_qm(int32_t x, int32_t m, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    return tm_aot_rdpot(tm_aot_srdhm((int32_t)((uint32_t)x << left), m), right);
}

/* MultiplyByQuantizedMultiplierSmallerThanOneExp: shift <= 0 (used by ADD). */
TM_AOT_INLINE int32_t tm_aot_mul_by_qm_lt1(int32_t x, int32_t m, int shift)
{
    return tm_aot_rdpot(tm_aot_srdhm(x, m), -shift);
}

/* Requantize an int32 accumulator to int8 with zero point and clamp.
 * Same value as tm_aot_mul_by_qm(acc, m, shift) + out_zp, clamped; m comes from
 * QuantizeMultiplier (0 <= m < 2^31), so the srdhm overflow case cannot occur, and
 * the right shift is done in 64 bits: floor((v + 2^(r-1) - (v < 0)) / 2^r) is
 * round-half-away-from-zero. */
TM_AOT_INLINE int8_t tm_aot_requant(int32_t acc, int32_t m, int shift, int32_t out_zp,
                                    int32_t act_min, int32_t act_max)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int64_t x = (int64_t)(int32_t)((uint32_t)acc << left);
    int32_t v = (int32_t)((x * m + ((int64_t)1 << 30)) >> 31);
    if (right > 0) {
        v = (int32_t)(((int64_t)v + ((int64_t)1 << (right - 1)) - (v < 0)) >> right);
    }
    v += out_zp;
    return (int8_t)tm_aot_clamp(v, act_min, act_max);
}

#if TM_AOT_DSP
#include <arm_acle.h>
#endif

/* Unaligned 32-bit load of four int8 values (memcpy compiles to one LDR on M4). */
TM_AOT_INLINE int32_t tm_aot_load4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

#if TM_AOT_DSP
/* SXTB16 of the value rotated right by 8: sign-extended bytes 1 and 3. */
TM_AOT_INLINE int32_t tm_aot_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#endif

/* acc + sum(a[i] * b[i]) for i < n. Integer sums are exact, so the DSP path
 * (two MACs per SMLAD on sign-extended pairs) gives the portable path's result. */
TM_AOT_INLINE int32_t tm_aot_dot_s8(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    int32_t i = 0;
#if TM_AOT_DSP
    for (; i + 4 <= n; i += 4) {
        const int32_t va = tm_aot_load4(a + i);
        const int32_t vb = tm_aot_load4(b + i);
        acc = __smlad(__sxtb16(va), __sxtb16(vb), acc);
        acc = __smlad(tm_aot_sxtb16_ror8(va), tm_aot_sxtb16_ror8(vb), acc);
    }
#endif
    for (; i < n; ++i) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}

/* Two dot products sharing the `a` operand (two output channels per pass). */
TM_AOT_INLINE void tm_aot_dot2_s8(const int8_t *a, const int8_t *b0, const int8_t *b1,
                                  int32_t n, int32_t *acc0, int32_t *acc1)
{
    int32_t s0 = *acc0, s1 = *acc1;
    int32_t i = 0;
#if TM_AOT_DSP
    for (; i + 4 <= n; i += 4) {
        const int32_t va = tm_aot_load4(a + i);
        const int32_t v0 = tm_aot_load4(b0 + i);
        const int32_t v1 = tm_aot_load4(b1 + i);
        const int32_t a02 = __sxtb16(va);
        const int32_t a13 = tm_aot_sxtb16_ror8(va);
        s0 = __smlad(a02, __sxtb16(v0), s0);
        s0 = __smlad(a13, tm_aot_sxtb16_ror8(v0), s0);
        s1 = __smlad(a02, __sxtb16(v1), s1);
        s1 = __smlad(a13, tm_aot_sxtb16_ror8(v1), s1);
    }
#endif
    for (; i < n; ++i) {
        s0 += (int32_t)a[i] * (int32_t)b0[i];
        s1 += (int32_t)a[i] * (int32_t)b1[i];
    }
    *acc0 = s0;
    *acc1 = s1;
}

/* 2x2 block: inputs x0, x1 (two pixels) times weights w0, w1 (two channels).
 * acc[0] += x0.w0, acc[1] += x0.w1, acc[2] += x1.w0, acc[3] += x1.w1.
 * Each loaded word feeds two SMLADs: 16 MACs per 4 loads on the DSP path. */
TM_AOT_INLINE void tm_aot_dot2x2_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0,
                                    const int8_t *w1, int32_t n, int32_t *acc)
{
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
    int32_t i = 0;
#if TM_AOT_DSP
    for (; i + 4 <= n; i += 4) {
        const int32_t vw0 = tm_aot_load4(w0 + i);
        const int32_t vw1 = tm_aot_load4(w1 + i);
        const int32_t w0e = __sxtb16(vw0), w0o = tm_aot_sxtb16_ror8(vw0);
        const int32_t w1e = __sxtb16(vw1), w1o = tm_aot_sxtb16_ror8(vw1);
        int32_t vx = tm_aot_load4(x0 + i);
        int32_t xe = __sxtb16(vx), xo = tm_aot_sxtb16_ror8(vx);
        s00 = __smlad(xe, w0e, s00);
        s00 = __smlad(xo, w0o, s00);
        s01 = __smlad(xe, w1e, s01);
        s01 = __smlad(xo, w1o, s01);
        vx = tm_aot_load4(x1 + i);
        xe = __sxtb16(vx);
        xo = tm_aot_sxtb16_ror8(vx);
        s10 = __smlad(xe, w0e, s10);
        s10 = __smlad(xo, w0o, s10);
        s11 = __smlad(xe, w1e, s11);
        s11 = __smlad(xo, w1o, s11);
    }
#endif
    for (; i < n; ++i) {
        const int32_t a0 = x0[i], a1 = x1[i], b0 = w0[i], b1 = w1[i];
        s00 += a0 * b0;
        s01 += a0 * b1;
        s10 += a1 * b0;
        s11 += a1 * b1;
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
}

#endif /* TM_AOT_H */
