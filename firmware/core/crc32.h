/* CRC-32 (IEEE 802.3, the zlib polynomial): the extension's frame and buffer check. */
#ifndef TP_CRC32_H
#define TP_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 to start) over `length` bytes: tp_crc32(tp_crc32(0, a), b) = crc of a then b. */
uint32_t tp_crc32(uint32_t crc, const uint8_t *data, size_t length);

#endif
