/* The ref engine's model: a table of operators written by `tinyperf build --engine ref`
 * (host/tinyperf/build/ref_plan.py) into the generated model_plan.c. Everything TFLM computes in
 * Prepare (multipliers, shifts, padding, activation ranges) is already in the table. */
#ifndef TP_REF_PLAN_H
#define TP_REF_PLAN_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  TP_REF_CONV_2D,
  TP_REF_DEPTHWISE_CONV_2D,
  TP_REF_FULLY_CONNECTED,
  TP_REF_AVERAGE_POOL_2D,
  TP_REF_RESHAPE,
  TP_REF_SOFTMAX,
  TP_REF_ADD,
} tp_ref_kind;

typedef struct {
  const char *name; /* the TFLite builtin name, as profile lines print it */
  tp_ref_kind kind;
  int32_t input, input2, output; /* byte offsets into tp_ref_arena (input2: ADD only, else -1) */
  const int8_t *filter;
  const int32_t *bias;
  const int32_t *multiplier, *shift; /* per output channel when per_channel, else one */
  int32_t per_channel;
  int32_t in_h, in_w, in_c, out_h, out_w, out_c;
  int32_t filter_h, filter_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, depth_multiplier;
  int32_t input_offset, input2_offset, filter_offset, output_offset, act_min, act_max;
  /* ADD: each input's rescale and the common left shift; SOFTMAX: input_multiplier/input_shift, diff_min */
  int32_t input_multiplier, input_shift, input2_multiplier, input2_shift, left_shift, diff_min;
  int32_t elements; /* RESHAPE, ADD: element count; FULLY_CONNECTED: batches; SOFTMAX: rows */
} tp_ref_op;

extern const tp_ref_op tp_ref_ops[];
extern const int tp_ref_op_count;
extern int8_t tp_ref_arena[];
extern const int32_t tp_ref_arena_bytes;
extern const int32_t tp_ref_input_offset, tp_ref_output_offset;
extern const int32_t tp_ref_input_elements, tp_ref_output_elements;
extern const float tp_ref_input_scale, tp_ref_output_scale;
extern const int32_t tp_ref_input_zero_point, tp_ref_output_zero_point;

#endif
