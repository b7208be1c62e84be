/* tm_crc32.c - bitwise CRC-32 (no table: a few hundred bytes are hashed at a
 * time, flash matters more than speed). Matches Python's zlib.crc32. */
#include "tm_harness.h"

uint32_t tm_crc32(const uint8_t *p, uint32_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    uint32_t i;
    int k;
    for (i = 0; i < n; ++i) {
        crc ^= p[i];
        for (k = 0; k < 8; ++k) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}
