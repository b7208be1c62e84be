/* int8 CONCATENATION: a byte copy, exactly as TFLM does for int8 (it never
 * requantizes; the converter inserts QUANTIZE ops to equalise scales). */
#include <string.h>

#include "tm_k_misc.h"

void tm_k_concat_s8(const int8_t *const *inputs, const int32_t *axis_len,
                    int32_t n_inputs, int8_t *out, int32_t outer,
                    int32_t inner)
{
    int32_t o, k;
    for (o = 0; o < outer; ++o) {
        for (k = 0; k < n_inputs; ++k) {
            const size_t n = (size_t)axis_len[k] * (size_t)inner;
            memcpy(out, inputs[k] + (size_t)o * n, n);
            out += n;
        }
    }
}
