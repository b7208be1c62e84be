/* tm_harness.h - device side of the EEMBC / MLPerf Tiny DUT protocol.
 *
 * A port's main (or Arduino setup/loop) calls tm_harness_init() once and then
 * tm_harness_poll() forever. Everything the harness prints goes through
 * tm_port_write(); everything it reads comes from tm_port_getc().
 */
#ifndef TM_HARNESS_H
#define TM_HARNESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TM_HARNESS_VERSION "tinyml-harness-1.0"

/* Longest command line (without the '%'); longer lines are answered e-[...]. */
#ifndef TM_CMD_MAX
#define TM_CMD_MAX 512
#endif
/* Capacity of the `db` input buffer and of the output buffer, in bytes.
 * Default: the model's tensor sizes from the generated tm_model_meta.h (at
 * least 256 bytes so short `db` tests work), else 16 KiB / 1 KiB. */
/* Upper bound on N + W of one `infer` so a typo cannot wedge the device. */
#ifndef TM_INFER_MAX
#define TM_INFER_MAX 100000u
#endif

void tm_harness_init(void);
void tm_harness_feed(int c);     /* hand one received byte to the parser */
void tm_harness_poll(void);      /* read every waiting byte and act on it */

/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32) of n bytes. */
uint32_t tm_crc32(const uint8_t *p, uint32_t n);

#ifdef __cplusplus
}
#endif
#endif /* TM_HARNESS_H */
