"""Simulated boards: the device side of the protocol on a pseudo-terminal, inference by TFLM."""
