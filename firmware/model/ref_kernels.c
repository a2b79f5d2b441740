/* int8 kernels computing what TFLM's reference integer kernels compute, in portable C.
 *
 * Written from the arithmetic TFLM documents (gemmlowp fixed point, double-rounding requantisation);
 * no TFLM code is linked. A host test runs each MLPerf Tiny model through these kernels (posix build)
 * and through TFLM's own interpreter and requires identical outputs. The loops are the plain
 * reference ones, not CMSIS-NN: cycles measured here are a reference kernel's, not an optimised one's.
 */
#include "ref_kernels.h"

#include <limits.h>
#include <string.h>

/* ---- fixed-point helpers (gemmlowp semantics) ---- */

static int32_t high_mul(int32_t a, int32_t b) { /* SaturatingRoundingDoublingHighMul */
  if (a == b && a == INT32_MIN) {
    return INT32_MAX;
  }
  int64_t product = (int64_t)a * (int64_t)b;
  int64_t nudge = product >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((product + nudge) / ((int64_t)1 << 31)); /* C division truncates, as gemmlowp's */
}

static int32_t divide_by_pot(int32_t x, int exponent) { /* RoundingDivideByPOT: round half away from 0 */
  int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  int32_t remainder = x & mask;
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static int32_t shift_left_saturating(int32_t x, int exponent) {
  int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
  if (x > threshold) {
    return INT32_MAX;
  }
  if (x < -threshold) {
    return INT32_MIN;
  }
  return (int32_t)((uint32_t)x << exponent);
}

static int32_t wrap_shift_left(int32_t x, int exponent) { return (int32_t)((uint32_t)x << exponent); }

/* TFLM's MultiplyByQuantizedMultiplier: acc * multiplier * 2^(shift - 31), double rounding. With shift <= 0
 * it is MultiplyByQuantizedMultiplierSmallerThanOneExp, with shift > 0 ...GreaterThanOne: one function. */
static int32_t requantize(int32_t acc, int32_t multiplier, int32_t shift) {
  int left = shift > 0 ? shift : 0;
  int right = shift > 0 ? 0 : -shift;
  return divide_by_pot(high_mul(wrap_shift_left(acc, left), multiplier), right);
}

static int8_t clamp(int32_t value, const tp_ref_op *op) {
  value = value < op->act_min ? op->act_min : value;
  return (int8_t)(value > op->act_max ? op->act_max : value);
}

/* A channel's accumulator to its int8 output: bias, requantisation, output offset, activation clamp. */
static int8_t finish_channel(const tp_ref_op *op, int32_t acc, int channel) {
  if (op->bias) {
    acc += op->bias[channel];
  }
  const int ch = op->per_channel ? channel : 0;
  return clamp(requantize(acc, op->multiplier[ch], op->shift[ch]) + op->output_offset, op);
}

/* The filter taps [*start, *end) that land inside the input for a window at `origin` (may be negative:
 * padding). Taps outside contribute nothing, as TFLM's kernels skip them. */
static void taps_inside(int origin, int filter, int dilation, int size, int *start, int *end) {
  *start = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
  int past = size - origin > 0 ? (size - origin + dilation - 1) / dilation : 0;
  *end = past < filter ? past : filter;
}

/* Where output position (oy, ox) reads: the window's origin and the taps inside the input. */
typedef struct {
  int y0, x0, fy_start, fy_end, fx_start, fx_end;
} window;

static window window_at(const tp_ref_op *op, int oy, int ox, int dilation_h, int dilation_w) {
  window w;
  w.y0 = oy * op->stride_h - op->pad_h;
  w.x0 = ox * op->stride_w - op->pad_w;
  taps_inside(w.y0, op->filter_h, dilation_h, op->in_h, &w.fy_start, &w.fy_end);
  taps_inside(w.x0, op->filter_w, dilation_w, op->in_w, &w.fx_start, &w.fx_end);
  return w;
}

/* ---- convolutions ---- */

static void conv_2d(const tp_ref_op *op, const int8_t *input, int8_t *output) {
  for (int oy = 0; oy < op->out_h; oy++) {
    for (int ox = 0; ox < op->out_w; ox++) {
      const window win = window_at(op, oy, ox, op->dilation_h, op->dilation_w);
      for (int oc = 0; oc < op->out_c; oc++) {
        const int8_t *filter = op->filter + (size_t)oc * op->filter_h * op->filter_w * op->in_c;
        int32_t acc = 0;
        for (int fy = win.fy_start; fy < win.fy_end; fy++) {
          const int y = win.y0 + fy * op->dilation_h;
          for (int fx = win.fx_start; fx < win.fx_end; fx++) {
            const int x = win.x0 + fx * op->dilation_w;
            const int8_t *in = input + ((size_t)y * op->in_w + x) * op->in_c;
            const int8_t *w = filter + ((size_t)fy * op->filter_w + fx) * op->in_c;
            for (int ic = 0; ic < op->in_c; ic++) {
              acc += (int32_t)w[ic] * ((int32_t)in[ic] + op->input_offset);
            }
          }
        }
        output[((size_t)oy * op->out_w + ox) * op->out_c + oc] = finish_channel(op, acc, oc);
      }
    }
  }
}

static void depthwise_conv_2d(const tp_ref_op *op, const int8_t *input, int8_t *output) {
  for (int oy = 0; oy < op->out_h; oy++) {
    for (int ox = 0; ox < op->out_w; ox++) {
      const window win = window_at(op, oy, ox, op->dilation_h, op->dilation_w);
      for (int ic = 0; ic < op->in_c; ic++) {
        for (int m = 0; m < op->depth_multiplier; m++) {
          const int oc = ic * op->depth_multiplier + m;
          int32_t acc = 0;
          for (int fy = win.fy_start; fy < win.fy_end; fy++) {
            const int y = win.y0 + fy * op->dilation_h;
            for (int fx = win.fx_start; fx < win.fx_end; fx++) {
              const int x = win.x0 + fx * op->dilation_w;
              int32_t in = input[((size_t)y * op->in_w + x) * op->in_c + ic];
              int32_t w = op->filter[((size_t)fy * op->filter_w + fx) * op->out_c + oc];
              acc += w * (in + op->input_offset);
            }
          }
          output[((size_t)oy * op->out_w + ox) * op->out_c + oc] = finish_channel(op, acc, oc);
        }
      }
    }
  }
}

static void fully_connected(const tp_ref_op *op, const int8_t *input, int8_t *output) {
  for (int b = 0; b < op->elements; b++) {
    const int8_t *in = input + (size_t)b * op->in_c;
    for (int oc = 0; oc < op->out_c; oc++) {
      const int8_t *w = op->filter + (size_t)oc * op->in_c;
      int32_t acc = 0;
      for (int d = 0; d < op->in_c; d++) {
        acc += ((int32_t)w[d] + op->filter_offset) * ((int32_t)in[d] + op->input_offset);
      }
      output[(size_t)b * op->out_c + oc] = finish_channel(op, acc, oc);
    }
  }
}

/* ---- pooling, reshape, add ---- */

static void average_pool_2d(const tp_ref_op *op, const int8_t *input, int8_t *output) {
  for (int oy = 0; oy < op->out_h; oy++) {
    for (int ox = 0; ox < op->out_w; ox++) {
      const window win = window_at(op, oy, ox, 1, 1);
      for (int c = 0; c < op->in_c; c++) {
        int32_t acc = 0;
        int32_t count = 0;
        for (int fy = win.fy_start; fy < win.fy_end; fy++) {
          for (int fx = win.fx_start; fx < win.fx_end; fx++) {
            acc += input[((size_t)(win.y0 + fy) * op->in_w + (win.x0 + fx)) * op->in_c + c];
            count++;
          }
        }
        if (count > 0) { /* integer average, rounded half away from zero */
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        }
        output[((size_t)oy * op->out_w + ox) * op->in_c + c] = clamp(acc, op);
      }
    }
  }
}

static void add(const tp_ref_op *op, const int8_t *a, const int8_t *b, int8_t *output) {
  for (int i = 0; i < op->elements; i++) {
    int32_t x = wrap_shift_left((int32_t)a[i] + op->input_offset, op->left_shift);
    int32_t y = wrap_shift_left((int32_t)b[i] + op->input2_offset, op->left_shift);
    int32_t sum = requantize(x, op->input_multiplier, op->input_shift) +
                  requantize(y, op->input2_multiplier, op->input2_shift);
    int32_t out = requantize(sum, op->multiplier[0], op->shift[0]) + op->output_offset;
    output[i] = clamp(out, op);
  }
}

/* ---- softmax: gemmlowp's fixed-point exp and reciprocal ---- */

#define SOFTMAX_DIFF_INTEGER_BITS 5
#define SOFTMAX_ACCUMULATION_INTEGER_BITS 12

/* exp(a) for a in [-1/4, 0), both Q0.31: Taylor series around -1/8. */
static int32_t exp_quarter_interval(int32_t a) {
  const int32_t exp_minus_one_eighth = 1895147668;
  const int32_t one_third = 715827883;
  int32_t x = a + (1 << 28);
  int32_t x2 = high_mul(x, x);
  int32_t x3 = high_mul(x2, x);
  int32_t x4 = high_mul(x2, x2);
  int32_t x4_over_4 = divide_by_pot(x4, 2);
  int32_t poly = divide_by_pot(high_mul(x4_over_4 + x3, one_third) + x2, 1);
  return exp_minus_one_eighth + high_mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 given in Q5.26, as Q0.31: the quarter-interval part times exp(-2^k) per set bit. */
static int32_t exp_negative(int32_t a) {
  enum { fractional_bits = 31 - SOFTMAX_DIFF_INTEGER_BITS };
  static const int32_t exp_of_minus_pot[7] = {1672461947, 1302514674, 790015084, 290630308,
                                              39332535,   720401,     242}; /* exp(-2^k), k = -2..4 */
  const int32_t one_quarter = 1 << (fractional_bits - 2);
  const int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
  int32_t result = exp_quarter_interval(shift_left_saturating(a_mod_quarter_minus_quarter, SOFTMAX_DIFF_INTEGER_BITS));
  const int32_t remainder = a_mod_quarter_minus_quarter - a;
  for (int k = -2; k <= 4; k++) {
    if (remainder & (1 << (fractional_bits + k))) {
      result = high_mul(result, exp_of_minus_pot[k + 2]);
    }
  }
  return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1) Q0.31, by three Newton-Raphson steps in Q2.29. */
static int32_t one_over_one_plus(int32_t a) {
  const int32_t one_q2 = 1 << 29;
  int64_t sum = (int64_t)a + INT32_MAX;
  int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  int32_t x = 1515870810 + high_mul(half_denominator, -1010580540); /* 48/17 - 32/17 * d */
  for (int i = 0; i < 3; i++) {
    int32_t one_minus_dx = one_q2 - high_mul(half_denominator, x);
    x = x + shift_left_saturating(high_mul(x, one_minus_dx), 2);
  }
  return shift_left_saturating(x, 1);
}

static int count_leading_zeros(uint32_t x) {
  int n = 0;
  while (n < 32 && !(x & 0x80000000u)) {
    x <<= 1;
    n++;
  }
  return n;
}

static int32_t softmax_exp(const tp_ref_op *op, int32_t diff) {
  return exp_negative(requantize(diff, op->input_multiplier, op->input_shift)); /* shift > 0 */
}

static void softmax(const tp_ref_op *op, const int8_t *input, int8_t *output) {
  const int depth = op->out_c;
  for (int row = 0; row < op->elements; row++) {
    const int8_t *in = input + (size_t)row * depth;
    int8_t *out = output + (size_t)row * depth;
    int32_t max = INT8_MIN;
    for (int c = 0; c < depth; c++) {
      max = in[c] > max ? in[c] : max;
    }
    int32_t sum = 0; /* Q12.19 */
    for (int c = 0; c < depth; c++) {
      if (in[c] - max >= op->diff_min) {
        sum += divide_by_pot(softmax_exp(op, in[c] - max), SOFTMAX_ACCUMULATION_INTEGER_BITS);
      }
    }
    const int headroom_plus_one = count_leading_zeros((uint32_t)sum);
    const int bits_over_unit = SOFTMAX_ACCUMULATION_INTEGER_BITS - headroom_plus_one;
    const int32_t scale = one_over_one_plus((int32_t)(((uint32_t)sum << headroom_plus_one) - (1u << 31)));
    const int exponent = bits_over_unit + 31 - 8;
    for (int c = 0; c < depth; c++) {
      int32_t value = INT8_MIN;
      if (in[c] - max >= op->diff_min) {
        value = divide_by_pot(high_mul(scale, softmax_exp(op, in[c] - max)), exponent) + INT8_MIN;
        value = value > INT8_MAX ? INT8_MAX : value < INT8_MIN ? INT8_MIN : value;
      }
      out[c] = (int8_t)value;
    }
  }
}

void tp_ref_run(const tp_ref_op *op, int8_t *arena) {
  const int8_t *input = arena + op->input;
  int8_t *output = arena + op->output;
  switch (op->kind) {
    case TP_REF_CONV_2D:
      conv_2d(op, input, output);
      break;
    case TP_REF_DEPTHWISE_CONV_2D:
      depthwise_conv_2d(op, input, output);
      break;
    case TP_REF_FULLY_CONNECTED:
      fully_connected(op, input, output);
      break;
    case TP_REF_AVERAGE_POOL_2D:
      average_pool_2d(op, input, output);
      break;
    case TP_REF_RESHAPE:
      memmove(output, input, (size_t)op->elements);
      break;
    case TP_REF_SOFTMAX:
      softmax(op, input, output);
      break;
    case TP_REF_ADD:
      add(op, input, arena + op->input2, output);
      break;
  }
}
