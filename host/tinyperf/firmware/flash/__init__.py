"""Putting firmware on a board (OpenOCD, pyOCD, st-flash, PlatformIO, QEMU) and checking it answers."""
