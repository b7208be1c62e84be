/* tm_runtime.h - the one interface between the device harness and a model runtime.
 *
 * The harness (firmware/harness) knows only this header. Each runtime
 * (runtime/aot: our ahead-of-time C; runtime/tflm: TensorFlow Lite Micro glue)
 * implements it. C99, no allocation.
 */
#ifndef TM_RUNTIME_H
#define TM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TM_RT_MAX_DIMS 6

typedef struct {
    const char *model_name;     /* from the run folder */
    const char *model_sha256;   /* hex SHA-256 of the .tflite the code came from */
    const char *runtime;        /* "aot" or "tflm" */
    const char *kernel_path;    /* "portable", "dsp", "cmsis-nn", "esp-nn", "reference" */
    uint32_t input_bytes;       /* int8 elements of the (single) input */
    uint32_t output_bytes;      /* int8 elements of the (single) output */
    uint8_t input_rank;
    uint8_t output_rank;
    int32_t input_dims[TM_RT_MAX_DIMS];
    int32_t output_dims[TM_RT_MAX_DIMS];
    float input_scale;
    int32_t input_zero_point;
    float output_scale;
    int32_t output_zero_point;
    uint32_t arena_bytes;       /* arena reserved (aot: planned peak) */
    uint32_t arena_used_bytes;  /* arena actually used (tflm: after AllocateTensors) */
    uint32_t op_count;
    uint64_t macs;
    uint32_t label_count;
    const char *const *labels;  /* label_count strings, may be NULL */
} tm_rt_info_t;

/* Prepare the runtime (tflm: build interpreter, allocate tensors). 0 = ok. */
int tm_rt_init(void);

/* Run one inference on input_bytes int8 values; writes output_bytes int8 values.
 * Returns 0 on success, nonzero on failure. Never writes outside `output`. */
int tm_rt_invoke(const int8_t *input, int8_t *output);

/* Static facts about the loaded model and the runtime. Never NULL after init. */
const tm_rt_info_t *tm_rt_info(void);

/* Per-layer profile of the last tm_rt_invoke (only with TM_ENABLE_PROFILE=1;
 * every file tests the macro's value, so =0 is off).
 * Returns the number of layers; *ops gets the op name of each layer and
 * *ticks the counter ticks it took (unit: tm_port_counter_unit()). */
uint32_t tm_rt_profile(const char *const **ops, const uint32_t **ticks);

#ifdef __cplusplus
}
#endif
#endif /* TM_RUNTIME_H */
