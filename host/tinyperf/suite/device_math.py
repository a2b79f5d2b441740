"""What MLPerf Tiny firmware does between an input buffer and its `m-results` line.

Used by the simulated board. Kept apart from the host-side scoring so that a test can compare
the device's printed results with an independent computation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from tinyperf.suite.models import BinFormat


def buffer_to_model_input(data: bytes, bin_format: BinFormat, scale: float, zero_point: int) -> np.ndarray:
    """The device's conversion of a loaded buffer into the model's input tensor values."""
    if bin_format == "int8":
        return np.frombuffer(data, dtype=np.int8).copy()
    if bin_format == "uint8_minus_128":
        return (np.frombuffer(data, dtype=np.uint8).astype(np.int16) - 128).astype(np.int8)
    if bin_format == "float32":
        return np.frombuffer(data, dtype="<f4").copy()
    if bin_format == "uint8_to_float32":
        return np.frombuffer(data, dtype=np.uint8).astype(np.float32)
    floats = np.frombuffer(data, dtype="<f4")
    quantized = np.round(floats / scale) + zero_point
    return np.clip(quantized, -128, 127).astype(np.int8)


def wire_values(data: bytes, bin_format: BinFormat) -> np.ndarray:
    """The input as the numbers the dataset meant (what an autoencoder's output is compared with)."""
    if bin_format in ("float32", "float32_quantize"):
        return np.frombuffer(data, dtype="<f4").astype(np.float32)
    return np.frombuffer(data, dtype=np.uint8 if bin_format != "int8" else np.int8).astype(np.float32)


def dequantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    if np.issubdtype(values.dtype, np.floating):  # a float output tensor needs no dequantisation
        return values.astype(np.float32)
    return (values.astype(np.float32) - zero_point) * np.float32(scale)


def results_vector(
    output: np.ndarray, out_scale: float, out_zero_point: int, bin_format: BinFormat, data: bytes,
    autoencoder: bool = False,
) -> list[float]:
    """Class scores for classifiers; for the AD autoencoder one value, the reconstruction MSE."""
    scores = dequantize(output.reshape(-1), out_scale, out_zero_point)
    if not autoencoder:
        return [float(v) for v in scores]
    return [reconstruction_error(wire_values(data, bin_format), scores)]


def reconstruction_error(wire: np.ndarray, output: np.ndarray) -> float:
    """Mean squared difference as the firmware's C loop computes it: float32, summed element by element
    in order (np.cumsum is sequential; np.mean would sum pairwise and differ in the last bits)."""
    diff = (wire.astype(np.float32) - output.astype(np.float32)).astype(np.float32)
    total = np.cumsum(diff * diff, dtype=np.float32)[-1]
    return float(total / np.float32(len(diff)))


def format_results(values: list[float]) -> str:
    """'%0.3f' values, comma separated, in brackets: our own firmware, IC and AD reference firmware."""
    return "[" + ",".join(f"{v:0.3f}" for v in values) + "]"


ResultStyle = Literal["reference", "printf3"]


def kws_truncated(value: float) -> str:
    """The KWS reference firmware's score: '0.%d%d%d' of int(x*10), int(x*100)%10, int(x*1000)%10, each
    product in float32 and cut toward zero (so 0.9296875 prints 0.929, and 1.0 prints 0.1000)."""
    x = np.float32(value)
    tenths, hundredths, thousandths = (int(x * np.float32(k)) for k in (10, 100, 1000))
    return f"0.{tenths}{hundredths % 10}{thousandths % 10}"


def reference_results(benchmark: str, values: list[float], style: ResultStyle = "reference") -> str:
    """The bracketed results of `m-results-`, as the reference firmware of `benchmark` prints them:
    KWS truncates each score, VWW ends its two scores with a comma (it loops to 3), IC and AD print
    '%0.3f'. `printf3` is plain '%0.3f' for every benchmark (tinyperf's own firmware)."""
    if style == "printf3":
        return format_results(values)
    if benchmark == "kws01":
        return "[" + ",".join(kws_truncated(v) for v in values) + "]"
    if benchmark == "vww01":
        return "[" + "".join(f"{v:0.3f}," for v in values) + "]"
    return format_results(values)


def exact_results(values: list[float]) -> str:
    """Each output's float32 bits as 8 hex digits: `[3f6e0000,...]` (the extension's exact results)."""
    return "[" + ",".join(np.float32(v).view(np.uint32).item().to_bytes(4, "big").hex() for v in values) + "]"

