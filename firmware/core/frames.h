/* The extension's wire format (firmware/PROTOCOL.md): 0x00 COBS(kind seq body crc32) 0x00.
 * Mirrors host/tinyperf/protocol/frames.py, the host codec the tests check this against. */
#ifndef TP_FRAMES_H
#define TP_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define TP_FRAME_COMMAND 'C'  /* host -> device: command text */
#define TP_FRAME_DATA 'D'     /* host -> device: buffer, offset, bytes */
#define TP_FRAME_ACCEPTED 'A' /* device -> host: command frame arrived, will run */
#define TP_FRAME_REPLY 'R'    /* device -> host: reply lines; empty = data ack */
#define TP_FRAME_NAK 'N'      /* device -> host: a frame arrived broken */
#define TP_FRAME_NAK_SEQ 0xFFFFu

#ifndef TP_EXT_FRAME_BYTES
#define TP_EXT_FRAME_BYTES 1024u /* data bytes per data frame */
#endif
/* kind + seq + buffer + offset + data + CRC: the largest decoded frame a receiver keeps */
#define TP_FRAME_RAW_BYTES (3u + 5u + TP_EXT_FRAME_BYTES + 4u)

typedef struct {
  uint8_t kind;
  uint16_t seq;
  const uint8_t *body; /* valid until the next tp_frame_receive */
  size_t length;
} tp_frame;

typedef enum {
  TP_RX_TEXT,   /* not frame data: the byte is legacy text */
  TP_RX_MORE,   /* taken; the frame is not complete yet */
  TP_RX_FRAME,  /* a whole, CRC-checked frame is in *frame */
  TP_RX_BROKEN, /* a frame ended that failed COBS, length or CRC: answer N */
} tp_rx_event;

/* Feeds one received byte to the frame receiver. */
tp_rx_event tp_frame_receive(uint8_t byte, tp_frame *frame);

/* Forgets a partly received frame (after a reset of the extension's state). */
void tp_frame_receiver_reset(void);

/* Sends one frame straight to the port (never into a reply being collected). */
void tp_frame_send(uint8_t kind, uint16_t seq, const uint8_t *body, size_t length);

#endif
