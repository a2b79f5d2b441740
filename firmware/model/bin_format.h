/* The benchmark's .bin format (TP_BIN_FORMAT, as in models_tflm/manifest.yaml) and the conversions both
 * model runners make with it: one copy, so the TFLM and ref engines read a loaded input alike. */
#ifndef TP_BIN_FORMAT_H
#define TP_BIN_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tp_config.h"

#define TP_BIN_INT8 0
#define TP_BIN_UINT8_MINUS_128 1
#define TP_BIN_FLOAT32_QUANTIZE 2
#define TP_BIN_FLOAT32 3
#define TP_BIN_UINT8_TO_FLOAT32 4

#define TP_BIN_FLOAT_INPUT (TP_BIN_FORMAT == TP_BIN_FLOAT32_QUANTIZE || TP_BIN_FORMAT == TP_BIN_FLOAT32)

static inline float tp_read_float(const uint8_t *bytes) {
  float value;
  memcpy(&value, bytes, sizeof value); /* little-endian on every Cortex-M and x86 host */
  return value;
}

/* Round half away from zero, then clamp: numpy's round is half-to-even, which differs only on exact
 * .5 ties of value / scale. */
static inline int8_t tp_quantize(float value, float scale, int32_t zero_point) {
  float scaled = value / scale;
  long q = (long)(scaled < 0 ? scaled - 0.5f : scaled + 0.5f) + zero_point;
  return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

/* Element i of a loaded input as an int8 tensor value (int8, uint8_minus_128, float32_quantize). */
static inline int8_t tp_input_int8(const uint8_t *input, size_t i, float scale, int32_t zero_point) {
  if (TP_BIN_FORMAT == TP_BIN_FLOAT32_QUANTIZE) {
    return tp_quantize(tp_read_float(input + 4 * i), scale, zero_point);
  }
  return TP_BIN_FORMAT == TP_BIN_UINT8_MINUS_128 ? (int8_t)((int)input[i] - 128) : (int8_t)input[i];
}

/* The value the dataset meant for input element i (what an autoencoder's output is compared with). */
static inline float tp_wire_value(const uint8_t *input, size_t i) {
#if TP_BIN_FLOAT_INPUT
  return tp_read_float(input + 4 * i);
#elif TP_BIN_FORMAT == TP_BIN_INT8
  return (float)(int8_t)input[i];
#else
  return (float)input[i];
#endif
}

#endif
