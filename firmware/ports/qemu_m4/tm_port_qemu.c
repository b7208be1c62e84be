/* tm_port_qemu.c - QEMU `mps2-an386` (Cortex-M4F) port.
 *
 * UART: CMSDK UART0 at 0x40004000; received bytes go through the RX interrupt
 * (IRQ 0) into a ring buffer, so bytes that arrive during an inference wait
 * there (and a full ring is counted as an overrun, not lost silently).
 * Counter: CMSDK APB timer0 at 0x40000000, a 32-bit down-counter at 25 MHz of
 * virtual time. QEMU runs with `-icount shift=TM_QEMU_ICOUNT_SHIFT`: every guest
 * instruction takes 2^shift ns of virtual time. With shift 3 that is a declared
 * 125 MHz virtual clock at one instruction per cycle (close to a real
 * Cortex-M4), one timer tick is exactly 5 instructions, and m-lap-us values are
 * microseconds of that virtual clock. The counter unit stays "instructions":
 * emulated instructions, not cycles of real silicon. Exit and host file reads:
 * semihosting (QEMU's -semihosting-config enable=on).
 */
#include <stdint.h>

#include "tm_port.h"
#include "tm_rx_ring.h"
#include "tm_semihost_read.h"

#define TM_UART0_BASE 0x40004000u
#define TM_TIMER0_BASE 0x40000000u
#define TM_REG(addr) (*(volatile uint32_t *)(addr))

#define UART_DATA TM_REG(TM_UART0_BASE + 0x00u)
#define UART_STATE TM_REG(TM_UART0_BASE + 0x04u)
#define UART_CTRL TM_REG(TM_UART0_BASE + 0x08u)
#define UART_INTCLEAR TM_REG(TM_UART0_BASE + 0x0Cu)
#define UART_BAUDDIV TM_REG(TM_UART0_BASE + 0x10u)
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_STATE_RXOVR 0x8u
#define UART_CTRL_TXEN 0x1u
#define UART_CTRL_RXEN 0x2u
#define UART_CTRL_RXINTEN 0x8u
#define UART_INT_RX 0x2u
#define TM_NVIC_ISER0 TM_REG(0xE000E100u)
#define TM_UART0_RX_IRQ 0u

#define TIMER_CTRL TM_REG(TM_TIMER0_BASE + 0x00u)
#define TIMER_VALUE TM_REG(TM_TIMER0_BASE + 0x04u)
#define TIMER_RELOAD TM_REG(TM_TIMER0_BASE + 0x08u)

#define TM_TIMER_HZ 25000000u
#ifndef TM_QEMU_ICOUNT_SHIFT
#define TM_QEMU_ICOUNT_SHIFT 3   /* keep equal to ICOUNT_SHIFT in tinyml/targets/qemu.py */
#endif
#define TM_NS_PER_INSN (1u << TM_QEMU_ICOUNT_SHIFT)
#define TM_INSNS_PER_TICK (40u / TM_NS_PER_INSN)   /* a 25 MHz tick lasts 40 ns */
#define TM_VIRTUAL_HZ (1000000000u / TM_NS_PER_INSN)
#if TM_QEMU_ICOUNT_SHIFT > 3
#error "a timer tick must hold a whole number of instructions: shift <= 3"
#endif

static tm_rx_ring_t g_rx;

/* The 32-bit down-counter wraps every 2^32 ticks (172 s virtual); every read
 * extends it to 64 bits by counting wraps. Reads happen at least around each
 * `infer`, far more often than once per wrap. */
static uint32_t g_last_elapsed;
static uint32_t g_wraps;

void tm_uart0_rx_handler(void);

/* Drain the UART into the ring. The interrupt flag is cleared before RXFULL is
 * tested, so a byte that lands in between raises the interrupt again. */
void tm_uart0_rx_handler(void)
{
    for (;;) {
        UART_INTCLEAR = UART_INT_RX;
        if ((UART_STATE & UART_STATE_RXOVR) != 0u) {
            UART_STATE = UART_STATE_RXOVR;   /* write 1 to clear */
            ++g_rx.lost;
        }
        if ((UART_STATE & UART_STATE_RXFULL) == 0u) break;
        tm_rx_push(&g_rx, (uint8_t)(UART_DATA & 0xFFu));
    }
}

void tm_port_init(void)
{
    tm_rx_reset(&g_rx);
    UART_BAUDDIV = 16u;
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN;
    TM_NVIC_ISER0 = 1u << TM_UART0_RX_IRQ;
    __asm__ volatile("cpsie i" ::: "memory");
    TIMER_CTRL = 0u;
    TIMER_RELOAD = 0xFFFFFFFFu;
    TIMER_VALUE = 0xFFFFFFFFu;
    TIMER_CTRL = 1u;   /* enable, count the APB clock */
    g_last_elapsed = 0u;
    g_wraps = 0u;
}

int tm_port_getc(void) { return tm_rx_pop(&g_rx); }
int tm_port_rx_ready(void) { return tm_rx_ready(&g_rx); }
uint32_t tm_port_rx_overruns(void) { return g_rx.lost; }

void tm_port_putc(char c)
{
    while ((UART_STATE & UART_STATE_TXFULL) != 0u) {
    }
    UART_DATA = (uint32_t)(uint8_t)c;
}

void tm_port_write(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; ++i) tm_port_putc(s[i]);
}

static uint64_t tm_ticks(void)
{
    uint32_t elapsed = 0xFFFFFFFFu - TIMER_VALUE;
    if (elapsed < g_last_elapsed) ++g_wraps;
    g_last_elapsed = elapsed;
    return ((uint64_t)g_wraps << 32) | elapsed;
}

uint64_t tm_port_counter(void) { return tm_ticks() * TM_INSNS_PER_TICK; }
const char *tm_port_counter_unit(void) { return "instructions"; }
uint32_t tm_port_counter_resolution(void) { return TM_INSNS_PER_TICK; }
uint64_t tm_port_micros(void) { return tm_ticks() / (TM_TIMER_HZ / 1000000u); }
void tm_port_trigger(int level) { (void)level; }  /* no GPIO worth driving in QEMU */
const char *tm_port_board(void) { return "qemu-mps2-an386"; }
uint32_t tm_port_clock_hz(void) { return TM_VIRTUAL_HZ; }

/* One Arm semihosting call: operation in r0, argument block in r1. */
static int32_t tm_semihost(uint32_t op, const void *args)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = args;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

int tm_port_host_read(const char *path, uint32_t offset, void *buf, uint32_t n)
{
    return tm_semihost_read(path, offset, buf, n);
}

void tm_port_exit(int code)
{
    /* SYS_EXIT (0x18): ADP_Stopped_ApplicationExit -> QEMU exits 0, RunTimeErrorUnknown -> 1. */
    (void)tm_semihost(0x18u, (const void *)(uintptr_t)((code == 0) ? 0x20026u : 0x20023u));
    for (;;) {
    }
}
