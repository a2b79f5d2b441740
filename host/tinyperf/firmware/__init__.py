"""Our firmware on the host side: generate the model-specific sources, fetch pinned TFLM/CMSIS sources,
build with CMake or PlatformIO, flash and reset boards, and check an engine against TFLM bit for bit."""
