/* The model runner on our own int8 kernels (ref_kernels.c) and a plan generated from the .tflite.
 *
 * For boards built without a TFLM tree: the emulated and posix boards then run the real model, answer
 * with its real scores, and time every operator with the device's own timer (tp-profile). Each
 * operator is bracketed by tp_port_ticks(); two reads of a counter per operator are the whole cost.
 */
#include "bin_format.h"
#include "model_runner.h"
#include "port.h"
#include "ref_kernels.h"
#include "tp_config.h"

#if TP_BIN_FORMAT != TP_BIN_INT8 && TP_BIN_FORMAT != TP_BIN_UINT8_MINUS_128 && TP_BIN_FORMAT != TP_BIN_FLOAT32_QUANTIZE
#error "the ref engine runs int8 models: the benchmark's bin format must be int8, uint8_minus_128 or float32_quantize"
#endif

#define MAX_OPS 64

static uint32_t op_ticks[MAX_OPS];
static const char *error = "not initialised";
static int ready;

static float output_value(int32_t i) {
  return (float)(tp_ref_arena[tp_ref_output_offset + i] - tp_ref_output_zero_point) * tp_ref_output_scale;
}

int tp_model_init(void) {
  if (tp_ref_op_count > MAX_OPS) {
    error = "the model has more operators than the ref engine's MAX_OPS";
    return -1;
  }
  ready = 1;
  return 0;
}

size_t tp_model_result_count(void) { return TP_RESULT_COUNT; }

const char *tp_model_error(void) { return error; }

int tp_model_infer(const uint8_t *input, size_t length, float *results, size_t capacity) {
  const size_t element_bytes = TP_BIN_FLOAT_INPUT ? 4u : 1u;
  if (!ready || length < (size_t)tp_ref_input_elements * element_bytes || capacity < TP_RESULT_COUNT) {
    error = ready ? "input or result buffer too small" : "model not initialised";
    return -1;
  }
  /* every time: the arena's input region is reused by later operators */
  for (int32_t i = 0; i < tp_ref_input_elements; i++) {
    tp_ref_arena[tp_ref_input_offset + i] = tp_input_int8(input, (size_t)i, tp_ref_input_scale, tp_ref_input_zero_point);
  }
  for (int i = 0; i < tp_ref_op_count; i++) {
    uint32_t start = tp_port_ticks();
    tp_ref_run(&tp_ref_ops[i], tp_ref_arena);
    op_ticks[i] = tp_port_ticks() - start;
  }
#if TP_AUTOENCODER
  float sum = 0.0f; /* reconstruction error: mean squared difference of input and output */
  for (int32_t i = 0; i < tp_ref_output_elements; i++) {
    float diff = tp_wire_value(input, (size_t)i) - output_value(i);
    sum += diff * diff;
  }
  results[0] = sum / (float)tp_ref_output_elements;
#else
  for (size_t i = 0; i < TP_RESULT_COUNT; i++) {
    results[i] = output_value((int32_t)i);
  }
#endif
  return 0;
}

int tp_model_op_count(void) { return tp_ref_op_count; }

const char *tp_model_op_name(int index) { return tp_ref_ops[index].name; }

uint32_t tp_model_op_ticks(int index) { return op_ticks[index]; }

const char *tp_model_engine(void) { return "ref"; }

size_t tp_model_arena_bytes(void) { return 0; }

size_t tp_model_arena_used(void) { return 0; }
