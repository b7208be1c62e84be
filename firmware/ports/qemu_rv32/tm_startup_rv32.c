/* tm_startup_rv32.c - reset and trap entry for the QEMU RV32 port.
 *
 * QEMU (`-bios none`) jumps to the ELF entry in machine mode. Start-up sets the
 * global pointer and the stack, points mtvec at the trap handler, copies .data
 * from ROM, zeroes .bss and runs main(). The UART interrupt arrives as a
 * machine external interrupt; every exception prints an e-[...] line with
 * mcause and mepc and ends QEMU instead of hanging the rig.
 */
#include <stdint.h>

#include "tm_port.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);

void tm_rv_c_start(void);
void tm_rv_trap(void);
void tm_rv_external_interrupt(void);   /* tm_port_rv32.c */

/* gp must be set without relaxation (the relaxed form would use gp itself). */
__asm__(
    "    .section .tm_reset, \"ax\"\n"
    "    .global tm_rv_reset\n"
    "tm_rv_reset:\n"
    "    .option push\n"
    "    .option norelax\n"
    "    la gp, __global_pointer$\n"
    "    .option pop\n"
    "    la sp, _estack\n"
    "    la t0, tm_rv_trap\n"
    "    csrw mtvec, t0\n"
    "    call tm_rv_c_start\n"
    "1:  j 1b\n");

void tm_rv_c_start(void)
{
    uint32_t *src = &_sidata;
    uint32_t *dst;
    for (dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
    tm_port_exit(main());
}

static void tm_rv_hex(uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    int s;
    for (s = 28; s >= 0; s -= 4) tm_port_putc(hex[(v >> s) & 0xFu]);
}

#define TM_MCAUSE_INTERRUPT 0x80000000u
#define TM_MCAUSE_MEI 11u

/* mtvec in direct mode needs 4-byte alignment; the attribute saves and
 * restores every register the handler and its callees touch, then mret. */
__attribute__((interrupt("machine"), aligned(4))) void tm_rv_trap(void)
{
    static const char head[] = "\r\ne-[fault: CPU exception mcause 0x";
    uint32_t cause, epc;
    __asm__ volatile("csrr %0, mcause" : "=r"(cause));
    if (cause == (TM_MCAUSE_INTERRUPT | TM_MCAUSE_MEI)) {
        tm_rv_external_interrupt();
        return;
    }
    __asm__ volatile("csrr %0, mepc" : "=r"(epc));
    tm_port_write(head, sizeof(head) - 1u);
    tm_rv_hex(cause);
    tm_port_write(" mepc 0x", 8u);
    tm_rv_hex(epc);
    tm_port_write(", halting]\r\n", 12u);
    tm_port_exit(2);
}
