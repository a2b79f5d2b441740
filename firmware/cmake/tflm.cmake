# TP_ENGINE=tflm: compile a TensorFlow Lite Micro tree made by TFLM's create_tflm_tree.py
# (tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py <dir>), given as TFLM_DIR.
if(NOT TFLM_DIR OR NOT EXISTS "${TFLM_DIR}/tensorflow/lite/micro/micro_interpreter.h")
  message(FATAL_ERROR "TP_ENGINE=tflm needs TFLM_DIR: a tree from TFLM's create_tflm_tree.py "
                      "(pinned commit: see firmware/README.md). Without one, build TP_ENGINE=test.")
endif()
file(GLOB_RECURSE TFLM_SOURCES CONFIGURE_DEPENDS
     "${TFLM_DIR}/tensorflow/*.cc" "${TFLM_DIR}/tensorflow/*.c" "${TFLM_DIR}/signal/*.cc")
list(FILTER TFLM_SOURCES EXCLUDE REGEX "_test\\.cc$|/examples/|/benchmarks/|/tools/")
set(ENGINE_SOURCES model/tflm_runner.cc "${TP_GENERATED_DIR}/model_data.cc" ${TFLM_SOURCES})
set(ENGINE_INCLUDES "${TFLM_DIR}" "${TFLM_DIR}/third_party/flatbuffers/include"
    "${TFLM_DIR}/third_party/gemmlowp" "${TFLM_DIR}/third_party/ruy" "${TFLM_DIR}/third_party/kissfft")
# no TF_LITE_STRIP_ERROR_STRINGS: it compiles out TFLM's per-operator profiling hook (tp-profile needs it)
add_compile_definitions(TF_LITE_STATIC_MEMORY)
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} -fno-rtti -fno-exceptions -fno-threadsafe-statics -Wno-unused-parameter")
