/* xt_rom_main.c - host driver for firmware/ports/qemu_xtensa/tm_xt_rom.c
 * (tests/host/test_isa_xtensa_rom.py). Usage: xt_rom OP N < operands > results:
 * N pairs of little-endian uint64 operands in, N uint64 results out (32-bit
 * operands and results in the low half). The four libgcc functions the ROM
 * file builds on are given here with the host's own arithmetic. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem);
float __floatdisf(int64_t i);
float __floatundisf(uint64_t i);

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
    if (rem != NULL) *rem = n % d;
    return n / d;
}

int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem)
{
    if (rem != NULL) *rem = n % d;
    return n / d;
}

float __floatdisf(int64_t i) { return (float)i; }
float __floatundisf(uint64_t i) { return (float)i; }

uint32_t tm_host___udivsi3(uint32_t n, uint32_t d);
uint32_t tm_host___umodsi3(uint32_t n, uint32_t d);
int32_t tm_host___divsi3(int32_t n, int32_t d);
uint64_t tm_host___umulsidi3(uint32_t a, uint32_t b);
uint64_t tm_host___muldi3(uint64_t a, uint64_t b);
uint64_t tm_host___udivdi3(uint64_t n, uint64_t d);
uint64_t tm_host___umoddi3(uint64_t n, uint64_t d);
int64_t tm_host___divdi3(int64_t n, int64_t d);
float tm_host___floatsisf(int32_t i);
float tm_host___floatunsisf(uint32_t i);
double tm_host___extendsfdf2(float a);
float tm_host___addsf3(float a, float b);
float tm_host___subsf3(float a, float b);
float tm_host___mulsf3(float a, float b);
double tm_host___adddf3(double a, double b);
double tm_host___subdf3(double a, double b);
double tm_host___muldf3(double a, double b);

static float f32(uint64_t u)
{
    float f;
    uint32_t v = (uint32_t)u;
    memcpy(&f, &v, 4);
    return f;
}

static double f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static uint64_t b32(float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    return v;
}

static uint64_t b64(double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return v;
}

static uint64_t apply(const char *op, uint64_t a, uint64_t b)
{
    if (strcmp(op, "udivsi3") == 0) return tm_host___udivsi3((uint32_t)a, (uint32_t)b);
    if (strcmp(op, "umodsi3") == 0) return tm_host___umodsi3((uint32_t)a, (uint32_t)b);
    if (strcmp(op, "divsi3") == 0) return (uint32_t)tm_host___divsi3((int32_t)(uint32_t)a, (int32_t)(uint32_t)b);
    if (strcmp(op, "umulsidi3") == 0) return tm_host___umulsidi3((uint32_t)a, (uint32_t)b);
    if (strcmp(op, "muldi3") == 0) return tm_host___muldi3(a, b);
    if (strcmp(op, "udivdi3") == 0) return tm_host___udivdi3(a, b);
    if (strcmp(op, "umoddi3") == 0) return tm_host___umoddi3(a, b);
    if (strcmp(op, "divdi3") == 0) return (uint64_t)tm_host___divdi3((int64_t)a, (int64_t)b);
    if (strcmp(op, "floatsisf") == 0) return b32(tm_host___floatsisf((int32_t)(uint32_t)a));
    if (strcmp(op, "floatunsisf") == 0) return b32(tm_host___floatunsisf((uint32_t)a));
    if (strcmp(op, "extendsfdf2") == 0) return b64(tm_host___extendsfdf2(f32(a)));
    if (strcmp(op, "addsf3") == 0) return b32(tm_host___addsf3(f32(a), f32(b)));
    if (strcmp(op, "subsf3") == 0) return b32(tm_host___subsf3(f32(a), f32(b)));
    if (strcmp(op, "mulsf3") == 0) return b32(tm_host___mulsf3(f32(a), f32(b)));
    if (strcmp(op, "adddf3") == 0) return b64(tm_host___adddf3(f64(a), f64(b)));
    if (strcmp(op, "subdf3") == 0) return b64(tm_host___subdf3(f64(a), f64(b)));
    if (strcmp(op, "muldf3") == 0) return b64(tm_host___muldf3(f64(a), f64(b)));
    fprintf(stderr, "unknown op %s\n", op);
    exit(2);
}

int main(int argc, char **argv)
{
    long n, i;
    if (argc != 3) return 2;
    n = strtol(argv[2], NULL, 10);
    for (i = 0; i < n; ++i) {
        uint64_t ab[2], r;
        if (fread(ab, 8, 2, stdin) != 2) return 3;
        r = apply(argv[1], ab[0], ab[1]);
        if (fwrite(&r, 8, 1, stdout) != 1) return 4;
    }
    return 0;
}
