/* tm_uart16550.h - the PC-style 16550 UART that QEMU's lx60 (Xtensa) and virt
 * (RISC-V) boards both carry. The including port first defines TM_UART_REG(i),
 * register i at its board's address and width. C99, header-only. */
#ifndef TM_UART16550_H
#define TM_UART16550_H

#include <stdint.h>

#include "tm_rx_ring.h"

#define UART_RBR TM_UART_REG(0)   /* read */
#define UART_THR TM_UART_REG(0)   /* write */
#define UART_IER TM_UART_REG(1)
#define UART_FCR TM_UART_REG(2)   /* write */
#define UART_LCR TM_UART_REG(3)
#define UART_MCR TM_UART_REG(4)
#define UART_LSR TM_UART_REG(5)
#define LSR_DR 0x01u
#define LSR_OE 0x02u
#define LSR_THRE 0x20u
#define IER_RDA 0x01u

static inline void tm_uart16550_init(void)
{
    UART_LCR = 0x03u;          /* 8N1 */
    UART_FCR = 0x07u;          /* FIFOs on and cleared, RX trigger at 1 byte */
    UART_MCR = 0x08u;          /* OUT2: the interrupt line of a PC-style 16550 */
    UART_IER = IER_RDA;
}

/* Interrupt side: move every received byte into the ring, counting overruns. */
static inline void tm_uart16550_drain(tm_rx_ring_t *r)
{
    for (;;) {
        const uint32_t lsr = UART_LSR;
        if ((lsr & LSR_OE) != 0u) ++r->lost;
        if ((lsr & LSR_DR) == 0u) break;
        tm_rx_push(r, (uint8_t)(UART_RBR & 0xFFu));
    }
}

static inline void tm_uart16550_putc(char c)
{
    while ((UART_LSR & LSR_THRE) == 0u) {
    }
    UART_THR = (uint8_t)c;
}

#endif /* TM_UART16550_H */
