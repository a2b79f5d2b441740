"""Firmware builds: generate the model-specific sources, then compile with CMake or PlatformIO."""
