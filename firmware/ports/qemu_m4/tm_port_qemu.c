/* tm_port_qemu.c - QEMU `mps2-an386` (Cortex-M4F) port.
 *
 * UART: CMSDK UART0 at 0x40004000. Counter: CMSDK APB timer0 at 0x40000000,
 * a 32-bit down-counter at 25 MHz. Under `-icount shift=0` every guest
 * instruction takes 1 ns of virtual time, so one timer tick is exactly 40
 * instructions: the counter is reported in emulated instructions, not in
 * wall-clock time. Exit: semihosting SYS_EXIT.
 */
#include <stdint.h>

#include "tm_port.h"

#define TM_UART0_BASE 0x40004000u
#define TM_TIMER0_BASE 0x40000000u
#define TM_REG(addr) (*(volatile uint32_t *)(addr))

#define UART_DATA TM_REG(TM_UART0_BASE + 0x00u)
#define UART_STATE TM_REG(TM_UART0_BASE + 0x04u)
#define UART_CTRL TM_REG(TM_UART0_BASE + 0x08u)
#define UART_BAUDDIV TM_REG(TM_UART0_BASE + 0x10u)
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u

#define TIMER_CTRL TM_REG(TM_TIMER0_BASE + 0x00u)
#define TIMER_VALUE TM_REG(TM_TIMER0_BASE + 0x04u)
#define TIMER_RELOAD TM_REG(TM_TIMER0_BASE + 0x08u)

#define TM_TIMER_HZ 25000000u
#define TM_INSNS_PER_TICK 40u   /* 1e9 ns/s / 25e6 ticks/s under -icount shift=0 */

/* The 32-bit down-counter wraps every 2^32 ticks (172 s virtual); every read
 * extends it to 64 bits by counting wraps. Reads happen at least around each
 * `infer`, far more often than once per wrap. */
static uint32_t g_last_elapsed;
static uint32_t g_wraps;

void tm_port_init(void)
{
    UART_BAUDDIV = 16u;
    UART_CTRL = 0x3u;  /* TX and RX enable, no interrupts: we poll */
    TIMER_CTRL = 0u;
    TIMER_RELOAD = 0xFFFFFFFFu;
    TIMER_VALUE = 0xFFFFFFFFu;
    TIMER_CTRL = 1u;   /* enable, count the APB clock */
    g_last_elapsed = 0u;
    g_wraps = 0u;
}

int tm_port_getc(void)
{
    if ((UART_STATE & UART_STATE_RXFULL) == 0u) return -1;
    return (int)(UART_DATA & 0xFFu);
}

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
uint32_t tm_port_clock_hz(void) { return TM_TIMER_HZ; }

void tm_port_exit(int code)
{
    /* SYS_EXIT (0x18): ADP_Stopped_ApplicationExit -> QEMU exits 0, RunTimeErrorUnknown -> 1. */
    register uint32_t r0 __asm__("r0") = 0x18u;
    register uint32_t r1 __asm__("r1") = (code == 0) ? 0x20026u : 0x20023u;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}
