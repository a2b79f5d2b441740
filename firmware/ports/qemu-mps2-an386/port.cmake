# QEMU mps2-an386: Cortex-M4F, CMSDK UART0, SysTick timing (QEMU has no DWT cycle counter).
set(PORT_SOURCES "${PORT_DIR}/port_qemu_mps2.c" "${CMAKE_CURRENT_SOURCE_DIR}/ports/cortex-m/startup.c")
set(PORT_FLAGS -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard)
set(PORT_LINKER_SCRIPT "${PORT_DIR}/memory.ld")
# sections.ld is INCLUDEd from the port's script
list(APPEND PORT_FLAGS "-L${CMAKE_CURRENT_SOURCE_DIR}/ports/cortex-m")
