/* Cortex-M startup shared by the bare-metal ports: vector table, .data/.bss set-up, FPU on,
 * C++ constructors (TFLM has some), then main. Each port's linker script provides the symbols. */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
extern void __libc_init_array(void);
void tp_systick_handler(void);
void tp_irq_handler(void);

#define CPACR (*(volatile uint32_t *)0xE000ED88u)

static void hang(void) {
  for (;;) {
  }
}

void tp_reset_handler(void) {
  uint32_t *from = &_sidata;
  for (uint32_t *to = &_sdata; to < &_edata;) {
    *to++ = *from++;
  }
  for (uint32_t *to = &_sbss; to < &_ebss;) {
    *to++ = 0u;
  }
  CPACR |= 0xFu << 20; /* CP10 and CP11 full access: the FPU, which -mfloat-abi=hard code uses */
  __asm volatile("dsb\n isb");
  __libc_init_array();
  main();
  hang();
}

__attribute__((weak)) void tp_systick_handler(void) {}

/* Device interrupts: a port that enables one defines this (the nucleo port: its UART receiver). */
__attribute__((weak)) void tp_irq_handler(void) { hang(); }

#define DEVICE_IRQS 96 /* STM32L4R5 has 95; AN386 fewer: unused entries cost 4 bytes each */

/* Cortex-M4 system exceptions, then every device interrupt to one handler. */
__attribute__((section(".isr_vector"), used)) static void (*const vectors[16 + DEVICE_IRQS])(void) = {
    (void (*)(void))(&_estack), tp_reset_handler, hang, hang, hang, hang, hang, 0, 0, 0, 0,
    hang, hang, 0, hang, tp_systick_handler,
    [16 ... 16 + DEVICE_IRQS - 1] = tp_irq_handler,
};
