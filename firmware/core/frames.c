/* COBS decoded a byte at a time as it arrives (no second buffer), CRC checked at the delimiter;
 * frames sent are COBS-encoded on the fly in 254-byte blocks. */
#include "frames.h"

#include "crc32.h"
#include "port.h"

#define COBS_BLOCK 254u

static uint8_t raw[TP_FRAME_RAW_BYTES];
static size_t raw_length;
static size_t encoded_length; /* bytes since the opening 0x00: 0 at a delimiter = empty frame */
static unsigned block_left;    /* data bytes still due in the current COBS block */
static uint8_t block_code;     /* the current block's code byte (255: no 0x00 follows it) */
static int in_frame;
static int broken; /* too long, or bad COBS: report at the closing 0x00 */

void tp_frame_receiver_reset(void) {
  in_frame = 0;
  raw_length = encoded_length = 0;
  block_left = 0;
  block_code = 0;
  broken = 0;
}

static void keep(uint8_t byte) {
  if (raw_length < sizeof raw) {
    raw[raw_length++] = byte;
  } else {
    broken = 1;
  }
}

static void take_encoded(uint8_t byte) {
  encoded_length++;
  if (block_left == 0u) { /* a code byte: the block before it ended in a 0x00 unless it was full */
    if (encoded_length > 1u && block_code != 0xFFu) {
      keep(0u);
    }
    block_code = byte;
    block_left = byte - 1u;
  } else {
    keep(byte);
    block_left--;
  }
}

static tp_rx_event close_frame(tp_frame *frame) {
  int bad = broken || block_left != 0u || raw_length < 7u;
  size_t length = raw_length;
  tp_frame_receiver_reset(); /* the bytes stay in raw[] for the caller */
  if (bad) {
    return TP_RX_BROKEN;
  }
  size_t body_end = length - 4u;
  uint32_t sent = (uint32_t)raw[body_end] | (uint32_t)raw[body_end + 1u] << 8 | (uint32_t)raw[body_end + 2u] << 16 |
                  (uint32_t)raw[body_end + 3u] << 24;
  if (tp_crc32(0u, raw, body_end) != sent) {
    return TP_RX_BROKEN;
  }
  frame->kind = raw[0];
  frame->seq = (uint16_t)(raw[1] | raw[2] << 8);
  frame->body = raw + 3;
  frame->length = body_end - 3u;
  return TP_RX_FRAME;
}

tp_rx_event tp_frame_receive(uint8_t byte, tp_frame *frame) {
  if (!in_frame) {
    if (byte != 0u) {
      return TP_RX_TEXT;
    }
    tp_frame_receiver_reset();
    in_frame = 1;
    return TP_RX_MORE;
  }
  if (byte != 0u) {
    take_encoded(byte);
    return TP_RX_MORE;
  }
  if (encoded_length == 0u) {
    return TP_RX_MORE; /* 0x00 0x00: an empty frame, a resync point; the next frame starts here */
  }
  return close_frame(frame);
}

/* ---- sending ---------------------------------------------------------------------------------- */

static uint8_t out_block[COBS_BLOCK + 1u];
static size_t out_length; /* data bytes in out_block after its code byte */

static void flush_block(void) {
  out_block[0] = (uint8_t)(out_length + 1u);
  tp_port_write((const char *)out_block, out_length + 1u);
  out_length = 0;
}

static void put(uint8_t byte) {
  if (byte == 0u) {
    flush_block();
    return;
  }
  out_block[1u + out_length++] = byte;
  if (out_length == COBS_BLOCK) {
    flush_block();
  }
}

static void put_all(const uint8_t *data, size_t length) {
  for (size_t i = 0; i < length; i++) {
    put(data[i]);
  }
}

void tp_frame_send(uint8_t kind, uint16_t seq, const uint8_t *body, size_t length) {
  const uint8_t header[3] = {kind, (uint8_t)(seq & 0xFFu), (uint8_t)(seq >> 8)};
  uint32_t crc = tp_crc32(tp_crc32(0u, header, sizeof header), body, length);
  const uint8_t trailer[4] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)};
  static const char delimiter = '\0';
  tp_port_write(&delimiter, 1);
  out_length = 0;
  put_all(header, sizeof header);
  put_all(body, length);
  put_all(trailer, sizeof trailer);
  flush_block();
  tp_port_write(&delimiter, 1);
}
