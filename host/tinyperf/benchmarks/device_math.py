"""What MLPerf Tiny firmware does between an input buffer and its `m-results` line.

Used by the simulated board. Kept apart from the host-side scoring so that a test can compare
the device's printed results with an independent computation.
"""

from __future__ import annotations

import numpy as np

from tinyperf.models import BinFormat


def buffer_to_model_input(data: bytes, bin_format: BinFormat, scale: float, zero_point: int) -> np.ndarray:
    """The device's conversion of a loaded buffer into the model's int8 input."""
    if bin_format == "int8":
        return np.frombuffer(data, dtype=np.int8).copy()
    if bin_format == "uint8_minus_128":
        return (np.frombuffer(data, dtype=np.uint8).astype(np.int16) - 128).astype(np.int8)
    floats = np.frombuffer(data, dtype="<f4")
    quantized = np.round(floats / scale) + zero_point
    return np.clip(quantized, -128, 127).astype(np.int8)


def dequantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (values.astype(np.float32) - zero_point) * np.float32(scale)


def results_vector(
    output: np.ndarray, out_scale: float, out_zero_point: int, bin_format: BinFormat, data: bytes
) -> list[float]:
    """Class scores for classifiers; for the AD autoencoder one value, the reconstruction MSE."""
    scores = dequantize(output.reshape(-1), out_scale, out_zero_point)
    if bin_format != "float32_quantize":
        return [float(v) for v in scores]
    original = np.frombuffer(data, dtype="<f4")
    return [float(np.mean((original - scores) ** 2))]


def format_results(values: list[float]) -> str:
    """Reference firmware prints '%0.3f' values, comma separated, in brackets."""
    return "[" + ",".join(f"{v:0.3f}" for v in values) + "]"
