/* tm_rt_aot.c - tm_runtime.h on top of the AOT-generated model (tm_aot_model.h/.c).
 *
 * Compiled when TM_RUNTIME_AOT is set, or by default when TM_RUNTIME_TFLM is not,
 * so a build can include both runtime folders and pick one with a define.
 */
#if defined(TM_RUNTIME_AOT) ? TM_RUNTIME_AOT : !defined(TM_RUNTIME_TFLM)

#include "tm_runtime.h"

#include "tm_aot.h"
#include "tm_aot_model.h"

#ifndef TM_MODEL_LABEL_COUNT
#define TM_MODEL_LABEL_COUNT 0u
#define TM_MODEL_LABELS NULL
#endif

static const int32_t tm_rt_in_dims[] = TM_MODEL_INPUT_DIMS;
static const int32_t tm_rt_out_dims[] = TM_MODEL_OUTPUT_DIMS;

static tm_rt_info_t tm_rt_aot_info;

#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE
/* Filled by the port's TM_PROFILE_BEGIN/END (see tm_aot_profile_ticks). */
uint32_t tm_aot_profile_ticks[TM_MODEL_OP_COUNT > 0 ? TM_MODEL_OP_COUNT : 1];
#endif

int tm_rt_init(void)
{
    unsigned i;
    tm_rt_info_t *f = &tm_rt_aot_info;
    f->model_name = TM_MODEL_NAME;
    f->model_sha256 = TM_MODEL_SHA256;
    f->runtime = "aot";
    f->kernel_path = TM_AOT_KERNEL_PATH;
    f->input_bytes = TM_MODEL_INPUT_BYTES;
    f->output_bytes = TM_MODEL_OUTPUT_BYTES;
    f->input_rank = (uint8_t)TM_MODEL_INPUT_RANK;
    f->output_rank = (uint8_t)TM_MODEL_OUTPUT_RANK;
    for (i = 0; i < TM_RT_MAX_DIMS; ++i) {
        f->input_dims[i] = i < TM_MODEL_INPUT_RANK ? tm_rt_in_dims[i] : 0;
        f->output_dims[i] = i < TM_MODEL_OUTPUT_RANK ? tm_rt_out_dims[i] : 0;
    }
    f->input_scale = TM_MODEL_INPUT_SCALE;
    f->input_zero_point = TM_MODEL_INPUT_ZERO_POINT;
    f->output_scale = TM_MODEL_OUTPUT_SCALE;
    f->output_zero_point = TM_MODEL_OUTPUT_ZERO_POINT;
    f->arena_bytes = TM_MODEL_ARENA_BYTES;
    f->arena_used_bytes = TM_MODEL_ARENA_BYTES;
    f->op_count = TM_MODEL_OP_COUNT;
    f->macs = TM_MODEL_MACS;
    f->label_count = TM_MODEL_LABEL_COUNT;
    f->labels = TM_MODEL_LABELS;
    return 0;
}

int tm_rt_invoke(const int8_t *input, int8_t *output)
{
    if (input == NULL || output == NULL) {
        return 1;
    }
    return tm_model_invoke(input, output);
}

const tm_rt_info_t *tm_rt_info(void)
{
    if (tm_rt_aot_info.runtime == NULL) {
        (void)tm_rt_init();
    }
    return &tm_rt_aot_info;
}

uint32_t tm_rt_profile(const char *const **ops, const uint32_t **ticks)
{
#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE
    if (ops != NULL) {
        *ops = tm_model_op_names;
    }
    if (ticks != NULL) {
        *ticks = tm_aot_profile_ticks;
    }
    return TM_MODEL_OP_COUNT;
#else
    if (ops != NULL) {
        *ops = NULL;
    }
    if (ticks != NULL) {
        *ticks = NULL;
    }
    return 0;
#endif
}

#else
typedef int tm_rt_aot_unused_t; /* ISO C forbids an empty translation unit */
#endif
