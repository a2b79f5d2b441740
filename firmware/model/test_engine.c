/* A stand-in model for builds without TensorFlow Lite Micro (no TFLM source on the machine).
 *
 * It keeps the runner's contract: copy the input into a "tensor" before every inference, then
 * derive the results from a CRC-32 of that tensor, so any corrupted byte changes the answer.
 * Values are k/256 (exact in binary), which a host test recomputes with zlib.crc32. It measures
 * the harness, protocol and port, never a model: builds say "test-engine" wherever they report.
 */
#include <string.h>

#include "model_runner.h"
#include "tp_config.h"

static uint8_t input_tensor[TP_INPUT_BYTES];
static uint32_t crc_table[256];

int tp_model_init(void) {
  for (uint32_t n = 0; n < 256u; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) {
      c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    crc_table[n] = c;
  }
  return 0;
}

size_t tp_model_result_count(void) { return TP_RESULT_COUNT; }

const char *tp_model_error(void) { return "test engine cannot fail"; }

static uint32_t crc32(const uint8_t *data, size_t length) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < length; i++) {
    crc = crc_table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

int tp_model_infer(const uint8_t *input, size_t length, float *results, size_t capacity) {
  size_t copied = length < sizeof input_tensor ? length : sizeof input_tensor;
  memcpy(input_tensor, input, copied);
  memset(input_tensor + copied, 0, sizeof input_tensor - copied);
  uint32_t crc = crc32(input_tensor, sizeof input_tensor);
  for (size_t i = 0; i < TP_RESULT_COUNT && i < capacity; i++) {
    results[i] = (float)((crc >> (i % 25u)) & 0xFFu) / 256.0f;
  }
  return 0;
}

int tp_model_op_count(void) { return 0; }

const char *tp_model_op_name(int index) {
  (void)index;
  return "";
}

uint32_t tp_model_op_ticks(int index) {
  (void)index;
  return 0u;
}

const char *tp_model_engine(void) { return "test"; }

size_t tp_model_arena_bytes(void) { return 0; }

size_t tp_model_arena_used(void) { return 0; }
