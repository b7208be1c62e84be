/* tm_fmt.c - see tm_fmt.h */
#include "tm_fmt.h"

#include <string.h>

#include "tm_port.h"

void tm_out_str(const char *s) { tm_port_write(s, strlen(s)); }

void tm_out_nl(void) { tm_port_write("\r\n", 2); }

void tm_out_u64(uint64_t v)
{
    char buf[21];
    int i = (int)sizeof(buf);
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u && i > 0);
    tm_port_write(&buf[i], sizeof(buf) - (size_t)i);
}

void tm_out_i32(int32_t v)
{
    if (v < 0) {
        tm_port_putc('-');
        tm_out_u64((uint64_t)(-(int64_t)v));
    } else {
        tm_out_u64((uint64_t)v);
    }
}

static const char tm_hex[] = "0123456789abcdef";

void tm_out_hex8(uint8_t v)
{
    char b[2];
    b[0] = tm_hex[v >> 4];
    b[1] = tm_hex[v & 0xFu];
    tm_port_write(b, 2);
}

void tm_out_hex32(uint32_t v)
{
    int s;
    for (s = 24; s >= 0; s -= 8) {
        tm_out_hex8((uint8_t)(v >> s));
    }
}

void tm_out_f3(float v)
{
    /* Dequantized outputs are small, so fixed point in 64 bits is exact enough;
     * anything absurd prints as nan/inf rather than garbage. */
    double d = (double)v;
    double t, f;
    uint64_t milli;
    int neg = 0;
    if (d != d) { tm_out_str("nan"); return; }
    if (d < 0.0) { neg = 1; d = -d; }
    if (d > 1e15) { tm_out_str(neg ? "-inf" : "inf"); return; }
    /* Round to nearest, ties to even on the exact binary value, as
     * printf("%.3f") does on glibc and newlib. */
    t = d * 1000.0;
    milli = (uint64_t)t;
    f = t - (double)milli;
    if (f > 0.5 || (f == 0.5 && (milli & 1u) != 0u)) ++milli;
    if (neg && milli != 0u) tm_port_putc('-');   /* never "-0.000" */
    tm_out_u64(milli / 1000u);
    tm_port_putc('.');
    tm_port_putc((char)('0' + (int)((milli / 100u) % 10u)));
    tm_port_putc((char)('0' + (int)((milli / 10u) % 10u)));
    tm_port_putc((char)('0' + (int)(milli % 10u)));
}

void tm_out_safe(const char *s, uint32_t max)
{
    uint32_t i;
    for (i = 0; i < max && s[i] != '\0'; ++i) {
        char c = s[i];
        tm_port_putc((c >= 0x20 && c < 0x7f && c != '[' && c != ']') ? c : '?');
    }
}
