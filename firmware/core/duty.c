/* Arrival schedule of tp-duty (see duty.h). */
#include "duty.h"

#include <math.h>

#define MAX_SPAN_US 4000000000.0 /* about 66 minutes: the 32-bit microsecond clock must not wrap */

static double next_gap(tp_duty_schedule *schedule) { /* an exponential gap of mean 1 */
  uint32_t x = schedule->state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  schedule->state = x;
  return -log(((double)x + 1.0) / 4294967296.0); /* x + 1 in [1, 2^32]: the log is finite */
}

static void reseed(tp_duty_schedule *schedule) {
  schedule->state = schedule->seed * 2654435761u + 0x9E3779B9u;
  if (schedule->state == 0u) {
    schedule->state = 1u; /* xorshift's one fixed point */
  }
}

int tp_duty_start(tp_duty_schedule *schedule, double rate_hz, uint32_t count, int poisson, uint32_t seed) {
  if (!(rate_hz > 0.0) || count == 0u || (double)count / rate_hz * 1e6 > MAX_SPAN_US) {
    return 0;
  }
  schedule->count = count;
  schedule->span_us = (uint32_t)((double)count / rate_hz * 1e6 + 0.5);
  schedule->poisson = poisson;
  schedule->seed = seed;
  schedule->issued = 0u;
  schedule->sum = 0.0;
  schedule->total = 0.0;
  if (poisson) {
    reseed(schedule);
    for (uint32_t i = 0; i <= count; i++) {
      schedule->total += next_gap(schedule);
    }
    reseed(schedule); /* the same gaps again, handed out one by one */
  }
  return 1;
}

uint32_t tp_duty_next_us(tp_duty_schedule *schedule) {
  uint32_t k = schedule->issued++;
  if (!schedule->poisson) {
    return (uint32_t)((uint64_t)schedule->span_us * k / schedule->count);
  }
  schedule->sum += next_gap(schedule);
  return (uint32_t)((double)schedule->span_us * (schedule->sum / schedule->total));
}
