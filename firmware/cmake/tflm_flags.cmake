# Compile settings every TFLM translation unit shares, whether built into the firmware or into the cached
# engine library (firmware/engine): the two must agree, or the library and the runner disagree on types.
add_compile_definitions(${TP_ENGINE_DEFINES})
# no TF_LITE_STRIP_ERROR_STRINGS: it compiles out TFLM's per-operator profiling hook (tp-profile needs it)
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} -fno-rtti -fno-exceptions -fno-threadsafe-statics -Wno-unused-parameter")
