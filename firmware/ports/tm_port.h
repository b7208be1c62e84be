/* tm_port.h - what the harness and the runtimes need from a board.
 *
 * Every port (firmware/ports/<board>/) implements these functions. C99; the
 * Arduino port implements them in C++ with C linkage.
 *
 * The counter: tm_port_counter() is a monotonically increasing 64-bit count
 * in the unit named by tm_port_counter_unit():
 *   "cycles"        CPU clock cycles (DWT CYCCNT on Cortex-M3+, ESP32 CCOUNT)
 *   "instructions"  emulated instructions (QEMU -icount; NOT wall time)
 *   "us"            microseconds (boards without a cycle counter, e.g. RP2040)
 * tm_port_counter_resolution() is how many units one hardware tick is worth
 * (QEMU -icount shift=3: 5 instructions per APB timer tick; DWT: 1 cycle).
 */
#ifndef TM_PORT_H
#define TM_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bring up UART, counter and trigger pin. Called once before anything else. */
void tm_port_init(void);

/* Next received byte (0..255), or -1 when none is waiting. Never blocks. */
int tm_port_getc(void);

/* 1 when a received byte is waiting (tm_port_getc would return it), else 0.
 * Never blocks, never consumes: the harness polls it to abort a long `infer`. */
int tm_port_rx_ready(void);

/* Received bytes lost so far (receive buffer or UART overrun); 0 if unknown. */
uint32_t tm_port_rx_overruns(void);

/* Read n bytes at `offset` of a file on the host (emulators: semihosting).
 * 0 = done, -1 = this port has no host file access, -2 = open/seek/read failed. */
int tm_port_host_read(const char *path, uint32_t offset, void *buf, uint32_t n);

/* Send bytes; may block until the UART accepted them. */
void tm_port_putc(char c);
void tm_port_write(const char *s, size_t n);

/* Performance counter, see above. */
uint64_t tm_port_counter(void);
const char *tm_port_counter_unit(void);
uint32_t tm_port_counter_resolution(void);

/* Microseconds since tm_port_init (virtual time on an emulator). */
uint64_t tm_port_micros(void);

/* GPIO trigger for an energy monitor: level 0 or 1. No-op where absent. */
void tm_port_trigger(int level);

/* Facts about the board for the build-info record. */
const char *tm_port_board(void);
uint32_t tm_port_clock_hz(void);

/* Stop: emulators exit with `code`, boards halt or reset. */
void tm_port_exit(int code);

#ifdef __cplusplus
}
#endif
#endif /* TM_PORT_H */
