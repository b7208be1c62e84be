/* tm_port_rv32.c - QEMU `virt` (RV32, built for RV32IMC) port.
 *
 * A stand-in for the RISC-V ESP32-C3 / C6 instruction set (RV32IMC), not one
 * of those chips: QEMU's generic virt board, machine mode, bare metal.
 *
 * UART: 16550 at 0x10000000 (byte registers), PLIC source 10. Received bytes
 * go through the RX interrupt (machine external interrupt via the PLIC) into
 * a ring buffer, so bytes that arrive during an inference wait there; a full
 * ring or a UART overrun is counted, not lost silently.
 * Counter: minstret. Under `-icount shift=TM_QEMU_ICOUNT_SHIFT` QEMU returns
 * virtual nanoseconds for it (instructions << shift): shift 3 is 8 ns per
 * instruction, a declared 125 MHz virtual clock, so instructions are exact
 * (emulated instructions, not cycles of real silicon).
 * Exit and host file reads: RISC-V semihosting (QEMU -semihosting-config).
 */
#include <stdint.h>

#include "tm_port.h"
#include "tm_rx_ring.h"
#include "tm_semihost_read.h"

#define TM_UART_BASE 0x10000000u
#define TM_UART_REG(i) (*(volatile uint8_t *)(TM_UART_BASE + (i)))
#include "tm_uart16550.h"

#define TM_PLIC_BASE 0x0C000000u
#define TM_PLIC_REG(off) (*(volatile uint32_t *)(TM_PLIC_BASE + (off)))
#define TM_UART_IRQ 10u
#define PLIC_PRIORITY(src) TM_PLIC_REG(4u * (src))
#define PLIC_ENABLE_CTX0 TM_PLIC_REG(0x2000u)      /* hart 0, machine mode */
#define PLIC_THRESHOLD_CTX0 TM_PLIC_REG(0x200000u)
#define PLIC_CLAIM_CTX0 TM_PLIC_REG(0x200004u)

#define TM_MIE_MEIE (1u << 11)
#define TM_MSTATUS_MIE (1u << 3)

#ifndef TM_QEMU_ICOUNT_SHIFT
#define TM_QEMU_ICOUNT_SHIFT 3  /* keep equal to ICOUNT_SHIFT in tinyml/targets/qemu.py */
#endif
#define TM_VIRTUAL_HZ (1000000000u >> TM_QEMU_ICOUNT_SHIFT)

static tm_rx_ring_t g_rx;
static uint64_t g_ns0;

void tm_rv_external_interrupt(void);   /* called by tm_startup_rv32.c */

/* Drain the UART into the ring; the PLIC claim/complete pair brackets it. */
void tm_rv_external_interrupt(void)
{
    const uint32_t src = PLIC_CLAIM_CTX0;
    if (src == TM_UART_IRQ) tm_uart16550_drain(&g_rx);
    if (src != 0u) PLIC_CLAIM_CTX0 = src;
}

/* 64-bit minstret on RV32: read high, low, high again until no carry slipped in. */
static uint64_t tm_minstret(void)
{
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi));
        __asm__ volatile("csrr %0, minstret" : "=r"(lo));
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

void tm_port_init(void)
{
    tm_rx_reset(&g_rx);
    tm_uart16550_init();
    PLIC_PRIORITY(TM_UART_IRQ) = 1u;
    PLIC_THRESHOLD_CTX0 = 0u;
    PLIC_ENABLE_CTX0 = 1u << TM_UART_IRQ;
    __asm__ volatile("csrs mie, %0" : : "r"(TM_MIE_MEIE) : "memory");
    __asm__ volatile("csrs mstatus, %0" : : "r"(TM_MSTATUS_MIE) : "memory");
    g_ns0 = tm_minstret();
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

uint64_t tm_port_counter(void) { return (tm_minstret() - g_ns0) >> TM_QEMU_ICOUNT_SHIFT; }
const char *tm_port_counter_unit(void) { return "instructions"; }
uint32_t tm_port_counter_resolution(void) { return 1u; }
uint64_t tm_port_micros(void) { return (tm_minstret() - g_ns0) / 1000u; }
void tm_port_trigger(int level) { (void)level; }  /* no GPIO worth driving in QEMU */
const char *tm_port_board(void) { return "qemu-riscv32-virt"; }
uint32_t tm_port_clock_hz(void) { return TM_VIRTUAL_HZ; }

/* One RISC-V semihosting call: operation in a0, argument block in a1. The
 * slli/ebreak/srai triple must stay uncompressed for QEMU to recognise it. */
static int32_t tm_semihost(uint32_t op, const void *args)
{
    register uint32_t a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = args;
    __asm__ volatile(".option push\n\t.option norvc\n\t"
                     "slli zero, zero, 0x1f\n\tebreak\n\tsrai zero, zero, 7\n\t"
                     ".option pop"
                     : "+r"(a0) : "r"(a1) : "memory");
    return (int32_t)a0;
}

int tm_port_host_read(const char *path, uint32_t offset, void *buf, uint32_t n)
{
    return tm_semihost_read(path, offset, buf, n);
}

void tm_port_exit(int code)
{
    /* SYS_EXIT_EXTENDED (0x20): ADP_Stopped_ApplicationExit with the exit code. */
    uint32_t args[2];
    args[0] = 0x20026u;
    args[1] = (uint32_t)code;
    (void)tm_semihost(0x20u, args);
    for (;;) {
    }
}
