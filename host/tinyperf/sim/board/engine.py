"""Runs the model bit-exactly with TFLM's own host interpreter, as the firmware would."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinyperf.suite.device_math import buffer_to_model_input, results_vector
from tinyperf.suite.models import BYTES_PER_ELEMENT, BinFormat


class TflmEngine:
    """One interpreter; `run(buffer)` copies the input in before every invoke (unlike reference firmware)."""

    def __init__(self, model_path: Path, bin_format: BinFormat) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self.interpreter = runtime.Interpreter.from_bytes(model_path.read_bytes())
        self.bin_format = bin_format
        inp = self.interpreter.get_input_details(0)
        out = self.interpreter.get_output_details(0)
        self.input_shape = tuple(int(d) for d in inp["shape"])
        self.input_dtype = inp["dtype"]
        self.input_scale, self.input_zero_point = interpreter_quantization(inp)
        self.output_scale, self.output_zero_point = interpreter_quantization(out)
        self.input_bytes = int(np.prod(self.input_shape)) * BYTES_PER_ELEMENT[bin_format]
        # an autoencoder (ad01) reports its reconstruction error instead of its outputs
        self.autoencoder = int(np.prod(self.input_shape)) == int(np.prod(out["shape"]))
        self.host_seconds = 0.0

    def run(self, data: bytes) -> list[float]:
        started = time.perf_counter()
        # like firmware, infer on the buffer as it is: nothing loaded reads as zeros, never a crash
        data = bytes(data[: self.input_bytes]).ljust(self.input_bytes, b"\0")
        x = buffer_to_model_input(data, self.bin_format, self.input_scale, self.input_zero_point)
        self.interpreter.set_input(x.reshape(self.input_shape).astype(self.input_dtype), 0)
        self.interpreter.invoke()
        output = self.interpreter.get_output(0)
        self.host_seconds += time.perf_counter() - started
        return results_vector(output, self.output_scale, self.output_zero_point, self.bin_format, data,
                              self.autoencoder)


def interpreter_quantization(details: dict) -> tuple[float, int]:
    """Scale and zero point of a tensor; float tensors have none (0.0, 0)."""
    scales = details["quantization_parameters"]["scales"]
    zero_points = details["quantization_parameters"]["zero_points"]
    return (float(scales[0]), int(zero_points[0])) if len(scales) else (0.0, 0)
