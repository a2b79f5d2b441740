"""A simulated sww01 device: the streaming wakeword reference firmware's commands, and what it does to the
audio the interface board plays into it over I2S (sww_ref_util.c, sww_ref_util_submitter.c).

Commands (each answered after `Received command: <cmd>`, ended by `m-ready`): `name`, `profile`, `start`
(timestamp GPIO edge: power measurement begins; the first frame will pulse WW_DETECTED as a t = 0
marker), `stop` (edge again; prints every frame's int8 output[0] as `target activations:`), `state`,
`help`; anything else `Unrecognized command <cmd>`.
Per 32 ms frame, PROCESSING is high from the chunk's arrival (or the end of the previous frame, if the
board is slower than real time) for the cycle model's front end + model time; a detection pulses
WW_DETECTED at the end of its frame's processing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tinyperf.device.boards import Board
from tinyperf.sim.board.clock import Pacing, SimClock
from tinyperf.sim.wire import ACTIVE, IDLE, PowerWireSender
from tinyperf.suite.sww.detector import StreamModel, run_stream
from tinyperf.suite.sww.frontend import SAMPLE_RATE, STRIDE
from tinyperf.suite.sww.truth import read_wav
from tinyperf.suite.tflite_info import read_model_info_file

VENDOR = "ML Commons"
FIRMWARE = "MLPerf Tiny Firmware V0.1.0"
ACTIVATION_BUFFER = 64000  # g_gp_buff_bytes: output[0] of at most this many frames is kept
FRAME_S = STRIDE / SAMPLE_RATE


@dataclass
class PlayedStream:
    """What the interface board sees while a file plays: GPIO pulses, in device seconds."""

    detections_s: list[float] = field(default_factory=list)
    processing: list[tuple[float, float]] = field(default_factory=list)


class SwwDevice:
    def __init__(self, board: Board, model_path: Path, pacing: Pacing, timing: str | None = None,
                 power_wire: PowerWireSender | None = None) -> None:
        profile = board.timing_named(timing or board.streaming_timing)
        info = read_model_info_file(model_path)
        self.frame_processing_s = (profile.inference_cycles(info) + profile.frontend_cycles) / board.clock_hz
        self.model = StreamModel(model_path)
        self.clock = SimClock(pacing)
        self.power_wire = power_wire
        self.streaming = False
        self.first_frame = True
        self.activations: list[int] = []

    def now_s(self) -> float:
        return self.clock.now_us() / 1e6

    def handle(self, command: str) -> bytes:
        lines = [f"Received command: {command}"]
        word = command.split(" ", 1)[0]
        if word == "name":
            lines.append(f"m-name-dut-[{VENDOR}]")
        elif word == "profile":
            lines += [f"m-profile-[{FIRMWARE}]", "m-model-[sww01]"]
        elif word == "start":
            lines += self._start()
        elif word == "stop":
            lines += self._stop()
        elif word == "state":
            lines.append(f"g_i2s_state = {1 if self.streaming else 0}, g_int16s_read=0")
        elif word == "help":
            lines.append("name, profile, start, stop, state, help")
        elif not word:
            lines.append("Empty command (only a % read).  Type 'help%' for help")
        else:
            lines.append(f"Unrecognized command {command}")
        lines.append("m-ready")
        return "".join(f"{line}\r\n" for line in lines).encode("latin-1", "replace")

    def _edge(self) -> None:
        if self.power_wire is not None:
            self.power_wire.edge(self.now_s())

    def _start(self) -> list[str]:
        if self.streaming:
            return ["I2S Rx currently in progress. Ignoring request"]
        self.streaming, self.first_frame = True, True
        self.activations = []
        self._edge()
        return ["Listening for I2S data ... ", "DMA receive initiated. status=0, state=34"]

    def _stop(self) -> list[str]:
        if not self.streaming:
            return ["I2S is already idle.  Ignoring stop request"]
        self.streaming = False
        self._edge()
        return ["Streaming stopped.", "target activations: ", print_vals_int8(self.activations[:ACTIVATION_BUFFER])]

    def play(self, wav: Path) -> PlayedStream:
        """The interface board plays `wav` (it has checked it is a 2-channel WAV); blocks for its length.
        Board time and the monitor's view move on as the frames are computed, a few seconds at a time."""
        started = self.now_s()
        samples = read_wav(wav)
        seconds = len(samples) / SAMPLE_RATE
        played = PlayedStream()
        if not self.streaming or len(samples) < STRIDE:  # nobody listens on I2S: the audio goes by
            self.clock.spend(seconds)
            return played
        reported = 0

        def frames_done(done: int) -> None:
            nonlocal reported
            end = played.processing[-1][1] if played.processing else started
            for k in range(reported, done):
                arrival = started + (k + 1) * FRAME_S
                begin = max(arrival, end)
                end = begin + self.frame_processing_s
                played.processing.append((begin, end))
            self._tell_monitor(played.processing[reported:done])
            # the board is busy until its last frame is done: nothing it says later can be earlier
            self.clock.spend(max(started + done * FRAME_S, end) - self.now_s())
            if self.power_wire is not None:
                self.power_wire.now(self.now_s())
            reported = done

        outputs = run_stream(self.model, samples, self.first_frame, frames_done)
        self.activations += [int(v) for v in outputs.activations]
        played.detections_s = [played.processing[k][1] for k in outputs.detections]
        self.first_frame = False
        self.clock.spend(max(0.0, started + seconds - self.now_s()))
        return played

    def _tell_monitor(self, processing: list[tuple[float, float]]) -> None:
        """One pulse-train message when every frame began on its chunk's arrival, else a pair per frame."""
        if self.power_wire is None or not processing:
            return
        first = processing[0][0]
        if all(abs(b - first - k * FRAME_S) < 1e-9 for k, (b, _) in enumerate(processing)):
            self.power_wire.pulses(first, FRAME_S, self.frame_processing_s, len(processing))
            return
        for begin, end in processing:
            self.power_wire.state(begin, ACTIVE)
            self.power_wire.state(end, IDLE)


def print_vals_int8(values: list[int]) -> str:
    """ee_print_vals_int8: `[`, 16 values a line as `%d, ` (the last `%d  `), CRLF each, then `]`."""
    text = "["
    for i in range(0, len(values), 16):
        row = values[i : i + 16]
        text += "".join(f"{v}{' ' if i + j == len(values) - 1 else ','} " for j, v in enumerate(row)) + "\r\n"
    return text + "]"
