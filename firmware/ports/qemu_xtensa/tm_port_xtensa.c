/* tm_port_xtensa.c - QEMU `lx60-nommu` with `-cpu lx106` (Xtensa LX106) port.
 *
 * A stand-in for the ESP family's Xtensa instruction set, not an ESP32: the
 * core is the ESP8266's LX106 (call0 ABI, no FPU, no high-half multiply) on
 * QEMU's XTFPGA board, which has the 16550 UART this port talks through.
 *
 * UART: 16550 at 0x9D050020, registers 4 bytes apart, interrupt on the core's
 * external interrupt 0 (INTERRUPT bit 0). Received bytes go through the RX
 * interrupt into a ring buffer, so bytes that arrive during an inference wait
 * there; a full ring or a UART overrun is counted, not lost silently.
 * Counter: CCOUNT, which QEMU derives from virtual time at the core's 40 MHz.
 * QEMU runs with `-icount shift=TM_QEMU_ICOUNT_SHIFT` (3: 8 ns per guest
 * instruction, a declared 125 MHz virtual clock), so one CCOUNT tick is 25 ns =
 * 3.125 instructions; the counter reports ticks * 25 / 8 instructions
 * (emulated instructions, not cycles of real silicon).
 * Exit and host file reads: Xtensa semihosting (`simcall`, QEMU -semihosting).
 */
#include <stdint.h>

#include "tm_port.h"
#include "tm_rx_ring.h"

#define TM_UART_BASE 0x9D050020u
#define TM_UART_REG(i) (*(volatile uint32_t *)(TM_UART_BASE + 4u * (i)))
#include "tm_uart16550.h"
#define TM_UART_IRQ_MASK 0x1u   /* external interrupt 0 of the lx106 core */

#define TM_CCOUNT_HZ 40000000u  /* QEMU's lx106 core clock */
#ifndef TM_QEMU_ICOUNT_SHIFT
#define TM_QEMU_ICOUNT_SHIFT 3  /* keep equal to ICOUNT_SHIFT in tinyml/targets/qemu.py */
#endif
#define TM_NS_PER_INSN (1u << TM_QEMU_ICOUNT_SHIFT)
#define TM_VIRTUAL_HZ (1000000000u / TM_NS_PER_INSN)
/* instructions = ticks * TM_TICK_NS / TM_NS_PER_INSN, a tick being 25 ns */
#define TM_TICK_NS (1000000000u / TM_CCOUNT_HZ)

static tm_rx_ring_t g_rx;

/* CCOUNT is 32 bits and wraps every 107 s of virtual time; every read extends
 * it to 64 bits by counting wraps. Reads happen at least around each `infer`. */
static uint32_t g_last_ccount;
static uint32_t g_wraps;
static uint32_t g_ccount0;

void tm_xt_interrupt(uint32_t pending);   /* called by tm_startup_xtensa.c */

static uint32_t tm_ccount(void)
{
    uint32_t v;
    __asm__ volatile("rsr %0, ccount" : "=a"(v));
    return v;
}

/* Level-1 interrupt, PS.EXCM set: nothing nests. Drain the UART into the ring. */
void tm_xt_interrupt(uint32_t pending)
{
    if ((pending & TM_UART_IRQ_MASK) != 0u) tm_uart16550_drain(&g_rx);
}

void tm_port_init(void)
{
    uint32_t mask = TM_UART_IRQ_MASK;
    tm_rx_reset(&g_rx);
    tm_uart16550_init();
    __asm__ volatile("wsr %0, intenable\n\trsync" : : "a"(mask) : "memory");
    g_ccount0 = g_last_ccount = tm_ccount();
    g_wraps = 0u;
}

int tm_port_getc(void) { return tm_rx_pop(&g_rx); }
int tm_port_rx_ready(void) { return tm_rx_ready(&g_rx); }
uint32_t tm_port_rx_overruns(void) { return g_rx.lost; }

void tm_port_putc(char c) { tm_uart16550_putc(c); }

void tm_port_write(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; ++i) tm_port_putc(s[i]);
}

static uint64_t tm_ticks(void)
{
    const uint32_t now = tm_ccount() - g_ccount0;
    if (now < g_last_ccount) ++g_wraps;
    g_last_ccount = now;
    return ((uint64_t)g_wraps << 32) | now;
}

uint64_t tm_port_counter(void) { return tm_ticks() * TM_TICK_NS / TM_NS_PER_INSN; }
const char *tm_port_counter_unit(void) { return "instructions"; }
/* One tick is 3.125 instructions: rounded up, the step a reading can move by. */
uint32_t tm_port_counter_resolution(void)
{
    return (TM_TICK_NS + TM_NS_PER_INSN - 1u) / TM_NS_PER_INSN;
}
uint64_t tm_port_micros(void) { return tm_ticks() / (TM_CCOUNT_HZ / 1000000u); }
void tm_port_trigger(int level) { (void)level; }  /* no GPIO worth driving in QEMU */
const char *tm_port_board(void) { return "qemu-xtfpga-lx60-lx106"; }
uint32_t tm_port_clock_hz(void) { return TM_VIRTUAL_HZ; }

/* One Xtensa semihosting call: operation in a2, arguments in a3..a5, result in a2. */
static int32_t tm_simcall(int32_t op, int32_t x, int32_t y, int32_t z)
{
    register int32_t a2 __asm__("a2") = op;
    register int32_t a3 __asm__("a3") = x;
    register int32_t a4 __asm__("a4") = y;
    register int32_t a5 __asm__("a5") = z;
    __asm__ volatile("simcall" : "+a"(a2), "+a"(a3) : "a"(a4), "a"(a5) : "memory");
    return a2;
}

#define TM_SYS_EXIT 1
#define TM_SYS_READ 3
#define TM_SYS_OPEN 5
#define TM_SYS_CLOSE 6
#define TM_SYS_LSEEK 19

int tm_port_host_read(const char *path, uint32_t offset, void *buf, uint32_t n)
{
    int32_t fd, got = -1;
    fd = tm_simcall(TM_SYS_OPEN, (int32_t)(uintptr_t)path, 0 /* O_RDONLY */, 0);
    if (fd < 0) return -2;
    if (tm_simcall(TM_SYS_LSEEK, fd, (int32_t)offset, 0 /* SEEK_SET */) == (int32_t)offset) {
        got = tm_simcall(TM_SYS_READ, fd, (int32_t)(uintptr_t)buf, (int32_t)n);
    }
    (void)tm_simcall(TM_SYS_CLOSE, fd, 0, 0);
    return got == (int32_t)n ? 0 : -2;
}

void tm_port_exit(int code)
{
    (void)tm_simcall(TM_SYS_EXIT, code, 0, 0);   /* QEMU exits with `code` */
    for (;;) {
    }
}
