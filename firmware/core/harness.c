/* The legacy protocol's command set: name, profile, help, timestamp, db, infer, results. */
#include "harness.h"

#include <string.h>

#include "format.h"
#include "model_runner.h"
#include "port.h"
#include "tp_config.h"

#define FIRMWARE_ID "ULPMark for tinyML Firmware V0.0.1"
#define BYTES_PER_PRINT_LINE 8u

static char command[TP_COMMAND_CHARS + 1];
static size_t command_length;

static uint8_t input_buffer[TP_MAX_INPUT_BYTES];
static size_t expected_bytes; /* set by `db load N`; 0 once the load is done */
static size_t loaded_bytes;

static float results[TP_RESULT_COUNT];
static size_t result_count;

__attribute__((weak)) int tp_extension_command(const char *word, char *rest) {
  (void)word;
  (void)rest;
  return 0;
}

__attribute__((weak)) int tp_extension_feed(uint8_t byte) {
  (void)byte;
  return 0;
}

__attribute__((weak)) int tp_extension_read(void) { return tp_port_read_char(); }

static void print_line(const char *text) {
  tp_print(text);
  tp_print("\r\n");
}

void tp_harness_timestamp(void) {
#if TP_ENERGY_MODE
  tp_port_timestamp_pulse();
#else
  tp_print("m-lap-us-");
  tp_print_uint(tp_port_time_us());
  tp_print("\r\n");
#endif
}

void tp_harness_boot(void) {
  print_line(TP_ENERGY_MODE ? "m-timestamp-mode-energy" : "m-timestamp-mode-performance");
  tp_harness_timestamp();
  if (tp_model_init() != 0) {
    tp_print("e-[Model init failed: ");
    tp_print(tp_model_error());
    print_line("]");
  }
  print_line("m-init-done");
  print_line("m-ready");
}

/* strtok(" ") without its hidden state: the next space-separated word, or NULL. */
char *tp_next_word(char **cursor) {
  char *at = *cursor;
  while (*at == ' ') {
    at++;
  }
  if (*at == '\0') {
    *cursor = at;
    return NULL;
  }
  char *word = at;
  while (*at != '\0' && *at != ' ') {
    at++;
  }
  if (*at == ' ') {
    *at++ = '\0';
  }
  *cursor = at;
  return word;
}

int tp_same(const char *a, const char *b) {
  while (*a != '\0' && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

/* atoi as reference firmware uses it: optional sign, then digits up to the first other character. */
int32_t tp_parse_int(const char *text) {
  int negative = 0;
  if (*text == '-' || *text == '+') {
    negative = *text == '-';
    text++;
  }
  int64_t value = 0;
  while (*text >= '0' && *text <= '9') {
    value = value * 10 + (*text - '0');
    if (value > INT32_MAX) {
      value = INT32_MAX; /* atoi's overflow is undefined; saturate */
    }
    text++;
  }
  return (int32_t)(negative ? -value : value);
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

static void db_load(char *size_word) {
  if (size_word == NULL) {
    print_line("e-[Command 'db load' requires the # of bytes]");
    return;
  }
  int32_t size = tp_parse_int(size_word);
  if (size <= 0) {
    print_line("e-[Command 'db load' must be >0 bytes]");
    return;
  }
  if ((uint32_t)size > TP_MAX_INPUT_BYTES) { /* reference firmware would overrun its buffer here */
    tp_print("e-[Command 'db load' exceeds the ");
    tp_print_uint(TP_MAX_INPUT_BYTES);
    print_line("-byte input buffer]");
    return;
  }
  expected_bytes = (size_t)size;
  loaded_bytes = 0;
  tp_print("m-[Expecting ");
  tp_print_uint((uint32_t)size);
  print_line(" bytes]");
}

static void db_data(const char *digits) {
  size_t count = 0;
  while (digits[count] != '\0') {
    count++;
  }
  if (count % 2u != 0u) {
    print_line("e-[Insufficent number of hex digits]"); /* sic: reference spelling */
    return;
  }
  for (size_t i = 0; i < count; i += 2) {
    int high = hex_value(digits[i]);
    int low = hex_value(digits[i + 1]);
    if (high < 0 || low < 0) {
      char pair[3] = {digits[i], digits[i + 1], '\0'};
      tp_print("e-[Invalid hex digit '");
      tp_print(pair);
      print_line("']");
      return;
    }
    if (loaded_bytes < expected_bytes) {
      input_buffer[loaded_bytes++] = (uint8_t)(high * 16 + low);
    }
  }
  if (expected_bytes != 0u && loaded_bytes == expected_bytes) {
    expected_bytes = 0;
    print_line("m-load-done");
  }
}

/* Reference firmware prints the whole loaded buffer, 8 bytes a line, then a blank line. */
static void db_print(void) {
  for (size_t i = 0; i < loaded_bytes; i++) {
    tp_print(i % BYTES_PER_PRINT_LINE == 0u ? "m-buffer-" : "-");
    tp_print_hex_byte(input_buffer[i]);
    if ((i + 1u) % BYTES_PER_PRINT_LINE == 0u || i + 1u == loaded_bytes) {
      tp_print("\r\n");
    }
  }
  tp_print("\r\n");
}

static void db(char **cursor) {
  char *sub = tp_next_word(cursor);
  if (sub == NULL) {
    print_line("e-[Command 'db' requires a subcommand]");
  } else if (tp_same(sub, "load")) {
    db_load(tp_next_word(cursor));
  } else if (tp_same(sub, "print")) {
    db_print();
  } else {
    db_data(sub);
  }
}

static int exact_results; /* set by the extension: results also go out as float32 bits */

void tp_harness_exact_results(int on) { exact_results = on; }

/* `m-results-f32-[3f6e0000,...]`: each result's float32 bits, so the host scores the exact output. */
static void print_exact_results(void) {
  tp_print("m-results-f32-[");
  for (size_t i = 0; i < result_count; i++) {
    uint32_t bits;
    memcpy(&bits, &results[i], sizeof bits);
    if (i != 0u) {
      tp_print(",");
    }
    for (int shift = 24; shift >= 0; shift -= 8) {
      tp_print_hex_byte((uint8_t)(bits >> shift));
    }
  }
  print_line("]");
}

static void print_results(void) {
  tp_print("m-results-[");
  for (size_t i = 0; i < result_count; i++) {
    if (i != 0u) {
      tp_print(",");
    }
    tp_print_float3(results[i]);
  }
  print_line("]");
  if (exact_results) {
    print_exact_results();
  }
}

/* One inference on the buffer as it stands; nothing loaded reads as zeros, as on firmware. */
static int run_once(void) {
  if (tp_model_infer(input_buffer, TP_INPUT_BYTES, results, TP_RESULT_COUNT) != 0) {
    return -1;
  }
  result_count = tp_model_result_count();
  return 0;
}

int tp_harness_run(int32_t count) {
  for (int32_t i = 0; i < count; i++) {
    if (run_once() != 0) {
      tp_print("e-[Inference failed: ");
      tp_print(tp_model_error());
      print_line("]");
      return -1;
    }
  }
  return 0;
}

void tp_harness_profile(void) {
  if (tp_harness_run(1) != 0) {
    return;
  }
  const int ops = tp_model_op_count(); /* after the inference: TFLM's profiler learns them in Invoke */
  if (ops == 0) {
    print_line("e-[tp-profile: this firmware's model engine has no per-operator timing (build --engine ref)]");
    return;
  }
  uint32_t total = 0u;
  for (int i = 0; i < ops; i++) {
    tp_print("m-tp-op-[");
    tp_print_uint((uint32_t)i);
    tp_print(",");
    tp_print(tp_model_op_name(i));
    tp_print(",");
    tp_print_uint(tp_model_op_ticks(i));
    print_line("]");
    total += tp_model_op_ticks(i);
  }
  tp_print("m-tp-profile-total-[");
  tp_print_uint(total);
  print_line("]");
  tp_print("m-tp-clock-hz-[");
  tp_print_uint(tp_port_ticks_hz());
  print_line("]");
}

void tp_harness_set_input(const uint8_t *data, size_t length) {
  size_t kept = length < TP_MAX_INPUT_BYTES ? length : TP_MAX_INPUT_BYTES;
  for (size_t i = 0; i < TP_MAX_INPUT_BYTES; i++) {
    input_buffer[i] = i < kept ? data[i] : 0u;
  }
  loaded_bytes = kept;
  expected_bytes = 0;
}

void tp_harness_infer(int32_t count, int32_t warmup, int results_only) {
  if (count <= 0) {
    print_line("e-[Inference iterations must be >0]");
    return;
  }
  if (warmup < 0) {
    print_line("e-[Inference warmup must be >=0]");
    return;
  }
#ifdef TP_MAX_INFERENCES_PER_COMMAND /* fuzzing builds: keep every input fast */
  count = count > TP_MAX_INFERENCES_PER_COMMAND ? TP_MAX_INFERENCES_PER_COMMAND : count;
  warmup = warmup > TP_MAX_INFERENCES_PER_COMMAND ? TP_MAX_INFERENCES_PER_COMMAND : warmup;
#endif
  if (results_only) { /* accuracy samples need no timestamps: only the answer goes back */
    if (tp_harness_run(warmup) == 0 && tp_harness_run(count) == 0) {
      print_results();
    }
    return;
  }
  tp_print("m-warmup-start-");
  tp_print_int(warmup);
  tp_print("\r\n");
  if (tp_harness_run(warmup) != 0) {
    return;
  }
  print_line("m-warmup-done");
  tp_print("m-infer-start-");
  tp_print_int(count);
  tp_print("\r\n");
  tp_harness_timestamp();
  int failed = tp_harness_run(count);
  tp_harness_timestamp();
  if (failed != 0) {
    return;
  }
  print_line("m-infer-done");
  print_results();
}

static void infer(char **cursor) {
  char *count_word = tp_next_word(cursor);
  char *warmup_word = tp_next_word(cursor);
  tp_harness_infer(count_word != NULL ? tp_parse_int(count_word) : 1, warmup_word != NULL ? tp_parse_int(warmup_word) : 0,
                   0);
}

static void help(void) {
  print_line(FIRMWARE_ID);
  print_line("");
  print_line("help         : Print this information");
  print_line("name         : Print the name of the device");
  print_line("timestsamp   : Generate a timetsamp"); /* sic: reference spelling */
  print_line("db SUBCMD    : Manipulate a generic byte buffer");
  print_line("  load N     : Allocate N bytes and set load counter");
  print_line("  db HH[HH]* : Load 8-bit hex byte(s) until N bytes");
  print_line("  print [N=16] [offset=0]");
  print_line("             : Print N bytes at offset as hex");
  print_line("infer N [W=0]: Load input, execute N inferences after W warmup loops");
  print_line("results      : Return the result fp32 vector");
}

void tp_harness_run_command(char *line) {
  char *cursor = line;
  char *word = tp_next_word(&cursor);
  if (word == NULL) {
    word = cursor; /* an empty command: reference firmware answers it as unknown */
  }
  if (tp_same(word, "name")) {
    print_line("m-name-dut-[" TP_VENDOR_NAME "]");
  } else if (tp_same(word, "profile")) {
    print_line("m-profile-[" FIRMWARE_ID "]");
    print_line("m-model-[" TP_BENCHMARK "]");
  } else if (tp_same(word, "help")) {
    help();
  } else if (tp_same(word, "timestamp")) {
    tp_harness_timestamp();
  } else if (tp_same(word, "db")) {
    db(&cursor);
  } else if (tp_same(word, "infer")) {
    infer(&cursor);
  } else if (tp_same(word, "results")) {
    print_results();
  } else if (!tp_extension_command(word, cursor)) {
    tp_print("e-[Unknown command: ");
    tp_print(word);
    print_line("]");
  }
  print_line("m-ready");
}

void tp_harness_feed(char c) {
  if (tp_extension_feed((uint8_t)c)) {
    if (c == '\0') {
      command_length = 0; /* a frame starts: an unfinished text command before it was noise */
    }
    return;
  }
  if (c == '%') {
    command[command_length] = '\0';
    command_length = 0;
    tp_harness_run_command(command);
  } else if (command_length < TP_COMMAND_CHARS) {
    command[command_length++] = c;
  }
}

void tp_harness_serve(void) {
  for (;;) {
    int c = tp_extension_read();
    if (c < 0) {
      return;
    }
    tp_harness_feed((char)c);
  }
}
