"""The reference firmware's detection loop over a whole stream, run with TFLM's host interpreter.

Per 512-sample chunk (th_process_chunk_and_cont_streaming): features of the last 1024 samples, shift
them into a 30 x 40 int8 input that starts as zeros (int8 0, not the features' -128 floor), run the
model, and pulse WW_DETECTED when output[0] (int8) > 115 (0.949 dequantised), and on the first frame
of every `start` (the t = 0 marker the interface board's timestamps are measured from).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.sim.board.engine import interpreter_quantization
from tinyperf.suite.sww.frontend import FRAMES_IN_INPUT, MELS, log_mel_features, quantize

DETECT_THRESHOLD = 115  # int8 output[0] strictly above this is a detection (sww_ref_util.h)


@dataclass(frozen=True)
class FrameOutputs:
    """What the device computed for each frame it processed."""

    activations: np.ndarray  # int8 output[0] per frame, as `stop` prints them ("target activations")
    detections: np.ndarray  # indices of frames that pulsed WW_DETECTED (frame 0, the marker, included)


class StreamModel:
    """One TFLM interpreter for the sww01 model (or a custom one with its input shape)."""

    def __init__(self, model_path: Path) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self.interpreter = runtime.Interpreter.from_bytes(model_path.read_bytes())
        details = self.interpreter.get_input_details(0)
        self.input_shape = tuple(int(d) for d in details["shape"])
        self.input_scale = interpreter_quantization(details)[0] or 1.0  # a float input has no scale
        if int(np.prod(self.input_shape)) != FRAMES_IN_INPUT * MELS:
            raise ValueError(f"{model_path}: input {list(self.input_shape)} is not 30 frames x 40 features")

    def output0(self, model_input: np.ndarray) -> int:
        self.interpreter.set_input(model_input.reshape(self.input_shape), 0)
        self.interpreter.invoke()
        return int(self.interpreter.get_output(0).reshape(-1)[0])


def run_stream(model: StreamModel, samples: np.ndarray, first_frame: bool = True,
               on_frames: Callable[[int], None] | None = None, every: int = 256) -> FrameOutputs:
    """Every frame of `samples` (int16, 16 kHz) through front end and model, as the device after `start`
    (`first_frame`: the first frame pulses WW_DETECTED whatever the model says). `on_frames(done)` is
    called after every `every` frames and at the end (a simulated board reports its time as it goes)."""
    features = quantize(log_mel_features(samples), model.input_scale)
    window = np.zeros((FRAMES_IN_INPUT, MELS), np.int8)
    activations = np.zeros(len(features), np.int8)
    detections = []
    first = first_frame
    for k, frame in enumerate(features):
        window[:-1] = window[1:]
        window[-1] = frame
        out = model.output0(window)
        activations[k] = out
        if out > DETECT_THRESHOLD or first:
            detections.append(k)
            first = False
        if on_frames is not None and ((k + 1) % every == 0 or k + 1 == len(features)):
            on_frames(k + 1)
    return FrameOutputs(activations, np.array(detections, dtype=np.int64))
