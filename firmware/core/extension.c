/* The tinyperf protocol extension on the device (firmware/PROTOCOL.md): negotiated with tp-caps%,
 * CRC-checked frames, two input buffers, a reply cache so a repeated command frame never runs twice,
 * device-side sliding windows (also streaming: window i runs once its bytes are in), a baud switch
 * with a fallback. Single-threaded: frames are read between commands, and between the windows of a
 * slide; a port's UART receiver (interrupt ring, pty or QEMU backpressure) holds bytes meanwhile. */
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "duty.h"
#include "format.h"
#include "frames.h"
#include "harness.h"
#include "model_runner.h"
#include "port.h"
#include "tp_config.h"

#define EXTENSION_VERSION 1
#define BUFFER_COUNT 2u
#ifndef TP_EXT_BUFFER_BYTES
#define TP_EXT_BUFFER_BYTES TP_MAX_INPUT_BYTES
#endif
#ifndef TP_EXT_REPLY_BYTES
#define TP_EXT_REPLY_BYTES 12288u /* the longest reply: 196 ad01 windows, printed and exact (~9 KB) */
#endif
#define REPLY_CACHE 2u           /* the host has at most two commands in flight */
#define STALL_US 5000000u        /* a streaming slide whose data stops this long gives up */
#define BAUD_CONFIRM_US 1000000u /* after tp-baud, no valid frame at the new rate in this: fall back */

static uint8_t buffers[BUFFER_COUNT][TP_EXT_BUFFER_BYTES];
/* What has arrived of each buffer's current fill, frame by frame (a streaming slide waits on it).
 * A fill ends when a command has used the buffer: the host fills it again only after that reply. */
#define CHUNKS ((TP_EXT_BUFFER_BYTES + TP_EXT_FRAME_BYTES - 1u) / TP_EXT_FRAME_BYTES)
static uint8_t arrived[BUFFER_COUNT][CHUNKS]; /* frame-aligned chunks stored this fill */
static uint32_t filled[BUFFER_COUNT];         /* bytes from offset 0 that have all arrived */
static uint32_t fill_end[BUFFER_COUNT];       /* the furthest byte any frame of this fill reached */

typedef struct {
  int valid;
  uint16_t seq;
  size_t length;
  int overflow;
  char text[TP_EXT_REPLY_BYTES];
} cached_reply;

static cached_reply cache[REPLY_CACHE];
static size_t next_slot;
static cached_reply *collecting; /* the reply a framed command is printing into */

static int busy;                 /* a framed command is running: command frames wait */
static uint16_t running_seq;
static int queued;               /* one command frame arrived while busy */
static uint16_t queued_seq;
static char queued_text[TP_COMMAND_CHARS + 1];

static uint32_t pending_baud;  /* tp-baud's rate, applied once its reply has gone out */
static uint32_t fallback_baud; /* the old rate while a switch waits for a valid frame; 0 = none */
static uint32_t current_baud;
static uint32_t switched_at_us;

/* ---- replies ----------------------------------------------------------------------------------- */

static void collect(const char *text, size_t length) {
  cached_reply *reply = collecting;
  if (reply->length + length > sizeof reply->text) {
    reply->overflow = 1;
    return;
  }
  memcpy(reply->text + reply->length, text, length);
  reply->length += length;
}

static void send_reply_text(uint16_t seq, const char *text) {
  tp_frame_send(TP_FRAME_REPLY, seq, (const uint8_t *)text, strlen(text));
}

static cached_reply *cached(uint16_t seq) {
  for (size_t i = 0; i < REPLY_CACHE; i++) {
    if (cache[i].valid && cache[i].seq == seq) {
      return &cache[i];
    }
  }
  return NULL;
}

/* Runs a command frame's text, collecting its reply, then sends and caches it. */
static void run_framed(uint16_t seq, const char *text) {
  char line[TP_COMMAND_CHARS + 1];
  size_t length = 0;
  while (text[length] != '\0' && length < TP_COMMAND_CHARS) {
    line[length] = text[length];
    length++;
  }
  line[length] = '\0';
  cached_reply *reply = &cache[next_slot];
  next_slot = (next_slot + 1u) % REPLY_CACHE;
  reply->valid = 0;
  reply->seq = seq;
  reply->length = 0;
  reply->overflow = 0;
  collecting = reply;
  tp_set_sink(collect);
  busy = 1;
  running_seq = seq;
  tp_harness_run_command(line);
  busy = 0;
  tp_set_sink(NULL);
  collecting = NULL;
  if (reply->overflow) { /* too long to keep: sent as an error, so the host knows and nothing is cut */
    send_reply_text(seq, "e-[tp: reply longer than the device's reply buffer]\r\nm-ready\r\n");
    return;
  }
  reply->valid = 1;
  tp_frame_send(TP_FRAME_REPLY, seq, (const uint8_t *)reply->text, reply->length);
}

/* ---- frames ------------------------------------------------------------------------------------ */

static uint32_t le32(const uint8_t *at) {
  return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

/* Short replies made outside a command (data frame errors) are printed into this, then framed. */
static char scratch[200];
static size_t scratch_length;

static void to_scratch(const char *text, size_t length) {
  for (size_t i = 0; i < length && scratch_length < sizeof scratch; i++) {
    scratch[scratch_length++] = text[i];
  }
}

/* Prints that follow go into scratch, until send_scratch frames them as the reply to `seq`. */
static void begin_scratch(void) {
  scratch_length = 0;
  tp_set_sink(to_scratch);
}

static void send_scratch(uint16_t seq) {
  tp_set_sink(collecting != NULL ? collect : NULL);
  tp_frame_send(TP_FRAME_REPLY, seq, (const uint8_t *)scratch, scratch_length);
}

static void reply_data_error(uint16_t seq, size_t length, uint32_t offset, uint32_t index) {
  begin_scratch();
  tp_print("e-[tp data: ");
  tp_print_uint((uint32_t)length);
  tp_print(" bytes at ");
  tp_print_uint(offset);
  tp_print(" do not fit buffer ");
  tp_print_uint(index);
  tp_print(" (");
  tp_print_uint(BUFFER_COUNT);
  tp_print(" x ");
  tp_print_uint(TP_EXT_BUFFER_BYTES);
  tp_print(" bytes, ");
  tp_print_uint(TP_EXT_FRAME_BYTES);
  tp_print(" per frame)]\r\nm-ready\r\n");
  send_scratch(seq);
}

static void end_fill(uint32_t index) {
  memset(arrived[index], 0, sizeof arrived[index]);
  filled[index] = fill_end[index] = 0;
}

/* Stores a data frame's bytes, in any order; an aligned frame also counts toward `filled`. */
static void on_data(const tp_frame *frame) {
  if (frame->length < 5u) {
    begin_scratch();
    tp_print("e-[tp data: data frame body of ");
    tp_print_uint((uint32_t)frame->length);
    tp_print(" bytes has no buffer/offset header]\r\nm-ready\r\n");
    send_scratch(frame->seq);
    return;
  }
  uint32_t index = frame->body[0];
  uint32_t offset = le32(frame->body + 1);
  size_t length = frame->length - 5u;
  if (index >= BUFFER_COUNT || length > TP_EXT_FRAME_BYTES || offset > TP_EXT_BUFFER_BYTES ||
      length > TP_EXT_BUFFER_BYTES - offset) {
    reply_data_error(frame->seq, length, offset, index);
    return;
  }
  memcpy(buffers[index] + offset, frame->body + 5, length);
  if (offset % TP_EXT_FRAME_BYTES == 0u && length > 0u) {
    arrived[index][offset / TP_EXT_FRAME_BYTES] = 1;
    if (offset + length > fill_end[index]) {
      fill_end[index] = (uint32_t)(offset + length);
    }
    while (filled[index] < fill_end[index] && arrived[index][filled[index] / TP_EXT_FRAME_BYTES]) {
      uint32_t next = filled[index] + TP_EXT_FRAME_BYTES;
      filled[index] = next < fill_end[index] ? next : fill_end[index];
    }
  }
  tp_frame_send(TP_FRAME_REPLY, frame->seq, NULL, 0);
}

static void on_command(const tp_frame *frame) {
  cached_reply *reply = cached(frame->seq);
  tp_frame_send(TP_FRAME_ACCEPTED, frame->seq, NULL, 0);
  if (reply != NULL) { /* its reply was lost: answer again, do not run it again */
    tp_frame_send(TP_FRAME_REPLY, frame->seq, (const uint8_t *)reply->text, reply->length);
    return;
  }
  char text[TP_COMMAND_CHARS + 1];
  size_t length = frame->length < TP_COMMAND_CHARS ? frame->length : TP_COMMAND_CHARS;
  memcpy(text, frame->body, length);
  text[length] = '\0';
  if (busy) { /* the host queues one command behind the running one */
    if (frame->seq == running_seq || (queued && frame->seq == queued_seq)) {
      return; /* a repeat (its A was lost): accepted again above, and it runs once */
    }
    if (!queued) {
      queued = 1;
      queued_seq = frame->seq;
      memcpy(queued_text, text, length + 1u);
    }
    return;
  }
  run_framed(frame->seq, text);
  while (queued) {
    queued = 0;
    run_framed(queued_seq, queued_text);
  }
}

/* Feeds one byte to the frame receiver; returns 0 for legacy text bytes. */
static int take_byte(uint8_t byte) {
  tp_frame frame;
  switch (tp_frame_receive(byte, &frame)) {
    case TP_RX_TEXT:
      return 0;
    case TP_RX_MORE:
      return 1;
    case TP_RX_BROKEN:
      tp_frame_send(TP_FRAME_NAK, TP_FRAME_NAK_SEQ, NULL, 0);
      return 1;
    case TP_RX_FRAME:
      break;
  }
  fallback_baud = 0; /* a valid frame at this rate confirms a baud switch */
  if (frame.kind == TP_FRAME_DATA) {
    on_data(&frame);
  } else if (frame.kind == TP_FRAME_COMMAND) {
    on_command(&frame);
  } /* device-to-host kinds coming back (an echoing link) are ignored */
  return 1;
}

int tp_extension_feed(uint8_t byte) { return take_byte(byte); }

/* Frames that arrived meanwhile, taken in without waiting; text bytes inside a command are dropped. */
static void drain_received(void) {
  int c;
  while ((c = tp_port_poll_char()) >= 0) {
    (void)take_byte((uint8_t)c);
  }
}

/* The n-th rate of the port's list (0 = the boot rate), or 0 past its end. */
static uint32_t port_rate(size_t n) {
  const char *at = tp_port_bauds();
  for (; n > 0u && *at != '\0'; at++) {
    if (*at == ',') {
      n--;
    }
  }
  return *at != '\0' ? (uint32_t)tp_parse_int(at) : 0u;
}

static uint32_t current_rate(void) { return current_baud != 0u ? current_baud : port_rate(0); }

int tp_extension_read(void) {
  if (pending_baud != 0u) {
    fallback_baud = current_rate();
    current_baud = pending_baud;
    pending_baud = 0;
    tp_port_set_baud(current_baud);
    switched_at_us = tp_port_time_us();
  }
  while (fallback_baud != 0u) {
    int c = tp_port_poll_char();
    if (c >= 0) {
      return c;
    }
    if (tp_port_time_us() - switched_at_us > BAUD_CONFIRM_US) {
      current_baud = fallback_baud;
      fallback_baud = 0;
      tp_port_set_baud(current_baud);
    }
  }
  return tp_port_read_char();
}

/* ---- commands ---------------------------------------------------------------------------------- */

static int parse_hex32(const char *text, uint32_t *value) {
  uint32_t result = 0;
  size_t digits = 0;
  for (; text[digits] != '\0'; digits++) {
    char c = text[digits];
    int nibble = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (nibble < 0 || digits >= 8u) {
      return 0;
    }
    result = result << 4 | (uint32_t)nibble;
  }
  *value = result;
  return digits > 0u;
}

static void print_hex32(uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    tp_print_hex_byte((uint8_t)(value >> shift));
  }
}

typedef struct {
  uint32_t index;
  uint32_t length;
  uint32_t crc;
} buffer_ref;

/* `B LEN CRC`: which bytes a command means; 0 (after printing the error) if out of range. */
static int parse_buffer_ref(char **cursor, const char *command, buffer_ref *ref) {
  char *words[3];
  for (size_t i = 0; i < 3u; i++) {
    words[i] = tp_next_word(cursor);
    if (words[i] == NULL) {
      tp_print("e-[");
      tp_print(command);
      tp_print(" needs BUFFER LENGTH CRC32]\r\n");
      return 0;
    }
  }
  int32_t index = tp_parse_int(words[0]);
  int32_t length = tp_parse_int(words[1]);
  if (index < 0 || (uint32_t)index >= BUFFER_COUNT || length <= 0 || (uint32_t)length > TP_EXT_BUFFER_BYTES ||
      !parse_hex32(words[2], &ref->crc)) {
    tp_print("e-[");
    tp_print(command);
    tp_print(": buffer ");
    tp_print(words[0]);
    tp_print(" length ");
    tp_print(words[1]);
    tp_print(" crc ");
    tp_print(words[2]);
    tp_print(" out of range]\r\n");
    return 0;
  }
  ref->index = (uint32_t)index;
  ref->length = (uint32_t)length;
  return 1;
}

/* The buffer's CRC against the command's; prints the mismatch (the host reloads and retries). */
static int crc_matches(const buffer_ref *ref, const char *command) {
  uint32_t actual = tp_crc32(0u, buffers[ref->index], ref->length);
  if (actual == ref->crc) {
    return 1;
  }
  tp_print("e-[");
  tp_print(command);
  tp_print(": buffer ");
  tp_print_uint(ref->index);
  tp_print(" CRC ");
  print_hex32(actual);
  tp_print(", expected ");
  print_hex32(ref->crc);
  tp_print("]\r\n");
  return 0;
}

/* `B LEN CRC`: that checked buffer becomes the model input. 0 (after the error line) if it is out of
 * range or its CRC differs; the buffer's fill ends either way (on a mismatch the host fills it again). */
static int use_buffer(char **cursor, const char *command) {
  buffer_ref ref;
  if (!parse_buffer_ref(cursor, command, &ref)) {
    return 0;
  }
  int matches = crc_matches(&ref, command);
  if (matches) {
    tp_harness_set_input(buffers[ref.index], ref.length);
  }
  end_fill(ref.index);
  return matches;
}

/* The same, trailing and optional: with no words left the current input stays. */
static int use_optional_buffer(char **cursor, const char *command) {
  while (**cursor == ' ') {
    (*cursor)++;
  }
  return **cursor == '\0' || use_buffer(cursor, command);
}

/* `tp-infer B LEN CRC N W [results]`: `infer N W` on a checked buffer. */
static void tp_infer(char **cursor) {
  if (!use_buffer(cursor, "tp-infer")) {
    return;
  }
  char *count = tp_next_word(cursor);
  char *warmup = tp_next_word(cursor);
  char *flag = tp_next_word(cursor);
  tp_harness_exact_results(1);
  tp_harness_infer(count != NULL ? tp_parse_int(count) : 1, warmup != NULL ? tp_parse_int(warmup) : 0,
                   flag != NULL && tp_same(flag, "results"));
  tp_harness_exact_results(0);
}

/* `tp-profile [B LEN CRC]`: the per-operator profile, on a checked buffer or on the current input. */
static void tp_profile(char **cursor) {
  if (use_optional_buffer(cursor, "tp-profile")) {
    tp_harness_profile();
  }
}

static void print_seconds(uint32_t us) { /* S.uuuuuu */
  tp_print_uint(us / 1000000u);
  tp_print(".");
  for (uint32_t digit = 100000u; digit > 0u; digit /= 10u) {
    tp_print_uint(us / digit % 10u);
  }
}

/* `tp-duty RATE COUNT periodic|poisson [SEED [B LEN CRC]]`: the always-on scenario. A timestamp, then
 * COUNT requests arriving at RATE per second, one inference each on that buffer (or the current input),
 * the core asleep in between (a
 * request that finds it busy waits); a closing timestamp when COUNT / RATE seconds have passed. */
static void tp_duty(char **cursor) {
  char *rate_word = tp_next_word(cursor);
  char *count_word = tp_next_word(cursor);
  char *kind = tp_next_word(cursor);
  char *seed = tp_next_word(cursor);
  int poisson = kind != NULL && tp_same(kind, "poisson");
  tp_duty_schedule schedule;
  if (rate_word == NULL || count_word == NULL || (kind != NULL && !poisson && !tp_same(kind, "periodic")) ||
      tp_parse_int(count_word) <= 0 ||
      !tp_duty_start(&schedule, strtod(rate_word, NULL), (uint32_t)tp_parse_int(count_word), poisson,
                     seed != NULL ? (uint32_t)tp_parse_int(seed) : 0u)) {
    tp_print("e-[tp-duty needs RATE>0 COUNT>0 periodic|poisson [SEED [B LEN CRC]]]\r\n");
    return;
  }
  if (!use_optional_buffer(cursor, "tp-duty")) {
    return;
  }
  tp_harness_timestamp();
  const uint32_t start = tp_port_time_us();
  uint32_t busy_us = 0u;
  for (uint32_t k = 0; k < schedule.count; k++) {
    tp_port_sleep_until(start + tp_duty_next_us(&schedule));
    const uint32_t woke = tp_port_time_us();
    if (tp_harness_run(1) != 0) {
      return;
    }
    busy_us += tp_port_time_us() - woke;
    drain_received(); /* frames that came meanwhile (the host's pings) are kept, not lost */
  }
  tp_port_sleep_until(start + schedule.span_us);
  const uint32_t elapsed = tp_port_time_us() - start;
  tp_harness_timestamp();
  tp_print("m-tp-duty-[");
  tp_print_uint(schedule.count);
  tp_print(",");
  print_seconds(elapsed);
  tp_print("]\r\nm-tp-duty-busy-[");
  print_seconds(busy_us);
  tp_print("]\r\n");
}

/* Waits until `need` bytes of buffer `index` are in; 0 if the data stalls or the input ends. */
static int wait_filled(uint32_t index, uint32_t need) {
  uint32_t last_progress = tp_port_time_us();
  while (filled[index] < need) {
    int c = tp_port_poll_char();
    if (c >= 0) {
      uint32_t before = filled[index];
      (void)take_byte((uint8_t)c);
      if (filled[index] != before) {
        last_progress = tp_port_time_us();
      }
    } else if (tp_port_time_us() - last_progress > STALL_US) {
      return 0;
    }
  }
  return 1;
}

/* Runs every window, each once its bytes are in if streaming; 0 (error printed) on a stall or a
 * CRC mismatch, whose partial results are taken back out of the reply. */
static uint32_t slide_windows(const buffer_ref *ref, uint32_t window, uint32_t stride, int stream) {
  if (!stream && !crc_matches(ref, "tp-slide")) {
    return 0;
  }
  size_t reply_start = collecting != NULL ? collecting->length : 0u;
  uint32_t count = 0;
  for (uint32_t offset = 0; offset + window <= ref->length; offset += stride) {
    if (stream && !wait_filled(ref->index, offset + window)) {
      collecting->length = reply_start;
      tp_print("e-[tp-slide: data stopped at byte ");
      tp_print_uint(filled[ref->index]);
      tp_print(" of ");
      tp_print_uint(ref->length);
      tp_print("]\r\n");
      return 0;
    }
    drain_received();
    tp_harness_set_input(buffers[ref->index] + offset, window);
    tp_harness_exact_results(1);
    tp_harness_infer(1, 0, 1);
    tp_harness_exact_results(0);
    count++;
  }
  if (stream && tp_crc32(0u, buffers[ref->index], ref->length) != ref->crc) {
    collecting->length = reply_start; /* the windows ran on bytes that were not the host's */
    (void)crc_matches(ref, "tp-slide");
    return 0;
  }
  return count;
}

/* `tp-slide B LEN CRC WIN STRIDE [stream]`: one inference per window. With `stream` the command
 * comes before the data, and window i runs as soon as its bytes are in; the CRC is checked last. */
static void tp_slide(char **cursor) {
  buffer_ref ref;
  if (!parse_buffer_ref(cursor, "tp-slide", &ref)) {
    return;
  }
  char *window_word = tp_next_word(cursor);
  char *stride_word = tp_next_word(cursor);
  char *flag = tp_next_word(cursor);
  int32_t window = window_word != NULL ? tp_parse_int(window_word) : 0;
  int32_t stride = stride_word != NULL ? tp_parse_int(stride_word) : 0;
  int stream = flag != NULL && tp_same(flag, "stream");
  if (window <= 0 || stride <= 0 || (uint32_t)window > ref.length) {
    tp_print("e-[tp-slide: window ");
    tp_print_int(window);
    tp_print(" stride ");
    tp_print_int(stride);
    tp_print(" do not fit ");
    tp_print_uint(ref.length);
    tp_print(" bytes]\r\n");
    return;
  }
  if (stream && collecting == NULL) {
    tp_print("e-[tp-slide: stream needs a command frame]\r\n");
    return;
  }
  uint32_t count = slide_windows(&ref, (uint32_t)window, (uint32_t)stride, stream);
  end_fill(ref.index);
  if (count == 0u) {
    return;
  }
  tp_print("m-tp-slide-done-");
  tp_print_uint(count);
  tp_print("\r\n");
}

/* `tp-baud RATE`: answered at the old rate, then the port moves (see tp_extension_read). */
static void tp_baud(char **cursor) {
  char *word = tp_next_word(cursor);
  uint32_t rate = word != NULL && tp_parse_int(word) > 0 ? (uint32_t)tp_parse_int(word) : 0u;
  int offered = 0;
  for (size_t i = 0; rate != 0u && port_rate(i) != 0u; i++) {
    offered |= port_rate(i) == rate;
  }
  if (!offered) {
    tp_print("e-[tp-baud: ");
    tp_print_uint(rate);
    tp_print(" is not one of ");
    tp_print(tp_port_bauds());
    tp_print("]\r\n");
    return;
  }
  tp_print("m-tp-baud-[");
  tp_print_uint(rate);
  tp_print("]\r\n");
  pending_baud = rate;
}

/* Negotiation starts a session: a new host (or one that reconnected) numbers its frames from 1
 * again, so replies cached and fills begun for the old one must not serve the new one. */
static void forget_session(void) {
  for (size_t i = 0; i < REPLY_CACHE; i++) {
    if (&cache[i] != collecting) {
      cache[i].valid = 0;
    }
  }
  for (uint32_t i = 0; i < BUFFER_COUNT; i++) {
    end_fill(i);
  }
  queued = 0;
}

static void tp_caps(void) {
  forget_session();
  tp_print("m-tp-caps-[v=");
  tp_print_uint(EXTENSION_VERSION);
  tp_print(" frame=");
  tp_print_uint(TP_EXT_FRAME_BYTES);
  tp_print(" buffers=");
  tp_print_uint(BUFFER_COUNT);
  tp_print(" buffer-bytes=");
  tp_print_uint(TP_EXT_BUFFER_BYTES);
  tp_print(" features=crc,seq,slide,stream,exact bauds=");
  tp_print(tp_port_bauds());
  tp_print(" engine=");
  tp_print(tp_model_engine());
  tp_print(" arena=");
  tp_print_uint((uint32_t)tp_model_arena_used());
  tp_print("/");
  tp_print_uint((uint32_t)tp_model_arena_bytes());
#ifdef TP_MODEL_SHA256
  tp_print(" model=" TP_MODEL_SHA256); /* the model file's sha256, first digits: hosts check the model */
#endif
  tp_print("]\r\n");
}

int tp_extension_command(const char *word, char *rest) {
  char *cursor = rest;
  if (tp_same(word, "tp-caps")) {
    tp_caps();
  } else if (tp_same(word, "tp-infer")) {
    tp_infer(&cursor);
  } else if (tp_same(word, "tp-slide")) {
    tp_slide(&cursor);
  } else if (tp_same(word, "tp-baud")) {
    tp_baud(&cursor);
  } else if (tp_same(word, "tp-duty")) {
    tp_duty(&cursor);
  } else if (tp_same(word, "tp-profile")) {
    tp_profile(&cursor);
  } else {
    return 0;
  }
  return 1;
}
