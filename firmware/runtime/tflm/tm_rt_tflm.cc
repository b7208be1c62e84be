/* tm_rt_tflm.cc - tm_runtime.h on top of TensorFlow Lite Micro.
 *
 * Compiled only when TM_RUNTIME_TFLM is set (the <board>_tflm environments in
 * platformio.ini); otherwise this translation unit is empty.
 *
 * Uses the generated sources of `tinyml export`:
 *   tm_model_data.h    the .tflite flatbuffer (16-byte aligned, in flash)
 *   tm_tflm_resolver.h a MicroMutableOpResolver with exactly the model's ops
 *   tm_model_meta.h    arena size (TM_MODEL_TFLM_ARENA_BYTES), labels, MACs
 *
 * Written against TFLM's current public API (MicroInterpreter with
 * (model, resolver, arena, arena_size, resource_variables, profiler),
 * MicroProfilerInterface, arena_used_bytes()). NOT compiled in this
 * project's CI: TFLM's C++ sources are not available offline, so it is
 * unverified until built for a board with a TFLM library.
 *
 * No heap: the interpreter, resolver and profiler are placement-constructed
 * in static buffers; the arena is a static array.
 */
#if defined(TM_RUNTIME_TFLM) && TM_RUNTIME_TFLM

#include <stdint.h>
#include <string.h>

#include <new>

/* The Arduino packagings of TFLM want their umbrella header first. */
#if defined(__has_include)
#if __has_include(<TensorFlowLite_ESP32.h>)
#include <TensorFlowLite_ESP32.h>
#elif __has_include(<TensorFlowLite.h>)
#include <TensorFlowLite.h>
#endif
#endif

#include "tensorflow/lite/micro/compatibility.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"

/* Newer TFLM trees dropped tensorflow/lite/version.h, which defined this. */
#ifndef TFLITE_SCHEMA_VERSION
#define TFLITE_SCHEMA_VERSION 3
#endif

#include "tm_model_data.h"
#include "tm_model_meta.h"
#include "tm_port.h"
#include "tm_runtime.h"
#include "tm_tflm_resolver.h"

#if !TM_MODEL_HAS_TFLM
#error "firmware/generated has no TFLM sources for this model (see export.json); export with --runtime tflm"
#endif

/* Which kernels the TFLM library was built with. The library decides (its
 * OPTIMIZED_KERNEL_DIR); this only reports it. Override with -D TM_TFLM_KERNEL_PATH=\"...\". */
#ifndef TM_TFLM_KERNEL_PATH
#if defined(ESP_PLATFORM) || defined(ARDUINO_ARCH_ESP32)
#define TM_TFLM_KERNEL_PATH "esp-nn"        /* esp-tflite-micro / TensorFlowLite_ESP32 */
#elif defined(CMSIS_NN) || defined(ARDUINO_ARCH_MBED)
#define TM_TFLM_KERNEL_PATH "cmsis-nn"      /* Arduino_TensorFlowLite on Cortex-M */
#else
#define TM_TFLM_KERNEL_PATH "reference"
#endif
#endif

namespace {

constexpr size_t kArenaBytes = TM_MODEL_TFLM_ARENA_BYTES;
alignas(16) uint8_t g_arena[kArenaBytes];

/* Per-layer timing with the port's counter (same unit as the harness's latency). */
class TmProfiler : public tflite::MicroProfilerInterface {
 public:
  /* No heap: never deleted, but a virtual destructor needs an operator delete
   * (what TFLM's TF_LITE_REMOVE_VIRTUAL_DELETE does, without its unused parameter). */
  void operator delete(void*) {}
  static constexpr uint32_t kMaxEvents = TM_MODEL_OP_COUNT + 8u;

  uint32_t BeginEvent(const char* tag) override {
    if (count_ >= kMaxEvents) {
      return kMaxEvents; /* dropped: EndEvent ignores it */
    }
    tags_[count_] = tag;
    start_[count_] = tm_port_counter();
    ticks_[count_] = 0;
    return count_++;
  }

  void EndEvent(uint32_t handle) override {
    if (handle < count_) {
      const uint64_t dt = tm_port_counter() - start_[handle];
      ticks_[handle] = dt > 0xFFFFFFFFull ? 0xFFFFFFFFu : static_cast<uint32_t>(dt);
    }
  }

  void Reset() { count_ = 0; }
  uint32_t count() const { return count_; }
  const char* const* tags() const { return tags_; }
  const uint32_t* ticks() const { return ticks_; }

 private:
  const char* tags_[kMaxEvents] = {};
  uint64_t start_[kMaxEvents] = {};
  uint32_t ticks_[kMaxEvents] = {};
  uint32_t count_ = 0;
};

alignas(tm_tflm_resolver_t) uint8_t g_resolver_buf[sizeof(tm_tflm_resolver_t)];
alignas(tflite::MicroInterpreter) uint8_t g_interp_buf[sizeof(tflite::MicroInterpreter)];
#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE
alignas(TmProfiler) uint8_t g_profiler_buf[sizeof(TmProfiler)];
TmProfiler* g_profiler = nullptr;
#endif

tflite::MicroInterpreter* g_interp = nullptr;
tm_rt_info_t g_info;
int g_init_status = -1; /* -1: not tried; 0: ok; >0: the failure code below */

void fill_static_info() {
  static const int32_t in_dims[] = TM_MODEL_INPUT_DIMS;
  static const int32_t out_dims[] = TM_MODEL_OUTPUT_DIMS;
  memset(&g_info, 0, sizeof(g_info));
  g_info.model_name = TM_MODEL_NAME;
  g_info.model_sha256 = TM_MODEL_SHA256;
  g_info.runtime = "tflm";
  g_info.kernel_path = TM_TFLM_KERNEL_PATH;
  g_info.input_bytes = TM_MODEL_INPUT_BYTES;
  g_info.output_bytes = TM_MODEL_OUTPUT_BYTES;
  g_info.input_rank = static_cast<uint8_t>(TM_MODEL_INPUT_RANK);
  g_info.output_rank = static_cast<uint8_t>(TM_MODEL_OUTPUT_RANK);
  for (int i = 0; i < TM_RT_MAX_DIMS; ++i) {
    g_info.input_dims[i] = i < TM_MODEL_INPUT_RANK ? in_dims[i] : 0;
    g_info.output_dims[i] = i < TM_MODEL_OUTPUT_RANK ? out_dims[i] : 0;
  }
  g_info.input_scale = TM_MODEL_INPUT_SCALE;
  g_info.input_zero_point = TM_MODEL_INPUT_ZERO_POINT;
  g_info.output_scale = TM_MODEL_OUTPUT_SCALE;
  g_info.output_zero_point = TM_MODEL_OUTPUT_ZERO_POINT;
  g_info.arena_bytes = static_cast<uint32_t>(kArenaBytes);
  g_info.arena_used_bytes = 0;
  g_info.op_count = TM_MODEL_OP_COUNT;
  g_info.macs = TM_MODEL_MACS;
  g_info.label_count = TM_MODEL_LABEL_COUNT;
  g_info.labels = TM_MODEL_LABEL_COUNT ? TM_MODEL_LABELS : nullptr;
}

/* The tensor must be the int8 buffer the generated metadata promised. */
bool tensor_matches(const TfLiteTensor* t, uint32_t bytes) {
  return t != nullptr && t->type == kTfLiteInt8 && t->data.int8 != nullptr &&
         t->bytes == static_cast<size_t>(bytes);
}

}  // namespace

extern "C" int tm_rt_init(void) {
  if (g_init_status == 0) {
    return 0;
  }
  fill_static_info();

  const tflite::Model* model = tflite::GetModel(tm_model_tflite);
  if (model == nullptr || model->version() != TFLITE_SCHEMA_VERSION) {
    return g_init_status = 1; /* flatbuffer schema version differs from the library's */
  }

  tm_tflm_resolver_t* resolver = new (g_resolver_buf) tm_tflm_resolver_t();
  if (tm_tflm_register_ops(*resolver) != kTfLiteOk) {
    return g_init_status = 2; /* the library lacks one of the model's ops */
  }

  tflite::MicroProfilerInterface* profiler = nullptr;
#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE
  g_profiler = new (g_profiler_buf) TmProfiler();
  profiler = g_profiler;
#endif
  g_interp = new (g_interp_buf)
      tflite::MicroInterpreter(model, *resolver, g_arena, kArenaBytes,
                               /*resource_variables=*/nullptr, profiler);
  if (g_interp->AllocateTensors() != kTfLiteOk) {
    return g_init_status = 3; /* arena too small or a kernel's Prepare failed */
  }
  if (!tensor_matches(g_interp->input(0), TM_MODEL_INPUT_BYTES) ||
      !tensor_matches(g_interp->output(0), TM_MODEL_OUTPUT_BYTES)) {
    return g_init_status = 4; /* generated metadata does not match the model */
  }
  g_info.arena_used_bytes = static_cast<uint32_t>(g_interp->arena_used_bytes());
  return g_init_status = 0;
}

extern "C" int tm_rt_invoke(const int8_t* input, int8_t* output) {
  if (input == nullptr || output == nullptr) {
    return 1;
  }
  if (g_init_status != 0 && tm_rt_init() != 0) {
    return 2;
  }
  /* Variable tensors (LSTM state) back to their reset values: every inference is one
   * whole sequence, as in Keras and in the host references (and the AOT runtime). */
  if (g_interp->Reset() != kTfLiteOk) {
    return 3;
  }
  TfLiteTensor* in = g_interp->input(0);
  memcpy(in->data.int8, input, TM_MODEL_INPUT_BYTES);
#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE
  g_profiler->Reset();
#endif
  if (g_interp->Invoke() != kTfLiteOk) {
    return 3;
  }
  const TfLiteTensor* out = g_interp->output(0);
  memcpy(output, out->data.int8, TM_MODEL_OUTPUT_BYTES);
  return 0;
}

extern "C" const tm_rt_info_t* tm_rt_info(void) {
  if (g_info.runtime == nullptr) {
    (void)tm_rt_init();
  }
  return &g_info;
}

extern "C" uint32_t tm_rt_profile(const char* const** ops, const uint32_t** ticks) {
#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE
  if (g_profiler != nullptr) {
    if (ops != nullptr) *ops = g_profiler->tags();
    if (ticks != nullptr) *ticks = g_profiler->ticks();
    return g_profiler->count();
  }
#endif
  if (ops != nullptr) *ops = nullptr;
  if (ticks != nullptr) *ticks = nullptr;
  return 0;
}

#endif /* TM_RUNTIME_TFLM */
