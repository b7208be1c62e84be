/* tm_startup.c - vector table and reset handler for the QEMU Cortex-M4F port.
 * The reset handler copies .data from flash, zeroes .bss, turns on the FPU
 * (the code is built with -mfloat-abi=hard) and runs main(). Faults print an
 * e-[...] line and end QEMU instead of hanging the test rig. */
#include <stdint.h>
#include <string.h>

#include "tm_port.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);

void tm_reset_handler(void);
void tm_fault_handler(void);
void tm_uart0_rx_handler(void);   /* tm_port_qemu.c */

#define TM_SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void tm_reset_handler(void)
{
    uint32_t *src = &_sidata;
    uint32_t *dst;
    for (dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
    TM_SCB_CPACR |= (0xFu << 20);  /* CP10 + CP11 full access */
    __asm__ volatile("dsb\n isb" ::: "memory");
    tm_port_exit(main());
}

void tm_fault_handler(void)
{
    static const char msg[] = "\r\ne-[fault: CPU exception, halting]\r\n";
    tm_port_write(msg, sizeof(msg) - 1u);
    tm_port_exit(2);
}

typedef void (*tm_vector_t)(void);

/* Core exceptions, then external IRQ 0: UART0 RX (the only interrupt enabled). */
__attribute__((section(".isr_vector"), used))
const tm_vector_t tm_vectors[17] = {
    (tm_vector_t)(uintptr_t)&_estack,
    tm_reset_handler,
    tm_fault_handler, /* NMI */
    tm_fault_handler, /* HardFault */
    tm_fault_handler, /* MemManage */
    tm_fault_handler, /* BusFault */
    tm_fault_handler, /* UsageFault */
    0, 0, 0, 0,
    tm_fault_handler, /* SVCall */
    tm_fault_handler, /* DebugMon */
    0,
    tm_fault_handler, /* PendSV */
    tm_fault_handler, /* SysTick */
    tm_uart0_rx_handler, /* IRQ 0: UART0 RX */
};
