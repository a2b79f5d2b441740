/* Host port: the harness as a Linux process, for fast protocol tests and fuzzing.
 *
 *   tinyperf-dut            opens a pseudo-terminal, prints its path, serves it (a real tty)
 *   tinyperf-dut --stdio    serves stdin/stdout (scripts, transcripts)
 *
 * Time is CLOCK_MONOTONIC; an energy-mode timestamp pulse is reported on stderr.
 */
#define _DEFAULT_SOURCE /* cfmakeraw */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "port.h"

static int in_fd = STDIN_FILENO;
static int out_fd = STDOUT_FILENO;

void tp_port_init(void) {}

void tp_port_write(const char *text, size_t length) {
  while (length > 0) {
    ssize_t done = write(out_fd, text, length);
    if (done <= 0) {
      exit(0); /* the host went away */
    }
    text += done;
    length -= (size_t)done;
  }
}

int tp_port_read_char(void) {
  unsigned char c;
  return read(in_fd, &c, 1) == 1 ? c : -1;
}

int tp_port_poll_char(void) {
  struct pollfd ready = {.fd = in_fd, .events = POLLIN};
  if (poll(&ready, 1, 0) != 1 || !(ready.revents & POLLIN)) {
    return -1;
  }
  return tp_port_read_char();
}

/* A pty moves bytes at memory speed whatever its rate, but the rate is part of the termios it shares
 * with the host's end, so a switch (and a fallback) is visible there as on a board's UART. */
void tp_port_set_baud(uint32_t baud) {
  static const struct {
    uint32_t rate;
    speed_t speed;
  } speeds[] = {{115200u, B115200}, {230400u, B230400}, {460800u, B460800}, {921600u, B921600}, {2000000u, B2000000}};
  struct termios mode;
  if (!isatty(in_fd) || tcgetattr(in_fd, &mode) != 0) {
    return; /* --stdio */
  }
  for (size_t i = 0; i < sizeof speeds / sizeof speeds[0]; i++) {
    if (speeds[i].rate == baud) {
      cfsetispeed(&mode, speeds[i].speed);
      cfsetospeed(&mode, speeds[i].speed);
      tcsetattr(in_fd, TCSADRAIN, &mode);
    }
  }
}

const char *tp_port_bauds(void) { return "115200,230400,460800,921600,2000000"; }

uint32_t tp_port_time_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint32_t)((uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u);
}

/* Nanoseconds of CLOCK_MONOTONIC: a process has no cycle counter it may read portably. */
uint32_t tp_port_ticks(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint32_t)((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
}

uint32_t tp_port_ticks_hz(void) { return 1000000000u; }

void tp_port_sleep_until(uint32_t deadline_us) {
  int32_t left = (int32_t)(deadline_us - tp_port_time_us());
  if (left > 0) {
    struct timespec pause = {left / 1000000, (long)(left % 1000000) * 1000L};
    nanosleep(&pause, NULL);
  }
}

void tp_port_timestamp_pulse(void) { fprintf(stderr, "timestamp-pulse %u\n", tp_port_time_us()); }

/* A raw pty: no echo, no line editing, no CR/LF translation, like a UART. */
static int open_pty(void) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    perror("tinyperf-dut: cannot open a pseudo-terminal");
    exit(1);
  }
  struct termios mode;
  tcgetattr(master, &mode);
  cfmakeraw(&mode);
  tcsetattr(master, TCSANOW, &mode);
  /* Holding the slave open ourselves keeps reads blocking (not EIO) until a host opens it too. */
  if (open(ptsname(master), O_RDWR | O_NOCTTY) < 0) {
    perror("tinyperf-dut: cannot open the pseudo-terminal's slave side");
    exit(1);
  }
  return master;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--stdio") != 0) {
    fprintf(stderr, "usage: %s [--stdio]\n", argv[0]);
    return 2;
  }
  if (argc == 1) {
    in_fd = out_fd = open_pty();
  }
  tp_port_init();
  tp_harness_boot();
  if (argc == 1) {
    /* Announced after the boot banner is queued, so a host's open (which flushes input) always
     * discards the banner instead of racing it. */
    printf("%s\n", ptsname(in_fd));
    fflush(stdout);
  }
  tp_harness_serve();
  return 0;
}
