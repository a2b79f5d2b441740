/* What a board port gives the protocol core: a byte sink, a microsecond clock and the
 * energy-mode timestamp pin. Each port (posix, qemu-mps2-an386, nucleo-l4r5zi) implements it. */
#ifndef TP_PORT_H
#define TP_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clocks, UART and pins; called once before anything else. */
void tp_port_init(void);

/* Sends text to the host (blocking until queued). */
void tp_port_write(const char *text, size_t length);

/* Waits for the next received byte; returns -1 when the input has ended (posix only). */
int tp_port_read_char(void);

/* A received byte if one is waiting, else -1 at once (the extension drains frames between windows). */
int tp_port_poll_char(void);

/* Moves the UART to `baud` after what was written has gone out (a pty or QEMU ignores the rate). */
void tp_port_set_baud(uint32_t baud);

/* The rates tp_port_set_baud reaches, comma-separated, first the boot rate: the caps line's `bauds`. */
const char *tp_port_bauds(void);

/* Free-running microseconds from the device's own timer, wrapping at 2^32. */
uint32_t tp_port_time_us(void);

/* The device's finest free-running counter (CPU cycles where the core has one), wrapping at 2^32,
 * and its rate: per-operator profiles count in these ticks. */
uint32_t tp_port_ticks(void);
uint32_t tp_port_ticks_hz(void);

/* Sleeps (the core's low-power wait) until tp_port_time_us() reaches `deadline_us`; returns at once if
 * it has passed. The duty-cycled scenario (tp-duty) sleeps between requests with it. */
void tp_port_sleep_until(uint32_t deadline_us);

/* Energy mode: pull the timestamp GPIO low for at least 1 us, then release it. */
void tp_port_timestamp_pulse(void);

#ifdef __cplusplus
}
#endif

#endif
