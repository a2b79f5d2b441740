/* The arrival times of the duty-cycled scenario (tp-duty): COUNT requests over COUNT / RATE seconds,
 * periodic, or Poisson (the arrival times of a Poisson process given its count: sorted uniform times,
 * made from normalised sums of exponential gaps so that no array needs sorting). */
#ifndef TP_DUTY_H
#define TP_DUTY_H

#include <stdint.h>

typedef struct {
  uint32_t count;
  uint32_t span_us;
  int poisson;
  uint32_t seed;
  uint32_t state;  /* xorshift32 */
  double total;    /* Poisson: the sum of all count + 1 exponential gaps */
  double sum;      /* Poisson: gaps so far */
  uint32_t issued; /* arrivals handed out */
} tp_duty_schedule;

/* 0 if RATE or COUNT is unusable (the span must fit in 32 bits of microseconds). */
int tp_duty_start(tp_duty_schedule *schedule, double rate_hz, uint32_t count, int poisson, uint32_t seed);

/* The next arrival, in microseconds after the start; arrivals never decrease. */
uint32_t tp_duty_next_us(tp_duty_schedule *schedule);

#endif
