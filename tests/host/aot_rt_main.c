/* aot_rt_main.c - drives the AOT model through tm_runtime.h (tm_rt_aot.c) on the host:
 * prints the tm_rt_info fields and the output of one inference on stdin bytes. */
#include <stdio.h>

#include "tm_runtime.h"

#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE
uint64_t tm_port_counter(void);
uint64_t tm_port_counter(void)
{
    static uint64_t t;
    return t += 3u;
}
#endif

static int8_t in_buf[1 << 20];
static int8_t out_buf[1 << 16];

int main(void)
{
    const tm_rt_info_t *f;
    const char *const *ops;
    const uint32_t *ticks;
    uint32_t i, n;
    if (tm_rt_init() != 0) {
        return 1;
    }
    f = tm_rt_info();
    printf("runtime=%s\nkernel_path=%s\nname=%s\nsha256=%s\n", f->runtime, f->kernel_path,
           f->model_name, f->model_sha256);
    printf("input_bytes=%u\noutput_bytes=%u\narena_bytes=%u\nop_count=%u\nmacs=%llu\n",
           (unsigned)f->input_bytes, (unsigned)f->output_bytes, (unsigned)f->arena_bytes,
           (unsigned)f->op_count, (unsigned long long)f->macs);
    printf("input_dims=");
    for (i = 0; i < f->input_rank; ++i) {
        printf("%d,", (int)f->input_dims[i]);
    }
    printf("\ninput_zero_point=%d\noutput_zero_point=%d\n", (int)f->input_zero_point,
           (int)f->output_zero_point);
    if (fread(in_buf, 1, f->input_bytes, stdin) != f->input_bytes) {
        return 2;
    }
    if (tm_rt_invoke(in_buf, out_buf) != 0 || tm_rt_invoke(NULL, out_buf) == 0) {
        return 3;
    }
    printf("output=");
    for (i = 0; i < f->output_bytes; ++i) {
        printf("%02x", (unsigned)(uint8_t)out_buf[i]);
    }
    n = tm_rt_profile(&ops, &ticks);
    printf("\nprofile_layers=%u\n", (unsigned)n);
    for (i = 0; i < n; ++i) {
        printf("profile=%s:%u\n", ops[i], (unsigned)ticks[i]);
    }
    return 0;
}
