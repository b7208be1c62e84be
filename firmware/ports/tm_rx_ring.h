/* tm_rx_ring.h - receive ring buffer shared by the emulated ports.
 *
 * The UART interrupt pushes, tm_port_getc pops: one producer, one consumer,
 * each owning one index, so no lock is needed on a single core. A full ring
 * counts the byte as lost (reported by the harness as an overrun) rather than
 * dropping it silently. C99, header-only.
 */
#ifndef TM_RX_RING_H
#define TM_RX_RING_H

#include <stdint.h>

#ifndef TM_RX_RING
#define TM_RX_RING 1024u   /* bytes; a power of two */
#endif

typedef struct {
    volatile uint8_t buf[TM_RX_RING];
    volatile uint32_t head;   /* written by the interrupt */
    volatile uint32_t tail;   /* written by tm_port_getc */
    volatile uint32_t lost;
} tm_rx_ring_t;

static inline void tm_rx_reset(tm_rx_ring_t *r) { r->head = r->tail = r->lost = 0u; }

static inline void tm_rx_push(tm_rx_ring_t *r, uint8_t c)
{
    const uint32_t head = r->head;
    if (head - r->tail >= TM_RX_RING) {
        ++r->lost;
        return;
    }
    r->buf[head & (TM_RX_RING - 1u)] = c;
    r->head = head + 1u;
}

static inline int tm_rx_pop(tm_rx_ring_t *r)
{
    const uint32_t tail = r->tail;
    int c;
    if (tail == r->head) return -1;
    c = r->buf[tail & (TM_RX_RING - 1u)];
    r->tail = tail + 1u;
    return c;
}

static inline int tm_rx_ready(const tm_rx_ring_t *r) { return r->tail != r->head; }

#endif /* TM_RX_RING_H */
