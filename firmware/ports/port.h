/* What a board port gives the protocol core: a byte sink, a microsecond clock and the
 * energy-mode timestamp pin. Each port (posix, qemu-mps2-an386, nucleo-l4r5zi) implements it. */
#ifndef TP_PORT_H
#define TP_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Clocks, UART and pins; called once before anything else. */
void tp_port_init(void);

/* Sends text to the host (blocking until queued). */
void tp_port_write(const char *text, size_t length);

/* Waits for the next received byte; returns -1 when the input has ended (posix only). */
int tp_port_read_char(void);

/* Free-running microseconds from the device's own timer, wrapping at 2^32. */
uint32_t tp_port_time_us(void);

/* Energy mode: pull the timestamp GPIO low for at least 1 us, then release it. */
void tp_port_timestamp_pulse(void);

#endif
