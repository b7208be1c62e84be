/* int8 PAD / PADV2 (constant padding), rank <= 4. */
#include <string.h>

#include "tm_k_misc.h"

void tm_k_pad_s8(const int8_t *in, int8_t *out, const int32_t in_shape[4],
                 const int32_t pad_before[4], const int32_t pad_after[4],
                 int8_t pad_value)
{
    int32_t os[4];
    int32_t d, a, b, c;
    for (d = 0; d < 4; ++d) {
        os[d] = pad_before[d] + in_shape[d] + pad_after[d];
    }
    /* Fill, then copy the input rows (innermost axis is contiguous). */
    memset(out, (unsigned char)pad_value,
           (size_t)os[0] * (size_t)os[1] * (size_t)os[2] * (size_t)os[3]);
    for (a = 0; a < in_shape[0]; ++a) {
        for (b = 0; b < in_shape[1]; ++b) {
            for (c = 0; c < in_shape[2]; ++c) {
                const int32_t src =
                    ((a * in_shape[1] + b) * in_shape[2] + c) * in_shape[3];
                const int32_t dst =
                    (((a + pad_before[0]) * os[1] + (b + pad_before[1])) * os[2] +
                     (c + pad_before[2])) * os[3] + pad_before[3];
                memcpy(out + dst, in + src, (size_t)in_shape[3]);
            }
        }
    }
}
