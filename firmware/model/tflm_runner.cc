// The model runner on TensorFlow Lite Micro: MicroInterpreter, a MicroMutableOpResolver holding
// just the model's ops (model_ops.inc, generated from the .tflite), an arena sized from the model.
#include <string.h>

#include "bin_format.h"
#include "model_runner.h"
#include "port.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/system_setup.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tp_config.h"

#define TP_STRINGIFY_(x) #x
#define TP_STRINGIFY(x) TP_STRINGIFY_(x)
#ifndef TP_ENGINE_KERNELS
#define TP_ENGINE_KERNELS "reference"
#endif

extern const unsigned char tp_model_data[];

namespace {

// TFLM's profiling hook: the interpreter opens an event named after each operator (e.g. "CONV_2D")
// around its Invoke; each is timed here with the device's own tick counter, for tp-profile.
class TickProfiler : public tflite::MicroProfilerInterface {
 public:
  static constexpr uint32_t kMaxEvents = 64;

  uint32_t BeginEvent(const char *tag) override {
    if (count_ >= kMaxEvents) {
      return kMaxEvents;  // past the table: not recorded
    }
    tags_[count_] = tag;
    starts_[count_] = tp_port_ticks();
    return count_++;
  }

  void EndEvent(uint32_t handle) override {
    if (handle < kMaxEvents) {
      ticks_[handle] = tp_port_ticks() - starts_[handle];
    }
  }

  void Reset() { count_ = 0; }
  int count() const { return static_cast<int>(count_); }
  const char *tag(int i) const { return tags_[i]; }
  uint32_t ticks(int i) const { return ticks_[i]; }

 private:
  uint32_t count_ = 0;
  const char *tags_[kMaxEvents] = {};
  uint32_t starts_[kMaxEvents] = {};
  uint32_t ticks_[kMaxEvents] = {};
};

alignas(16) uint8_t arena[TP_ARENA_BYTES];
TickProfiler profiler;
tflite::MicroMutableOpResolver<TP_OP_COUNT> resolver;
tflite::MicroInterpreter *interpreter = nullptr;
const char *error = "not initialised";

// The device's conversion of a loaded .bin into the input tensor (as benchmarks/device_math.py).
void copy_input(const uint8_t *input, TfLiteTensor *tensor) {
  const size_t elements = TP_INPUT_BYTES / (TP_BIN_FLOAT_INPUT ? 4 : 1);
  for (size_t i = 0; i < elements; i++) {
    if (TP_BIN_FORMAT == TP_BIN_FLOAT32 || TP_BIN_FORMAT == TP_BIN_UINT8_TO_FLOAT32) {  // a float model
      tensor->data.f[i] = TP_BIN_FORMAT == TP_BIN_FLOAT32 ? tp_read_float(input + 4 * i) : (float)input[i];
    } else {
      tensor->data.int8[i] = tp_input_int8(input, i, tensor->params.scale, tensor->params.zero_point);
    }
  }
}

float output_value(const TfLiteTensor *tensor, size_t i) {
  if (tensor->type == kTfLiteFloat32) {
    return tensor->data.f[i];
  }
  return (float)(tensor->data.int8[i] - tensor->params.zero_point) * tensor->params.scale;
}

}  // namespace

extern "C" int tp_model_init(void) {
  tflite::InitializeTarget();
  const tflite::Model *model = tflite::GetModel(tp_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    error = "model schema version differs from this TFLM";
    return -1;
  }
#define TP_OP(add) resolver.add();
#include "model_ops.inc"
#undef TP_OP
  static tflite::MicroInterpreter instance(model, resolver, arena, sizeof arena, nullptr, &profiler);
  if (instance.AllocateTensors() != kTfLiteOk) {
    // the arena is TFLM's own figure for this model (the host interpreter's) plus a margin
    error = "AllocateTensors failed: the " TP_STRINGIFY(TP_ARENA_BYTES) "-byte arena is too small or an op is missing";
    return -1;
  }
  interpreter = &instance;
  return 0;
}

extern "C" size_t tp_model_result_count(void) { return TP_RESULT_COUNT; }

extern "C" const char *tp_model_engine(void) { return "tflm/" TP_ENGINE_KERNELS; }

extern "C" size_t tp_model_arena_bytes(void) { return sizeof arena; }

extern "C" size_t tp_model_arena_used(void) { return interpreter == nullptr ? 0 : interpreter->arena_used_bytes(); }

extern "C" const char *tp_model_error(void) { return error; }

extern "C" int tp_model_infer(const uint8_t *input, size_t length, float *results, size_t capacity) {
  if (interpreter == nullptr || length < TP_INPUT_BYTES || capacity < TP_RESULT_COUNT) {
    error = interpreter == nullptr ? "model not initialised" : "input or result buffer too small";
    return -1;
  }
  copy_input(input, interpreter->input(0));  // every time: TFLM may have reused the input's memory
  profiler.Reset();                          // this inference's operators only
  if (interpreter->Invoke() != kTfLiteOk) {
    error = "Invoke failed";
    return -1;
  }
  const TfLiteTensor *output = interpreter->output(0);
#if TP_AUTOENCODER
  float sum = 0.0f;  // reconstruction error: mean squared difference of input and output
  const size_t elements = TP_OUTPUT_ELEMENTS;
  for (size_t i = 0; i < elements; i++) {
    float diff = tp_wire_value(input, i) - output_value(output, i);
    sum += diff * diff;
  }
  results[0] = sum / (float)elements;
#else
  for (size_t i = 0; i < TP_RESULT_COUNT; i++) {
    results[i] = output_value(output, i);
  }
#endif
  return 0;
}

// Operators as the profiler saw them in the last Invoke (none before the first inference).
extern "C" int tp_model_op_count(void) { return profiler.count(); }

extern "C" const char *tp_model_op_name(int index) { return profiler.tag(index); }

extern "C" uint32_t tp_model_op_ticks(int index) { return profiler.ticks(index); }
