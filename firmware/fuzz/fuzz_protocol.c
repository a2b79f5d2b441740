/* libFuzzer target: arbitrary bytes from the host into the protocol core (posix build, test engine).
 * Catches out-of-bounds access, overflows and undefined behaviour in the parser under ASan/UBSan. */
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "port.h"

static uint32_t fake_clock_us;

void tp_port_init(void) {}

void tp_port_write(const char *text, size_t length) {
  volatile char sink = 0;
  for (size_t i = 0; i < length; i++) {
    sink ^= text[i]; /* touch every byte so ASan checks what the core hands over */
  }
  (void)sink;
}

int tp_port_read_char(void) { return -1; }

int tp_port_poll_char(void) { return -1; }

void tp_port_set_baud(uint32_t baud) { (void)baud; }

const char *tp_port_bauds(void) { return "115200,2000000"; }

uint32_t tp_port_time_us(void) { return fake_clock_us += 7u; }

uint32_t tp_port_ticks(void) { return fake_clock_us; }

uint32_t tp_port_ticks_hz(void) { return 1000000u; }

/* tp-duty's sleep: the fake clock jumps to the deadline instead of waiting (each call must return). */
void tp_port_sleep_until(uint32_t deadline_us) {
  if ((int32_t)(deadline_us - fake_clock_us) > 0) {
    fake_clock_us = deadline_us;
  }
}

void tp_port_timestamp_pulse(void) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int booted;
  if (!booted) {
    tp_harness_boot();
    booted = 1;
  }
  for (size_t i = 0; i < size; i++) {
    tp_harness_feed((char)data[i]);
  }
  tp_harness_feed('%'); /* end whatever command the input left open */
  return 0;
}
