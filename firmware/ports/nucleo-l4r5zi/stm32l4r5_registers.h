/* The few STM32L4R5 registers the port touches (RM0432), named as the reference manual names them.
 * Kept here instead of ST's CMSIS device pack so the port builds with a bare arm-none-eabi-gcc. */
#ifndef TP_STM32L4R5_REGISTERS_H
#define TP_STM32L4R5_REGISTERS_H

#include <stdint.h>

#define REG(address) (*(volatile uint32_t *)(address))

#define FLASH_ACR REG(0x40022000u)
#define FLASH_ACR_LATENCY_5WS 5u
#define FLASH_ACR_LATENCY_MASK 0xFu
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

#define PWR_CR1 REG(0x40007000u)
#define PWR_CR2 REG(0x40007004u)
#define PWR_SR2 REG(0x40007014u)
#define PWR_CR5 REG(0x40007080u)
#define PWR_CR2_IOSV (1u << 9)     /* VDDIO2 valid: port G pins PG2..PG15 (LPUART1) need it */
#define PWR_CR5_R1MODE (1u << 8)   /* 0 = range 1 boost mode, needed above 80 MHz */
#define PWR_SR2_VOSF (1u << 10)

#define RCC_CR REG(0x40021000u)
#define RCC_CFGR REG(0x40021008u)
#define RCC_PLLCFGR REG(0x4002100Cu)
#define RCC_AHB2ENR REG(0x4002104Cu)
#define RCC_APB1ENR1 REG(0x40021058u)
#define RCC_APB1ENR2 REG(0x4002105Cu)
#define RCC_CCIPR REG(0x40021088u)
#define RCC_CR_HSION (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_PLL 3u
#define RCC_CFGR_SW_MASK 3u
#define RCC_CFGR_SWS_PLL (3u << 2)
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_HPRE_MASK (0xFu << 4)
#define RCC_CFGR_HPRE_DIV2 (8u << 4)
#define RCC_PLLCFGR_PLLSRC_HSI16 2u
#define RCC_PLLCFGR_PLLM_SHIFT 4
#define RCC_PLLCFGR_PLLN_SHIFT 8
#define RCC_PLLCFGR_PLLREN (1u << 24)
#define RCC_PLLCFGR_PLLR_SHIFT 25
#define RCC_AHB2ENR_GPIOFEN (1u << 5)
#define RCC_AHB2ENR_GPIOGEN (1u << 6)
#define RCC_APB1ENR1_PWREN (1u << 28)
#define RCC_APB1ENR2_LPUART1EN (1u << 0)
#define RCC_CCIPR_LPUART1SEL_SHIFT 10
#define RCC_CCIPR_LPUART1SEL_HSI16 2u

#define GPIOF_BASE 0x48001400u
#define GPIOG_BASE 0x48001800u
#define GPIO_MODER(base) REG((base) + 0x00u)
#define GPIO_OSPEEDR(base) REG((base) + 0x08u)
#define GPIO_PUPDR(base) REG((base) + 0x0Cu)
#define GPIO_BSRR(base) REG((base) + 0x18u)
#define GPIO_AFRL(base) REG((base) + 0x20u)
#define GPIO_AFRH(base) REG((base) + 0x24u)

#define LPUART1_BASE 0x40008000u
#define LPUART_CR1 REG(LPUART1_BASE + 0x00u)
#define LPUART_BRR REG(LPUART1_BASE + 0x0Cu)
#define LPUART_ISR REG(LPUART1_BASE + 0x1Cu)
#define LPUART_ICR REG(LPUART1_BASE + 0x20u)
#define LPUART_RDR REG(LPUART1_BASE + 0x24u)
#define LPUART_TDR REG(LPUART1_BASE + 0x28u)
#define LPUART_CR1_UE (1u << 0)
#define LPUART_CR1_RE (1u << 2)
#define LPUART_CR1_TE (1u << 3)
#define LPUART_ISR_ORE (1u << 3)
#define LPUART_ISR_RXNE (1u << 5)
#define LPUART_ISR_TXE (1u << 7)
#define LPUART_ISR_TC (1u << 6)
#define LPUART_CR1_RXNEIE (1u << 5)
#define LPUART1_IRQN 70u /* RM0432 table 58 */
#define NVIC_ISER(n) REG(0xE000E100u + 4u * (n))
#define LPUART_ICR_ORECF (1u << 3)

/* Cortex-M4 core debug: the cycle counter */
#define DEMCR REG(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define DWT_CTRL_CYCCNTENA 1u

#endif
