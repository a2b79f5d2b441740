/* Text output without printf: the same bytes on every C library (newlib-nano prints no floats). */
#ifndef TP_FORMAT_H
#define TP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Where printed text goes: the port, unless a framed command is collecting its reply (NULL = port). */
typedef void (*tp_sink)(const char *text, size_t length);
void tp_set_sink(tp_sink to);
void tp_write(const char *text, size_t length);

void tp_print(const char *text);
void tp_print_uint(uint32_t value);
void tp_print_int(int32_t value);
void tp_print_hex_byte(uint8_t value);
/* Like printf("%0.3f"): correctly rounded (ties to even) for any float32 value. */
void tp_print_float3(float value);

#endif
