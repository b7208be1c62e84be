/* tm_fmt.h - minimal output formatting (no printf: smaller, and no float printf
 * support needed from the C library). All output goes to tm_port_write(). */
#ifndef TM_FMT_H
#define TM_FMT_H

#include <stdint.h>

void tm_out_str(const char *s);
void tm_out_u64(uint64_t v);
void tm_out_i32(int32_t v);
void tm_out_hex8(uint8_t v);       /* two lowercase hex digits */
void tm_out_hex32(uint32_t v);     /* eight lowercase hex digits */
void tm_out_f3(float v);           /* like printf("%0.3f") */
void tm_out_safe(const char *s, uint32_t max); /* printable ASCII only, '?' otherwise */
void tm_out_nl(void);              /* "\r\n" as EEMBC hosts expect */

#endif
