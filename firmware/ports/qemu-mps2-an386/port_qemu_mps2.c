/* QEMU mps2-an386 port.
 *
 * UART: CMSDK APB UART0 (QEMU's -serial). Time: SysTick from the 25 MHz CPU clock, one interrupt
 * per millisecond plus the counter for the microseconds in between. Run under `-icount shift=0`,
 * QEMU advances virtual time 1 ns per guest instruction, so these microseconds are an instruction
 * count (1 us = 1000 instructions): deterministic, labelled emulated, never a board's latency.
 * Received bytes are polled: QEMU holds them back while the 1-byte receive register is full (no loss),
 * which a real board's UART does not: the nucleo port buffers them from an interrupt.
 */
#include <stdint.h>

#include "port.h"

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define UART_STATE_TX_FULL 0x1u
#define UART_STATE_RX_FULL 0x2u
#define UART_CTRL_TX_RX_ENABLE 0x3u

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_ENABLE_TICKINT_CPUCLK 0x7u

#define FPGAIO_LED (*(volatile uint32_t *)0x40028000u)

#define CPU_HZ 25000000u
#define TICKS_PER_US (CPU_HZ / 1000000u)
#define TICKS_PER_MS (CPU_HZ / 1000u)
#define BAUD 115200u

static volatile uint32_t milliseconds;

void tp_systick_handler(void) { milliseconds++; }

void tp_port_init(void) {
  UART_BAUDDIV = CPU_HZ / BAUD;
  UART_CTRL = UART_CTRL_TX_RX_ENABLE;
  SYST_RVR = TICKS_PER_MS - 1u;
  SYST_CVR = 0u;
  SYST_CSR = SYST_ENABLE_TICKINT_CPUCLK;
}

void tp_port_write(const char *text, size_t length) {
  for (size_t i = 0; i < length; i++) {
    while (UART_STATE & UART_STATE_TX_FULL) {
    }
    UART_DATA = (uint8_t)text[i];
  }
}

int tp_port_read_char(void) {
  while (!(UART_STATE & UART_STATE_RX_FULL)) {
  }
  return (int)(UART_DATA & 0xFFu);
}

int tp_port_poll_char(void) { return (UART_STATE & UART_STATE_RX_FULL) ? (int)(UART_DATA & 0xFFu) : -1; }

/* QEMU's UART model moves bytes at the host's pace whatever BAUDDIV says; set it as a board would. */
void tp_port_set_baud(uint32_t baud) { UART_BAUDDIV = CPU_HZ / baud; }

const char *tp_port_bauds(void) { return "115200,230400,460800,921600,2000000"; }

/* Millisecond count and the ticks into it, read together: retried if a tick interrupt fell in between. */
static uint32_t read_clock(uint32_t *ticks_into_ms) {
  uint32_t ms;
  uint32_t counter;
  do {
    ms = milliseconds;
    counter = SYST_CVR;
  } while (ms != milliseconds);
  *ticks_into_ms = TICKS_PER_MS - 1u - counter;
  return ms;
}

uint32_t tp_port_time_us(void) {
  uint32_t ticks;
  uint32_t ms = read_clock(&ticks);
  return ms * 1000u + ticks / TICKS_PER_US;
}

/* SysTick's 25 MHz count, the finest timer the board has (QEMU models no DWT): under -icount shift=0 a
 * tick is 40 ns of virtual time, i.e. 40 guest instructions, not a cycle of any silicon. */
uint32_t tp_port_ticks(void) {
  uint32_t ticks;
  uint32_t ms = read_clock(&ticks);
  return ms * TICKS_PER_MS + ticks;
}

uint32_t tp_port_ticks_hz(void) { return CPU_HZ; }

/* WFI until the deadline; the 1 ms SysTick interrupt wakes the core to look. QEMU halts the vCPU in
 * WFI, so the guest really idles (under -icount, virtual time then follows the host's clock). */
void tp_port_sleep_until(uint32_t deadline_us) {
  while ((int32_t)(deadline_us - tp_port_time_us()) > 0) {
    __asm volatile("wfi");
  }
}

/* No energy monitor can watch QEMU: the pulse only blinks the FPGA LED register. */
void tp_port_timestamp_pulse(void) {
  FPGAIO_LED = 0u;
  uint32_t start = tp_port_time_us();
  while (tp_port_time_us() - start < 2u) {
  }
  FPGAIO_LED = 1u;
}
