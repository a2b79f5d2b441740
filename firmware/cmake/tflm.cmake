# TP_ENGINE=tflm: TensorFlow Lite Micro, compiled from the file list `tinyperf build` writes into
# TP_GENERATED_DIR/engine_sources.cmake (TFLM's own sources.inc, just the model's kernels, reference or
# CMSIS-NN). TP_ENGINE_LIBRARY names that list already built (tinyperf caches it per TFLM commit,
# kernels and board); without it the library is built here, by the same recipe, with the port's flags.
if(NOT EXISTS "${TP_GENERATED_DIR}/engine_sources.cmake")
  message(FATAL_ERROR "TP_ENGINE=tflm needs ${TP_GENERATED_DIR}/engine_sources.cmake; `tinyperf build --engine tflm` "
                      "writes it (with --tflm-dir DIR, or online: the pinned TFLM is downloaded)")
endif()
include("${TP_GENERATED_DIR}/engine_sources.cmake") # TP_ENGINE_SOURCES, TP_ENGINE_INCLUDES, TP_ENGINE_DEFINES
include("${CMAKE_CURRENT_LIST_DIR}/tflm_engine.cmake")
set(ENGINE_SOURCES model/tflm_runner.cc "${TP_GENERATED_DIR}/model_data.cc")
set(ENGINE_INCLUDES ${TP_ENGINE_INCLUDES})
if(TP_ENGINE_LIBRARY)
  set(ENGINE_LIBRARIES "${TP_ENGINE_LIBRARY}")
else()
  tp_add_tflm_engine(${PORT_FLAGS})
  set(ENGINE_LIBRARIES tflm_engine)
endif()
