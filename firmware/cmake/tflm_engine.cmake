# The TFLM engine's one recipe, shared by the firmware build (cmake/tflm.cmake) and the cached engine
# library (engine/CMakeLists.txt): the settings every TFLM translation unit and the runner agree on, and
# tp_add_tflm_engine(PORT_FLAGS...), which compiles TP_ENGINE_SOURCES into the static library tflm_engine.
add_compile_definitions(${TP_ENGINE_DEFINES})
# no TF_LITE_STRIP_ERROR_STRINGS: it compiles out TFLM's per-operator profiling hook (tp-profile needs it)
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} -fno-rtti -fno-exceptions -fno-threadsafe-statics -Wno-unused-parameter")

function(tp_add_tflm_engine)
  add_library(tflm_engine STATIC ${TP_ENGINE_SOURCES})
  target_include_directories(tflm_engine PRIVATE ${TP_ENGINE_INCLUDES})
  # ARGN: the port's CPU and float ABI flags, the same the firmware is compiled with; TFLM's own warnings off
  target_compile_options(tflm_engine PRIVATE ${ARGN} -w)
endfunction()
