/* aot_main.c - host driver for AOT bit-exactness tests.
 * Usage: aot_model N < inputs.bin > outputs.bin (N inferences, raw int8). */
#include <stdio.h>
#include <stdlib.h>

#include "tm_aot_model.h"

#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE
/* Host stand-in for the port counter: counts calls, so every layer takes 1 tick. */
uint64_t tm_port_counter(void);
uint64_t tm_port_counter(void)
{
    static uint64_t t;
    return t++;
}
#endif

static int8_t in_buf[TM_MODEL_INPUT_BYTES];
static int8_t out_buf[TM_MODEL_OUTPUT_BYTES];

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    long i;
    for (i = 0; i < n; ++i) {
        if (fread(in_buf, 1, sizeof in_buf, stdin) != sizeof in_buf) {
            fprintf(stderr, "short input at inference %ld\n", i);
            return 2;
        }
        if (tm_model_invoke(in_buf, out_buf) != 0) {
            return 3;
        }
        if (fwrite(out_buf, 1, sizeof out_buf, stdout) != sizeof out_buf) {
            return 4;
        }
    }
    return 0;
}
