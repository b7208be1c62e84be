/* tm_startup_xtensa.c - reset, exception vectors and C start-up for the LX106.
 *
 * The reset vector is the first word of the ROM (0x50000000, QEMU's lx106
 * sysrom) and the ELF entry is that same address, so the image starts there
 * however QEMU's loader treats other entries. Start-up sets the stack, points
 * VECBASE at our vector table, copies .data from ROM, zeroes .bss, leaves
 * exception mode (PS.UM=1, EXCM=0, INTLEVEL=0) and runs main(). The UART
 * interrupt arrives as a level-1 interrupt on the user exception vector; every
 * other exception prints an e-[...] line with its cause and PC and ends QEMU
 * instead of hanging the rig.
 *
 * Literals precede their use (l32r only reaches backwards): the hand-written
 * parts below place them with .literal_position, the C code is compiled with
 * -mtext-section-literals.
 */
#include <stdint.h>

#include "tm_port.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);

void tm_xt_c_start(void);
void tm_xt_user_exception(uint32_t cause);
void tm_xt_fatal(uint32_t kind);
void tm_xt_interrupt(uint32_t pending);   /* tm_port_xtensa.c */

/* Reset vector and the start-up code beside it (a `j` reaches only 128 KiB). */
__asm__(
    "    .section .tm_reset, \"ax\"\n"
    "    .global tm_xt_reset\n"
    "tm_xt_reset:\n"
    "    j 2f\n"
    "    .literal_position\n"
    "    .align 4\n"
    "2:  movi a1, _estack\n"
    "    movi a2, tm_xt_vectors\n"
    "    wsr a2, vecbase\n"
    "    isync\n"
    "    movi a0, tm_xt_c_start\n"
    "    callx0 a0\n"
    "1:  j 1b\n");

/* Vector table (VECBASE, 1 KiB aligned) at the lx106 core's offsets. The user
 * vector keeps a0 in EXCSAVE1 and jumps to the entry that saves the rest; the
 * fatal ones put their kind in a2 (nothing returns from them). */
__asm__(
    "    .section .tm_vectors, \"ax\"\n"
    "    .align 1024\n"
    "    .global tm_xt_vectors\n"
    "tm_xt_vectors:\n"
    "    .org tm_xt_vectors + 0x10\n"          /* debug */
    "    movi a2, 1\n"
    "    j tm_xt_fatal_entry\n"
    "    .org tm_xt_vectors + 0x20\n"          /* NMI */
    "    movi a2, 2\n"
    "    j tm_xt_fatal_entry\n"
    "    .org tm_xt_vectors + 0x30\n"          /* kernel exception (PS.UM=0) */
    "    movi a2, 3\n"
    "    j tm_xt_fatal_entry\n"
    "    .org tm_xt_vectors + 0x50\n"          /* user exception and level-1 interrupt */
    "    wsr a0, excsave1\n"
    "    j tm_xt_user_entry\n"
    "    .org tm_xt_vectors + 0x70\n"          /* double exception */
    "    movi a2, 4\n"
    "    j tm_xt_fatal_entry\n"
    "    .org tm_xt_vectors + 0x80\n"
    "    .literal_position\n"
    "    .align 4\n"
    /* Save every address register and SAR (the interrupted code may be
     * anywhere), then hand EXCCAUSE to C; restore and return with RFE. */
    "tm_xt_user_entry:\n"
    "    addi a1, a1, -80\n"
    "    rsr a0, excsave1\n"
    "    s32i a0, a1, 0\n"
    "    s32i a2, a1, 8\n"
    "    s32i a3, a1, 12\n"
    "    s32i a4, a1, 16\n"
    "    s32i a5, a1, 20\n"
    "    s32i a6, a1, 24\n"
    "    s32i a7, a1, 28\n"
    "    s32i a8, a1, 32\n"
    "    s32i a9, a1, 36\n"
    "    s32i a10, a1, 40\n"
    "    s32i a11, a1, 44\n"
    "    s32i a12, a1, 48\n"
    "    s32i a13, a1, 52\n"
    "    s32i a14, a1, 56\n"
    "    s32i a15, a1, 60\n"
    "    rsr a2, sar\n"
    "    s32i a2, a1, 64\n"
    "    rsr a2, exccause\n"
    "    movi a0, tm_xt_user_exception\n"
    "    callx0 a0\n"
    "    l32i a2, a1, 64\n"
    "    wsr a2, sar\n"
    "    l32i a0, a1, 0\n"
    "    l32i a2, a1, 8\n"
    "    l32i a3, a1, 12\n"
    "    l32i a4, a1, 16\n"
    "    l32i a5, a1, 20\n"
    "    l32i a6, a1, 24\n"
    "    l32i a7, a1, 28\n"
    "    l32i a8, a1, 32\n"
    "    l32i a9, a1, 36\n"
    "    l32i a10, a1, 40\n"
    "    l32i a11, a1, 44\n"
    "    l32i a12, a1, 48\n"
    "    l32i a13, a1, 52\n"
    "    l32i a14, a1, 56\n"
    "    l32i a15, a1, 60\n"
    "    addi a1, a1, 80\n"
    "    rfe\n"
    "tm_xt_fatal_entry:\n"
    "    movi a1, _estack\n"
    "    movi a0, tm_xt_fatal\n"
    "    callx0 a0\n"
    "1:  j 1b\n");

void tm_xt_c_start(void)
{
    uint32_t *src = &_sidata;
    uint32_t *dst;
    for (dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
    /* PS: user vector mode (UM=1), exceptions enabled (EXCM=0), INTLEVEL 0.
     * INTENABLE is still 0 here; tm_port_init enables the UART interrupt. */
    __asm__ volatile("wsr %0, ps\n\trsync" : : "a"(0x20u) : "memory");
    tm_port_exit(main());
}

static void tm_xt_hex(uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    int s;
    for (s = 28; s >= 0; s -= 4) tm_port_putc(hex[(v >> s) & 0xFu]);
}

static void tm_xt_fault(const char *what, uint32_t cause)
{
    static const char head[] = "\r\ne-[fault: ";
    uint32_t pc;
    const char *p;
    __asm__ volatile("rsr %0, epc1" : "=a"(pc));
    tm_port_write(head, sizeof(head) - 1u);
    for (p = what; *p != '\0'; ++p) tm_port_putc(*p);
    tm_port_write(" cause 0x", 9u);
    tm_xt_hex(cause);
    tm_port_write(" epc1 0x", 8u);
    tm_xt_hex(pc);
    tm_port_write(", halting]\r\n", 12u);
    tm_port_exit(2);
}

#define TM_XT_CAUSE_LEVEL1_INTERRUPT 4u

void tm_xt_user_exception(uint32_t cause)
{
    uint32_t pending, enabled;
    if (cause != TM_XT_CAUSE_LEVEL1_INTERRUPT) tm_xt_fault("CPU exception", cause);
    __asm__ volatile("rsr %0, interrupt" : "=a"(pending));
    __asm__ volatile("rsr %0, intenable" : "=a"(enabled));
    tm_xt_interrupt(pending & enabled);
}

void tm_xt_fatal(uint32_t kind)
{
    static const char *const names[] = {"?", "debug exception", "NMI", "kernel exception",
                                        "double exception"};
    uint32_t cause;
    __asm__ volatile("rsr %0, exccause" : "=a"(cause));
    tm_xt_fault(kind < 5u ? names[kind] : names[0], cause);
}
