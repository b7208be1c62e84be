/* aot_align_main.c - host driver of the alignment check (tests/host/test_isa_alignment.py).
 * Usage: aot_align N < inputs.bin > outputs.bin (N inferences, raw int8).
 * Inference i reads its input from, and writes its output to, buffers placed
 * 1 + i % 3 bytes past an 8-byte boundary: the harness's int8 buffers carry no
 * alignment guarantee on a device, so the runtime must not assume one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tm_aot_model.h"

static union {
    uint64_t align;
    int8_t b[TM_MODEL_INPUT_BYTES + 8];
} in_buf;
static union {
    uint64_t align;
    int8_t b[TM_MODEL_OUTPUT_BYTES + 8];
} out_buf;

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    long i;
    for (i = 0; i < n; ++i) {
        int8_t *in = in_buf.b + 1 + i % 3;
        int8_t *out = out_buf.b + 1 + (i + 1) % 3;
        if (fread(in, 1, TM_MODEL_INPUT_BYTES, stdin) != TM_MODEL_INPUT_BYTES) {
            fprintf(stderr, "short input at inference %ld\n", i);
            return 2;
        }
        if (tm_model_invoke(in, out) != 0) {
            return 3;
        }
        if (fwrite(out, 1, TM_MODEL_OUTPUT_BYTES, stdout) != TM_MODEL_OUTPUT_BYTES) {
            return 4;
        }
    }
    return 0;
}
