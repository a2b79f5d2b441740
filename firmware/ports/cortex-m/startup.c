/* Cortex-M startup shared by the bare-metal ports: vector table, .data/.bss set-up, FPU on,
 * C++ constructors (TFLM has some), then main. Each port's linker script provides the symbols. */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
extern void __libc_init_array(void);
void tp_systick_handler(void);

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

/* Cortex-M4 system exceptions; ports do not use device interrupts. */
__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack), tp_reset_handler, hang, hang, hang, hang, hang, 0, 0, 0, 0,
    hang, hang, 0, hang, tp_systick_handler,
};
