/* tm_port_host.c - host (Linux/macOS) port for testing the harness with gcc,
 * ASan and UBSan: the "UART" is stdin/stdout. Not a board; never built by
 * platformio.ini. tm_port_getc() blocks on stdin (fine for a test pipe) and
 * returns -1 at end of input. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tm_port.h"

static uint64_t g_t0_ns;

static uint64_t tm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tm_port_init(void) { g_t0_ns = tm_now_ns(); }

int tm_port_getc(void)
{
    int c = getchar();
    return c == EOF ? -1 : (c & 0xFF);
}

/* stdin is a script of commands, not a live line: nothing counts as an abort. */
int tm_port_rx_ready(void) { return 0; }
uint32_t tm_port_rx_overruns(void) { return 0u; }

int tm_port_host_read(const char *path, uint32_t offset, void *buf, uint32_t n)
{
    FILE *f = fopen(path, "rb");
    int rc = -2;
    if (f == NULL) return -2;
    if (fseek(f, (long)offset, SEEK_SET) == 0 && fread(buf, 1, n, f) == n) rc = 0;
    fclose(f);
    return rc;
}

void tm_port_putc(char c) { putchar((unsigned char)c); }

void tm_port_write(const char *s, size_t n) { fwrite(s, 1, n, stdout); }

uint64_t tm_port_counter(void) { return (tm_now_ns() - g_t0_ns) / 1000u; }
const char *tm_port_counter_unit(void) { return "us"; }
uint32_t tm_port_counter_resolution(void) { return 1u; }
uint64_t tm_port_micros(void) { return (tm_now_ns() - g_t0_ns) / 1000u; }
void tm_port_trigger(int level) { (void)level; }
const char *tm_port_board(void) { return "host"; }
uint32_t tm_port_clock_hz(void) { return 0u; }

void tm_port_exit(int code)
{
    fflush(stdout);
    exit(code);
}
