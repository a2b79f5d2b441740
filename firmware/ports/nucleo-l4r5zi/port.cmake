# NUCLEO-L4R5ZI: STM32L4R5 at 120 MHz, LPUART1 on the ST-LINK VCP, DWT cycle counter, D7 timestamp pin.
set(PORT_SOURCES "${PORT_DIR}/port_nucleo_l4r5zi.c" "${CMAKE_CURRENT_SOURCE_DIR}/ports/cortex-m/startup.c")
set(PORT_FLAGS -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard)
set(PORT_LINKER_SCRIPT "${PORT_DIR}/memory.ld")
list(APPEND PORT_FLAGS "-L${CMAKE_CURRENT_SOURCE_DIR}/ports/cortex-m")
