/* tm_xt_rom.c - the libgcc helpers Debian's lx106 libgcc leaves out.
 *
 * gcc-xtensa-lx106 targets the ESP8266, whose mask ROM provides integer
 * division, 64-bit multiply and most single/double soft-float arithmetic, so
 * Debian's libgcc omits them (it keeps __divsf3, compares, conversions from
 * 64-bit integers, __udivmoddi4 ...). An image for QEMU has no ESP8266 ROM and
 * brings its own here. Round to nearest even (IEEE 754 default), no exception
 * flags; a NaN result is the default quiet NaN. The lx106 has a 32x32->32
 * multiplier (MULL) and no high-half multiply, so 64-bit products are built
 * from 16-bit halves.
 *
 * Built for the host with -DTM_XT_ROM_HOST_TEST the functions get a tm_host_
 * prefix, and tests/host/test_isa_xtensa_rom.py compares them with the host's
 * IEEE arithmetic on millions of operands.
 */
#include <stdint.h>
#include <string.h>

#ifdef TM_XT_ROM_HOST_TEST
#define TM_ROM(name) tm_host_##name
#else
#define TM_ROM(name) name
#endif

#if defined(__xtensa__) || defined(TM_XT_ROM_HOST_TEST)

/* The present libgcc parts we build on (see the header comment). */
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem);
float __floatdisf(int64_t i);
float __floatundisf(uint64_t i);

uint32_t TM_ROM(__udivsi3)(uint32_t n, uint32_t d);
uint32_t TM_ROM(__umodsi3)(uint32_t n, uint32_t d);
int32_t TM_ROM(__divsi3)(int32_t n, int32_t d);
uint64_t TM_ROM(__umulsidi3)(uint32_t a, uint32_t b);
uint64_t TM_ROM(__muldi3)(uint64_t a, uint64_t b);
uint64_t TM_ROM(__udivdi3)(uint64_t n, uint64_t d);
uint64_t TM_ROM(__umoddi3)(uint64_t n, uint64_t d);
int64_t TM_ROM(__divdi3)(int64_t n, int64_t d);
float TM_ROM(__floatsisf)(int32_t i);
float TM_ROM(__floatunsisf)(uint32_t i);
double TM_ROM(__extendsfdf2)(float a);
float TM_ROM(__addsf3)(float a, float b);
float TM_ROM(__subsf3)(float a, float b);
float TM_ROM(__mulsf3)(float a, float b);
double TM_ROM(__adddf3)(double a, double b);
double TM_ROM(__subdf3)(double a, double b);
double TM_ROM(__muldf3)(double a, double b);

/* ---------------------------------------------------------------- integers */

static int tm_clz32(uint32_t x)   /* x != 0 */
{
    int n = 0;
    if ((x & 0xFFFF0000u) == 0u) { n += 16; x <<= 16; }
    if ((x & 0xFF000000u) == 0u) { n += 8; x <<= 8; }
    if ((x & 0xF0000000u) == 0u) { n += 4; x <<= 4; }
    if ((x & 0xC0000000u) == 0u) { n += 2; x <<= 2; }
    if ((x & 0x80000000u) == 0u) { n += 1; }
    return n;
}

static int tm_clz64(uint64_t x)   /* x != 0 */
{
    const uint32_t hi = (uint32_t)(x >> 32);
    return hi != 0u ? tm_clz32(hi) : 32 + tm_clz32((uint32_t)x);
}

/* Shift-subtract over the quotient's significant bits only. */
static uint32_t tm_udivmod32(uint32_t n, uint32_t d, uint32_t *rem)
{
    uint32_t q = 0u;
    int s;
    if (d == 0u) {            /* undefined in C; the ROM returns all ones */
        *rem = n;
        return 0xFFFFFFFFu;
    }
    if (d > n) {
        *rem = n;
        return 0u;
    }
    s = tm_clz32(d) - tm_clz32(n);
    d <<= s;
    for (; s >= 0; --s) {
        q <<= 1;
        if (n >= d) {
            n -= d;
            q |= 1u;
        }
        d >>= 1;
    }
    *rem = n;
    return q;
}

uint32_t TM_ROM(__udivsi3)(uint32_t n, uint32_t d)
{
    uint32_t r;
    return tm_udivmod32(n, d, &r);
}

uint32_t TM_ROM(__umodsi3)(uint32_t n, uint32_t d)
{
    uint32_t r;
    (void)tm_udivmod32(n, d, &r);
    return r;
}

int32_t TM_ROM(__divsi3)(int32_t n, int32_t d)
{
    uint32_t r;
    const uint32_t un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
    const uint32_t ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    const uint32_t q = tm_udivmod32(un, ud, &r);
    return (int32_t)(((n < 0) != (d < 0)) ? 0u - q : q);
}

/* 32x32 -> 64 from four 16x16 products (no MULUH on the lx106). */
static uint64_t tm_umul32x32(uint32_t a, uint32_t b)
{
    const uint32_t al = a & 0xFFFFu, ah = a >> 16, bl = b & 0xFFFFu, bh = b >> 16;
    const uint32_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    const uint32_t mid = (ll >> 16) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
    const uint32_t lo = (ll & 0xFFFFu) | (mid << 16);
    const uint32_t hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
    return ((uint64_t)hi << 32) | lo;
}

uint64_t TM_ROM(__umulsidi3)(uint32_t a, uint32_t b) { return tm_umul32x32(a, b); }

uint64_t TM_ROM(__muldi3)(uint64_t a, uint64_t b)
{
    const uint32_t al = (uint32_t)a, ah = (uint32_t)(a >> 32);
    const uint32_t bl = (uint32_t)b, bh = (uint32_t)(b >> 32);
    const uint64_t p = tm_umul32x32(al, bl);
    const uint32_t hi = (uint32_t)(p >> 32) + al * bh + ah * bl;
    return ((uint64_t)hi << 32) | (uint32_t)p;
}

uint64_t TM_ROM(__udivdi3)(uint64_t n, uint64_t d) { return __udivmoddi4(n, d, 0); }

uint64_t TM_ROM(__umoddi3)(uint64_t n, uint64_t d)
{
    uint64_t r;
    (void)__udivmoddi4(n, d, &r);
    return r;
}

int64_t TM_ROM(__divdi3)(int64_t n, int64_t d)
{
    int64_t r;
    return __divmoddi4(n, d, &r);
}

/* ---------------------------------------------------------------- binary32
 * Working form: sign, exponent `e` (biased, of the leading bit) and a 32-bit
 * significand with its leading bit at bit 30 and 7 rounding bits below the
 * 24 kept ones; a sticky bit is OR-ed into bit 0 whenever bits are shifted out. */

#define TM_F32_NAN 0x7FC00000u

static uint32_t tm_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float tm_f32_from(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t tm_shr_jam32(uint32_t x, int n)
{
    if (n <= 0) return x;
    if (n < 32) return (x >> n) | (uint32_t)((x << (32 - n)) != 0u);
    return (uint32_t)(x != 0u);
}

static uint64_t tm_shr_jam64(uint64_t x, int n)
{
    if (n <= 0) return x;
    if (n < 64) return (x >> n) | (uint64_t)((x << (64 - n)) != 0u);
    return (uint64_t)(x != 0u);
}

/* Round to nearest even and pack. `exp` is e - 1 (so adding the leading bit
 * of the rounded significand lands on e); exp < 0 is a subnormal result. */
static uint32_t tm_f32_pack(uint32_t sign, int32_t exp, uint32_t sig)
{
    uint32_t rbits;
    if (exp < 0) {
        sig = tm_shr_jam32(sig, (int)-exp);
        exp = 0;
    } else if (exp > 0xFD || (exp == 0xFD && sig + 0x40u >= 0x80000000u)) {
        return sign | 0x7F800000u;
    }
    rbits = sig & 0x7Fu;
    sig = (sig + 0x40u) >> 7;
    if (rbits == 0x40u) sig &= ~1u;   /* tie: to even */
    if (sig == 0u) exp = 0;
    return sign | (((uint32_t)exp << 23) + sig);
}

/* Leading bit to bit 30 with the exponent lowered to match, never below 1
 * (smaller results are subnormal and packed as such). Exact: left shifts
 * only happen after cancellation, when no sticky bit was made. */
static uint32_t tm_f32_norm_pack(uint32_t sign, int32_t e, uint32_t sig)
{
    int s;
    if (sig == 0u) return sign;
    if ((sig & 0x80000000u) != 0u) {
        sig = tm_shr_jam32(sig, 1);
        ++e;
    }
    s = tm_clz32(sig) - 1;
    if (s > e - 1) s = (int)e - 1;
    if (s > 0) {
        sig <<= s;
        e -= s;
    }
    return tm_f32_pack(sign, e - 1, sig);   /* e == 1 below bit 30: a subnormal */
}

static uint32_t tm_f32_add_bits(uint32_t a, uint32_t b)
{
    int32_t ea = (int32_t)((a >> 23) & 0xFFu), eb = (int32_t)((b >> 23) & 0xFFu);
    uint32_t ma = a & 0x7FFFFFu, mb = b & 0x7FFFFFu;
    uint32_t sa = a & 0x80000000u, sb = b & 0x80000000u;
    int32_t e;
    if (ea == 0xFF || eb == 0xFF) {
        if ((ea == 0xFF && ma != 0u) || (eb == 0xFF && mb != 0u)) return TM_F32_NAN;
        if (ea == 0xFF && eb == 0xFF && sa != sb) return TM_F32_NAN;   /* inf - inf */
        return ea == 0xFF ? a : b;
    }
    /* zero + zero: -0 only for -0 + -0 */
    if ((a & 0x7FFFFFFFu) == 0u && (b & 0x7FFFFFFFu) == 0u) return sa & sb;
    ma = (ea != 0 ? (ma | 0x800000u) : ma) << 7;
    mb = (eb != 0 ? (mb | 0x800000u) : mb) << 7;
    if (ea == 0) ea = 1;
    if (eb == 0) eb = 1;
    if (ea < eb || (ea == eb && ma < mb)) {   /* |a| >= |b| from here on */
        uint32_t t = ma; ma = mb; mb = t;
        t = sa; sa = sb; sb = t;
        e = ea; ea = eb; eb = e;
    }
    mb = tm_shr_jam32(mb, (int)(ea - eb));
    if (sa == sb) return tm_f32_norm_pack(sa, ea, ma + mb);
    if (ma == mb) return 0u;   /* x - x = +0 */
    return tm_f32_norm_pack(sa, ea, ma - mb);
}

static uint32_t tm_f32_mul_bits(uint32_t a, uint32_t b)
{
    int32_t ea = (int32_t)((a >> 23) & 0xFFu), eb = (int32_t)((b >> 23) & 0xFFu);
    uint32_t ma = a & 0x7FFFFFu, mb = b & 0x7FFFFFu;
    const uint32_t sign = (a ^ b) & 0x80000000u;
    uint64_t p;
    uint32_t sig;
    int32_t e;
    if (ea == 0xFF || eb == 0xFF) {
        if ((ea == 0xFF && ma != 0u) || (eb == 0xFF && mb != 0u)) return TM_F32_NAN;
        if ((ea == 0xFF && (b & 0x7FFFFFFFu) == 0u) || (eb == 0xFF && (a & 0x7FFFFFFFu) == 0u)) {
            return TM_F32_NAN;   /* inf * 0 */
        }
        return sign | 0x7F800000u;
    }
    if ((a & 0x7FFFFFFFu) == 0u || (b & 0x7FFFFFFFu) == 0u) return sign;
    if (ea == 0) {   /* subnormal: leading bit to bit 23 */
        const int s = tm_clz32(ma) - 8;
        ma <<= s;
        ea = 1 - s;
    } else {
        ma |= 0x800000u;
    }
    if (eb == 0) {
        const int s = tm_clz32(mb) - 8;
        mb <<= s;
        eb = 1 - s;
    } else {
        mb |= 0x800000u;
    }
    p = tm_umul32x32(ma, mb);              /* leading bit at 46 or 47 */
    e = ea + eb - 127;
    if ((p >> 47) != 0u) {
        sig = (uint32_t)tm_shr_jam64(p, 17);
        ++e;
    } else {
        sig = (uint32_t)tm_shr_jam64(p, 16);
    }
    return tm_f32_pack(sign, e - 1, sig);
}

float TM_ROM(__addsf3)(float a, float b)
{
    return tm_f32_from(tm_f32_add_bits(tm_f32_bits(a), tm_f32_bits(b)));
}

float TM_ROM(__subsf3)(float a, float b)
{
    return tm_f32_from(tm_f32_add_bits(tm_f32_bits(a), tm_f32_bits(b) ^ 0x80000000u));
}

float TM_ROM(__mulsf3)(float a, float b)
{
    return tm_f32_from(tm_f32_mul_bits(tm_f32_bits(a), tm_f32_bits(b)));
}

/* One rounding either way: the 64-bit conversions round the exact integer. */
float TM_ROM(__floatsisf)(int32_t i) { return __floatdisf((int64_t)i); }
float TM_ROM(__floatunsisf)(uint32_t i) { return __floatundisf((uint64_t)i); }

/* ---------------------------------------------------------------- binary64
 * Same scheme: leading bit at bit 62, 10 rounding bits below the 53 kept. */

#define TM_F64_NAN 0x7FF8000000000000ull
#define TM_F64_SIGN 0x8000000000000000ull
#define TM_F64_MANT 0x000FFFFFFFFFFFFFull

static uint64_t tm_f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double tm_f64_from(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t tm_f64_pack(uint64_t sign, int32_t exp, uint64_t sig)
{
    uint64_t rbits;
    if (exp < 0) {
        sig = tm_shr_jam64(sig, (int)-exp);
        exp = 0;
    } else if (exp > 0x7FD || (exp == 0x7FD && sig + 0x200u >= 0x8000000000000000ull)) {
        return sign | 0x7FF0000000000000ull;
    }
    rbits = sig & 0x3FFu;
    sig = (sig + 0x200u) >> 10;
    if (rbits == 0x200u) sig &= ~(uint64_t)1u;
    if (sig == 0u) exp = 0;
    return sign | (((uint64_t)(uint32_t)exp << 52) + sig);
}

static uint64_t tm_f64_norm_pack(uint64_t sign, int32_t e, uint64_t sig)
{
    int s;
    if (sig == 0u) return sign;
    if ((sig & 0x8000000000000000ull) != 0u) {
        sig = tm_shr_jam64(sig, 1);
        ++e;
    }
    s = tm_clz64(sig) - 1;
    if (s > e - 1) s = (int)e - 1;
    if (s > 0) {
        sig <<= s;
        e -= s;
    }
    return tm_f64_pack(sign, e - 1, sig);
}

static uint64_t tm_f64_add_bits(uint64_t a, uint64_t b)
{
    int32_t ea = (int32_t)((a >> 52) & 0x7FFu), eb = (int32_t)((b >> 52) & 0x7FFu);
    uint64_t ma = a & TM_F64_MANT, mb = b & TM_F64_MANT;
    uint64_t sa = a & TM_F64_SIGN, sb = b & TM_F64_SIGN;
    int32_t e;
    if (ea == 0x7FF || eb == 0x7FF) {
        if ((ea == 0x7FF && ma != 0u) || (eb == 0x7FF && mb != 0u)) return TM_F64_NAN;
        if (ea == 0x7FF && eb == 0x7FF && sa != sb) return TM_F64_NAN;
        return ea == 0x7FF ? a : b;
    }
    if ((a & ~TM_F64_SIGN) == 0u && (b & ~TM_F64_SIGN) == 0u) return sa & sb;
    ma = (ea != 0 ? (ma | 0x0010000000000000ull) : ma) << 10;
    mb = (eb != 0 ? (mb | 0x0010000000000000ull) : mb) << 10;
    if (ea == 0) ea = 1;
    if (eb == 0) eb = 1;
    if (ea < eb || (ea == eb && ma < mb)) {
        uint64_t t = ma; ma = mb; mb = t;
        t = sa; sa = sb; sb = t;
        e = ea; ea = eb; eb = e;
    }
    mb = tm_shr_jam64(mb, (int)(ea - eb));
    if (sa == sb) return tm_f64_norm_pack(sa, ea, ma + mb);
    if (ma == mb) return 0u;
    return tm_f64_norm_pack(sa, ea, ma - mb);
}

static uint64_t tm_f64_mul_bits(uint64_t a, uint64_t b)
{
    int32_t ea = (int32_t)((a >> 52) & 0x7FFu), eb = (int32_t)((b >> 52) & 0x7FFu);
    uint64_t ma = a & TM_F64_MANT, mb = b & TM_F64_MANT;
    const uint64_t sign = (a ^ b) & TM_F64_SIGN;
    uint64_t ll, lh, hl, hh, mid, lo, hi, sig;
    int32_t e;
    if (ea == 0x7FF || eb == 0x7FF) {
        if ((ea == 0x7FF && ma != 0u) || (eb == 0x7FF && mb != 0u)) return TM_F64_NAN;
        if ((ea == 0x7FF && (b & ~TM_F64_SIGN) == 0u) ||
            (eb == 0x7FF && (a & ~TM_F64_SIGN) == 0u)) {
            return TM_F64_NAN;   /* inf * 0 */
        }
        return sign | 0x7FF0000000000000ull;
    }
    if ((a & ~TM_F64_SIGN) == 0u || (b & ~TM_F64_SIGN) == 0u) return sign;
    if (ea == 0) {
        const int s = tm_clz64(ma) - 11;
        ma <<= s;
        ea = 1 - s;
    } else {
        ma |= 0x0010000000000000ull;
    }
    if (eb == 0) {
        const int s = tm_clz64(mb) - 11;
        mb <<= s;
        eb = 1 - s;
    } else {
        mb |= 0x0010000000000000ull;
    }
    /* 53x53 -> 106-bit product as hi:lo, from 32-bit halves. */
    ll = tm_umul32x32((uint32_t)ma, (uint32_t)mb);
    lh = tm_umul32x32((uint32_t)ma, (uint32_t)(mb >> 32));
    hl = tm_umul32x32((uint32_t)(ma >> 32), (uint32_t)mb);
    hh = tm_umul32x32((uint32_t)(ma >> 32), (uint32_t)(mb >> 32));
    mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    lo = (uint32_t)ll | (mid << 32);
    hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    e = ea + eb - 1023;
    if ((hi >> 41) != 0u) {     /* leading bit at 105: keep bits 105..43 */
        sig = (hi << 21) | (lo >> 43) | (uint64_t)((lo << 21) != 0u);
        ++e;
    } else {                    /* leading bit at 104: keep bits 104..42 */
        sig = (hi << 22) | (lo >> 42) | (uint64_t)((lo << 22) != 0u);
    }
    return tm_f64_pack(sign, e - 1, sig);
}

double TM_ROM(__adddf3)(double a, double b)
{
    return tm_f64_from(tm_f64_add_bits(tm_f64_bits(a), tm_f64_bits(b)));
}

double TM_ROM(__subdf3)(double a, double b)
{
    return tm_f64_from(tm_f64_add_bits(tm_f64_bits(a), tm_f64_bits(b) ^ TM_F64_SIGN));
}

double TM_ROM(__muldf3)(double a, double b)
{
    return tm_f64_from(tm_f64_mul_bits(tm_f64_bits(a), tm_f64_bits(b)));
}

/* Exact: every binary32 value is a binary64 value. */
double TM_ROM(__extendsfdf2)(float a)
{
    const uint32_t u = tm_f32_bits(a);
    const uint64_t sign = (uint64_t)(u & 0x80000000u) << 32;
    int32_t e = (int32_t)((u >> 23) & 0xFFu);
    uint32_t m = u & 0x7FFFFFu;
    if (e == 0xFF) {
        return tm_f64_from(m != 0u ? TM_F64_NAN : sign | 0x7FF0000000000000ull);
    }
    if (e == 0) {
        int s;
        if (m == 0u) return tm_f64_from(sign);
        s = tm_clz32(m) - 8;      /* leading bit to the implicit position */
        m = (m << s) & 0x7FFFFFu;
        e = 1 - s;
    }
    return tm_f64_from(sign | ((uint64_t)(uint32_t)(e + 1023 - 127) << 52) | ((uint64_t)m << 29));
}

#else
typedef int tm_xt_rom_unused_t; /* ISO C forbids an empty translation unit */
#endif
