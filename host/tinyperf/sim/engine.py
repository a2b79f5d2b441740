"""Runs the model bit-exactly with TFLM's own host interpreter, as the firmware would."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinyperf.benchmarks.device_math import buffer_to_model_input, results_vector
from tinyperf.models import BinFormat


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
        self.input_scale = float(inp["quantization_parameters"]["scales"][0])
        self.input_zero_point = int(inp["quantization_parameters"]["zero_points"][0])
        self.output_scale = float(out["quantization_parameters"]["scales"][0])
        self.output_zero_point = int(out["quantization_parameters"]["zero_points"][0])
        self.input_bytes = int(np.prod(self.input_shape)) * (4 if bin_format == "float32_quantize" else 1)
        self.host_seconds = 0.0

    def run(self, data: bytes) -> list[float]:
        started = time.perf_counter()
        x = buffer_to_model_input(data, self.bin_format, self.input_scale, self.input_zero_point)
        self.interpreter.set_input(x.reshape(self.input_shape).astype(self.input_dtype), 0)
        self.interpreter.invoke()
        output = self.interpreter.get_output(0)
        self.host_seconds += time.perf_counter() - started
        return results_vector(output, self.output_scale, self.output_zero_point, self.bin_format, data)
