#include "format.h"

#include <math.h>

#include "port.h"

static tp_sink sink = tp_port_write;

void tp_set_sink(tp_sink to) { sink = to != NULL ? to : tp_port_write; }

void tp_write(const char *text, size_t length) { sink(text, length); }

void tp_print(const char *text) {
  size_t length = 0;
  while (text[length] != '\0') {
    length++;
  }
  tp_write(text, length);
}

static void print_u64(uint64_t value) {
  char digits[21];
  size_t at = sizeof digits;
  do {
    digits[--at] = (char)('0' + value % 10u);
    value /= 10u;
  } while (value != 0u);
  tp_write(digits + at, sizeof digits - at);
}

void tp_print_uint(uint32_t value) { print_u64(value); }

void tp_print_int(int32_t value) {
  if (value < 0) {
    tp_print("-");
    print_u64((uint64_t)(-(int64_t)value));
  } else {
    print_u64((uint64_t)value);
  }
}

void tp_print_hex_byte(uint8_t value) {
  static const char hex[] = "0123456789abcdef";
  char pair[2] = {hex[value >> 4], hex[value & 0x0f]};
  tp_write(pair, 2);
}

/* Floats of 2^64 and more are integers m * 2^e (m < 2^24, e <= 104): build the decimal digits in
 * base-1e9 limbs by doubling, as exact as printf's. */
static void print_big_integer(float value) {
  int exponent = 0;
  float mantissa = frexpf(value, &exponent); /* value = mantissa * 2^exponent, 0.5 <= mantissa < 1 */
  uint32_t limbs[5] = {(uint32_t)ldexpf(mantissa, 24), 0, 0, 0, 0};
  for (int shift = exponent - 24; shift > 0; shift--) {
    uint32_t carry = 0;
    for (size_t i = 0; i < 5; i++) {
      uint32_t doubled = limbs[i] * 2u + carry;
      carry = doubled >= 1000000000u ? 1u : 0u;
      limbs[i] = doubled - carry * 1000000000u;
    }
  }
  size_t top = 4;
  while (top > 0 && limbs[top] == 0u) {
    top--;
  }
  print_u64(limbs[top]);
  for (size_t i = top; i-- > 0;) {
    char digits[9];
    for (size_t d = 9; d-- > 0;) {
      digits[d] = (char)('0' + limbs[i] % 10u);
      limbs[i] /= 10u;
    }
    tp_write(digits, 9);
  }
}

/* A float32 times 1000 is exact in a double (24 + 10 bits < 53), so rounding that product to an
 * integer, ties to even, is exactly what a correct "%0.3f" does. */
void tp_print_float3(float value) {
  if (isnan(value)) {
    tp_print(signbit(value) ? "-nan" : "nan");
    return;
  }
  if (signbit(value)) {
    tp_print("-");
  }
  if (isinf(value)) {
    tp_print("inf");
    return;
  }
  double thousandths = fabs((double)value) * 1000.0;
  if (thousandths >= 1.8e19) { /* an integer too wide for 64 bits: no fraction to round */
    print_big_integer(fabsf(value));
    tp_write(".000", 4);
    return;
  }
  double whole = floor(thousandths);
  uint64_t rounded = (uint64_t)whole;
  double rest = thousandths - whole;
  if (rest > 0.5 || (rest == 0.5 && (rounded & 1u) != 0u)) {
    rounded++;
  }
  print_u64(rounded / 1000u);
  char fraction[4] = {'.', (char)('0' + rounded / 100u % 10u), (char)('0' + rounded / 10u % 10u),
                      (char)('0' + rounded % 10u)};
  tp_write(fraction, 4);
}
