/* The model runner layer: turns a loaded input buffer into the result vector the protocol prints.
 * Three implementations: tflm_runner.cc (TensorFlow Lite Micro), ref_engine.c (our int8 kernels on a
 * plan generated from the .tflite) and test_engine.c (no model at all). */
#ifndef TP_MODEL_RUNNER_H
#define TP_MODEL_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Prepares the model; returns 0, or -1 with the reason in tp_model_error(). */
int tp_model_init(void);

/* How many values tp_model_infer writes (class scores, or 1 for the AD reconstruction error). */
size_t tp_model_result_count(void);

/* Copies `input` into the model's input tensor, converting as the benchmark's .bin format needs,
 * runs one inference and writes the results. The copy happens on EVERY call: TFLM may reuse the
 * input tensor's memory for later layers, so an input copied once is garbage by the second run.
 * Returns 0, or -1 with the reason in tp_model_error(). */
int tp_model_infer(const uint8_t *input, size_t length, float *results, size_t capacity);

const char *tp_model_error(void);

/* Which engine answers, for tp-caps: "tflm/cmsis-nn", "tflm/reference", "ref", "test". */
const char *tp_model_engine(void);

/* The tensor arena: its size and what the engine used of it after init (0 and 0 without an arena). */
size_t tp_model_arena_bytes(void);
size_t tp_model_arena_used(void);

/* Per-operator timing (tp-profile). An engine without operators (the test engine) has 0 of them. The
 * ticks are tp_port_ticks() around each operator of the last tp_model_infer. */
int tp_model_op_count(void);
const char *tp_model_op_name(int index);
uint32_t tp_model_op_ticks(int index);

#ifdef __cplusplus
}
#endif

#endif
