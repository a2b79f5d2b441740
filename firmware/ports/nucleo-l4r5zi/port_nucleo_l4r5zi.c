/* NUCLEO-L4R5ZI port: the MLPerf Tiny reference board.
 *
 * Clock: HSI16 -> PLL (M=1, N=15, R=2) = 120 MHz SYSCLK, range 1 boost, 5 flash wait states.
 * UART: LPUART1 on PG7/PG8 (AF8), the ST-LINK virtual COM port, clocked from HSI16 so its baud
 * does not depend on the PLL. Received bytes go into a ring from the receive interrupt, so frames
 * the host streams during an inference are kept (the receive register holds one byte). Time: DWT CYCCNT, a 32-bit cycle counter, extended to 64 bits.
 * Energy mode: the timestamp is a low pulse on Arduino D7 = PF13, wired to the monitor's trigger.
 *
 * Register-level (no HAL) so the same file builds under PlatformIO and Debian's arm-none-eabi-gcc.
 * Not run on silicon in tinyperf's CI (no board attached): see firmware/README.md.
 */
#include <stdint.h>

#include "port.h"
#include "stm32l4r5_registers.h"

#ifndef TP_BAUD
#define TP_BAUD 115200u
#endif
#define SYSCLK_HZ 120000000u
#define HSI16_HZ 16000000u
#define CYCLES_PER_US (SYSCLK_HZ / 1000000u)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_ENABLE_TICKINT_CPUCLK 0x7u
#define TIMESTAMP_PIN 13u /* PF13 */
#define LPUART_TX_PIN 7u  /* PG7 */
#define LPUART_RX_PIN 8u  /* PG8 */
#define AF8_LPUART1 8u

#define RX_RING_BYTES 8192u /* > the host's 4 data frames in flight plus a queued command */

static volatile uint8_t rx_ring[RX_RING_BYTES];
static volatile uint32_t rx_head; /* written by the interrupt */
static volatile uint32_t rx_tail; /* written by the main loop */
static uint32_t last_cycles;
static uint64_t cycles_high; /* wraps of CYCCNT, counted whenever time is read (every <= 35 s) */

static void wait_cycles(uint32_t count) {
  for (volatile uint32_t i = 0; i < count; i++) {
  }
}

/* RM0432 6.2.9: above 80 MHz, range 1 boost; step through AHB/2 while switching to the PLL. */
static void clock_120mhz(void) {
  RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
  PWR_CR5 &= ~PWR_CR5_R1MODE;
  while (PWR_SR2 & PWR_SR2_VOSF) {
  }
  FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | FLASH_ACR_LATENCY_5WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN |
              FLASH_ACR_DCEN;
  while ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != FLASH_ACR_LATENCY_5WS) {
  }
  RCC_CR |= RCC_CR_HSION;
  while (!(RCC_CR & RCC_CR_HSIRDY)) {
  }
  RCC_PLLCFGR = RCC_PLLCFGR_PLLSRC_HSI16 | (0u << RCC_PLLCFGR_PLLM_SHIFT) | (15u << RCC_PLLCFGR_PLLN_SHIFT) |
                (0u << RCC_PLLCFGR_PLLR_SHIFT) | RCC_PLLCFGR_PLLREN;
  RCC_CR |= RCC_CR_PLLON;
  while (!(RCC_CR & RCC_CR_PLLRDY)) {
  }
  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_HPRE_MASK) | RCC_CFGR_HPRE_DIV2;
  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
  while ((RCC_CFGR & RCC_CFGR_SWS_MASK) != RCC_CFGR_SWS_PLL) {
  }
  wait_cycles(200); /* >= 1 us at AHB/2 before full speed */
  RCC_CFGR &= ~RCC_CFGR_HPRE_MASK;
}

static void pin_alternate(uint32_t base, uint32_t pin, uint32_t function) {
  GPIO_MODER(base) = (GPIO_MODER(base) & ~(3u << (2u * pin))) | (2u << (2u * pin));
  volatile uint32_t *afr = pin < 8u ? &GPIO_AFRL(base) : &GPIO_AFRH(base);
  uint32_t shift = 4u * (pin % 8u);
  *afr = (*afr & ~(0xFu << shift)) | (function << shift);
}

static void lpuart1_init(void) {
  PWR_CR2 |= PWR_CR2_IOSV;
  RCC_AHB2ENR |= RCC_AHB2ENR_GPIOGEN;
  pin_alternate(GPIOG_BASE, LPUART_TX_PIN, AF8_LPUART1);
  pin_alternate(GPIOG_BASE, LPUART_RX_PIN, AF8_LPUART1);
  RCC_CCIPR = (RCC_CCIPR & ~(3u << RCC_CCIPR_LPUART1SEL_SHIFT)) |
              (RCC_CCIPR_LPUART1SEL_HSI16 << RCC_CCIPR_LPUART1SEL_SHIFT);
  RCC_APB1ENR2 |= RCC_APB1ENR2_LPUART1EN;
  LPUART_CR1 = 0u;
  tp_port_set_baud(TP_BAUD);
  NVIC_ISER(LPUART1_IRQN / 32u) = 1u << (LPUART1_IRQN % 32u);
}

/* Every device interrupt lands here (startup.c); LPUART1's is the only one enabled. A byte that
 * finds the ring full is dropped: its frame fails the CRC and the host resends it. */
void tp_irq_handler(void) {
  uint32_t status = LPUART_ISR;
  if (status & LPUART_ISR_ORE) {
    LPUART_ICR = LPUART_ICR_ORECF; /* an overrun stalls reception until cleared */
  }
  if (status & LPUART_ISR_RXNE) {
    uint8_t byte = (uint8_t)(LPUART_RDR & 0xFFu);
    uint32_t next = (rx_head + 1u) % RX_RING_BYTES;
    if (next != rx_tail) {
      rx_ring[rx_head] = byte;
      rx_head = next;
    }
  }
}

/* Waits for what was written to leave the shift register, then changes the rate (BRR needs UE=0). */
void tp_port_set_baud(uint32_t baud) {
  while ((LPUART_CR1 & LPUART_CR1_UE) && !(LPUART_ISR & LPUART_ISR_TC)) {
  }
  LPUART_CR1 = 0u;
  LPUART_BRR = (uint32_t)(((uint64_t)HSI16_HZ * 256u + baud / 2u) / baud); /* RM0432: 256 * f / baud */
  LPUART_CR1 = LPUART_CR1_TE | LPUART_CR1_RE | LPUART_CR1_RXNEIE | LPUART_CR1_UE;
}

/* LPUART needs BRR >= 0x300: up to 16 MHz * 256 / 768 = 5.3 Mbaud from HSI16. */
const char *tp_port_bauds(void) { return "115200,230400,460800,921600,2000000"; }

static void timestamp_pin_init(void) {
  RCC_AHB2ENR |= RCC_AHB2ENR_GPIOFEN;
  GPIO_BSRR(GPIOF_BASE) = 1u << TIMESTAMP_PIN; /* idle high */
  GPIO_MODER(GPIOF_BASE) = (GPIO_MODER(GPIOF_BASE) & ~(3u << (2u * TIMESTAMP_PIN))) | (1u << (2u * TIMESTAMP_PIN));
}

static void cycle_counter_init(void) {
  DEMCR |= DEMCR_TRCENA;
  DWT_CYCCNT = 0u;
  DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

void tp_port_init(void) {
  clock_120mhz();
  lpuart1_init();
  timestamp_pin_init();
  cycle_counter_init();
}

void tp_port_write(const char *text, size_t length) {
  for (size_t i = 0; i < length; i++) {
    while (!(LPUART_ISR & LPUART_ISR_TXE)) {
    }
    LPUART_TDR = (uint8_t)text[i];
  }
}

int tp_port_poll_char(void) {
  uint32_t tail = rx_tail;
  if (tail == rx_head) {
    return -1;
  }
  int byte = rx_ring[tail];
  rx_tail = (tail + 1u) % RX_RING_BYTES;
  return byte;
}

int tp_port_read_char(void) {
  for (;;) { /* spins rather than WFI: a byte stored just before a WFI would sleep until the next one */
    int byte = tp_port_poll_char();
    if (byte >= 0) {
      return byte;
    }
  }
}

uint32_t tp_port_time_us(void) {
  uint32_t now = DWT_CYCCNT;
  if (now < last_cycles) {
    cycles_high += 1ull << 32;
  }
  last_cycles = now;
  return (uint32_t)((cycles_high + now) / CYCLES_PER_US);
}

/* DWT CYCCNT: core clock cycles at 120 MHz. */
uint32_t tp_port_ticks(void) { return DWT_CYCCNT; }

uint32_t tp_port_ticks_hz(void) { return SYSCLK_HZ; }

/* WFI with SysTick ticking every millisecond to wake the core (the LPUART interrupt wakes it too), so
 * the sleep lasts no longer than the deadline plus 1 ms; SysTick is stopped again afterwards. Sleep
 * mode, not Stop: the UART and DWT keep running, and the wake-up takes a few cycles. */
void tp_port_sleep_until(uint32_t deadline_us) {
  SYST_RVR = SYSCLK_HZ / 1000u - 1u;
  SYST_CVR = 0u;
  SYST_CSR = SYST_ENABLE_TICKINT_CPUCLK;
  while ((int32_t)(deadline_us - tp_port_time_us()) > 0) {
    __asm volatile("wfi");
  }
  SYST_CSR = 0u;
}

void tp_port_timestamp_pulse(void) {
  GPIO_BSRR(GPIOF_BASE) = 1u << (TIMESTAMP_PIN + 16u); /* low */
  uint32_t start = DWT_CYCCNT;
  while (DWT_CYCCNT - start < 2u * CYCLES_PER_US) { /* hold >= 1 us, with margin */
  }
  GPIO_BSRR(GPIOF_BASE) = 1u << TIMESTAMP_PIN;
}
