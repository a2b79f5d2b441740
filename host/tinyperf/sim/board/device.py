"""The device side of the legacy protocol, answering as MLPerf Tiny reference firmware does.

Pure request/response: `handle(command) -> reply bytes`. Transport (pty, TCP) lives in server.py.
Replies follow ../shared/transcripts byte for byte (only the vendor name and times differ).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable

from tinyperf.sim.board.clock import SimClock
from tinyperf.sim.wire import PowerWireSender
from tinyperf.suite.device_math import ResultStyle, reference_results

FIRMWARE_ID = "ULPMark for tinyML Firmware V0.0.1"
COMMAND_BUFFER_CHARS = 80
HELP_TEXT = (
    f"{FIRMWARE_ID}\r\n\r\n"
    "help         : Print this information\r\n"
    "name         : Print the name of the device\r\n"
    "timestsamp   : Generate a timetsamp\r\n"
    "db SUBCMD    : Manipulate a generic byte buffer\r\n"
    "  load N     : Allocate N bytes and set load counter\r\n"
    "  db HH[HH]* : Load 8-bit hex byte(s) until N bytes\r\n"
    "  print [N=16] [offset=0]\r\n"
    "             : Print N bytes at offset as hex\r\n"
    "infer N [W=0]: Load input, execute N inferences after W warmup loops\r\n"
    "results      : Return the result fp32 vector\r\n"
)


_LEADING_INT = re.compile(r"[+-]?\d*")


def c_atoi(word: str) -> int:
    """C's atoi, as reference firmware parses numbers: sign and digits up to the first other character."""
    digits = _LEADING_INT.match(word).group(0)  # type: ignore[union-attr]
    return int(digits) if digits.lstrip("+-") else 0


def reply_bytes(lines: list[str]) -> bytes:
    """A reply as firmware sends it: each line ended CR LF, `m-ready` last. Commands are read as latin-1
    (one char per byte), so an echoed garbled byte goes back as the same byte, as firmware's printf would."""
    return "".join(f"{line}\r\n" for line in [*lines, "m-ready"]).encode("latin-1", "replace")


class SimDevice:
    """State: the input buffer and its load counter, the last results, the clock."""

    def __init__(
        self,
        vendor_name: str,
        model_id: str,
        run_inference: Callable[[bytes], list[float]],
        inference_seconds: float,
        max_input_bytes: int,
        clock: SimClock,
        power_wire: PowerWireSender | None = None,
    ) -> None:
        self.vendor_name = vendor_name
        self.model_id = model_id
        self.run_inference = run_inference
        self.inference_seconds = inference_seconds
        self.max_input_bytes = max_input_bytes
        self.clock = clock
        self.buffer = bytearray()
        self.expected = 0
        self.results: list[float] = []
        self.inferences = 0
        # energy mode: timestamps are GPIO edges seen by the monitor, not m-lap-us lines
        self.power_wire = power_wire
        # models firmware whose interpreter scribbles on the input it infers from (TFLM reusing the
        # input tensor's arena): every inference changes the buffer the next one reads
        self.reuses_input_tensor = False
        # a board slower than its cycle model (a regression to catch), and window-to-window spread
        # (clock drift, cache effects): each command's inferences run at one factor drawn per command
        self.slowdown = 1.0
        self.window_jitter = 0.0
        self.op_cycles: list[tuple[str, float]] = []  # per operator, for tp-profile (set by build_device)
        self.clock_hz = 0
        self.rng = random.Random(0)
        # how `m-results-` prints: as the benchmark's reference firmware does, or plain %0.3f
        self.result_style: ResultStyle = "reference"
        self.model_sha256 = ""  # of the model file the engine runs (tp-caps tells it)
        self.clock_stopped = False  # a bench fault: the timestamp timer never started
        self._stopped_at: int | None = None

    def results_line(self) -> str:
        return f"m-results-{reference_results(self.model_id, self.results, self.result_style)}"

    def reset(self) -> None:
        """What a reset leaves: an empty input buffer and no results (the clock keeps running)."""
        self.buffer = bytearray()
        self.expected = 0
        self.results = []

    @property
    def energy_mode(self) -> bool:
        return self.power_wire is not None

    def _timestamp(self) -> list[str]:
        """Performance mode prints the microsecond counter; energy mode pulls the timestamp GPIO low."""
        if self.power_wire is not None:
            self.power_wire.edge(self.clock.now_us() / 1e6)
            return []
        return [f"m-lap-us-{self._lap()}"]

    def tell_time(self) -> None:
        if self.power_wire is not None:
            self.power_wire.now(self.clock.now_us() / 1e6)

    def boot_banner(self) -> bytes:
        mode = "m-timestamp-mode-energy" if self.energy_mode else "m-timestamp-mode-performance"
        return reply_bytes([mode, *self._timestamp(), "m-init-done"])

    def _lap(self) -> int:
        if self.clock_stopped:
            if self._stopped_at is None:
                self._stopped_at = self.clock.now_us() % 2**32
            return self._stopped_at
        return self.clock.now_us() % 2**32

    def handle(self, command: str) -> bytes:
        """Answer one command (without its '%'); reference firmware keeps only 80 characters."""
        words = command[:COMMAND_BUFFER_CHARS].split(" ")
        word = words[0]
        if word == "name":
            return reply_bytes([f"m-name-dut-[{self.vendor_name}]"])
        if word == "profile":
            return reply_bytes([f"m-profile-[{FIRMWARE_ID}]", f"m-model-[{self.model_id}]"])
        if word == "help":
            return (HELP_TEXT + "m-ready\r\n").encode("ascii")
        if word == "timestamp":
            return reply_bytes(self._timestamp())
        if word == "db":
            return reply_bytes(self._db(words[1:]))
        if word == "infer":
            return reply_bytes(self._infer(words[1:]))
        if word == "results":
            return reply_bytes([self.results_line()])
        return reply_bytes([f"e-[Unknown command: {word}]"])

    def _db(self, args: list[str]) -> list[str]:
        if not args:
            return ["e-[Command 'db' requires a subcommand]"]
        if args[0] == "load":
            return self._db_load(args[1:])
        if args[0] == "print":
            return self._db_print()
        return self._db_data(args[0])

    def _db_load(self, args: list[str]) -> list[str]:
        if not args:
            return ["e-[Command 'db load' requires the # of bytes]"]
        size = c_atoi(args[0])
        if size <= 0:
            return ["e-[Command 'db load' must be >0 bytes]"]
        if size > self.max_input_bytes:  # reference firmware would overrun its buffer here
            return [f"e-[Command 'db load' exceeds the {self.max_input_bytes}-byte input buffer]"]
        self.buffer = bytearray()
        self.expected = size
        return [f"m-[Expecting {size} bytes]"]

    def _db_data(self, digits: str) -> list[str]:
        if len(digits) % 2:
            return ["e-[Insufficent number of hex digits]"]
        for i in range(0, len(digits), 2):
            pair = digits[i : i + 2]
            try:
                value = int(pair, 16)
            except ValueError:
                return [f"e-[Invalid hex digit '{pair}']"]
            if len(self.buffer) < self.expected:
                self.buffer.append(value)
        if self.expected and len(self.buffer) == self.expected:
            self.expected = 0
            return ["m-load-done"]
        return []

    def _db_print(self) -> list[str]:
        """Reference firmware prints the whole loaded buffer, 8 bytes a line, then a blank line."""
        data = bytes(self.buffer)
        lines = ["m-buffer-" + "-".join(f"{b:02x}" for b in data[i : i + 8]) for i in range(0, len(data), 8)]
        return [*lines, ""]

    def _infer(self, args: list[str]) -> list[str]:
        count = c_atoi(args[0]) if args else 1
        warmup = c_atoi(args[1]) if len(args) > 1 else 0
        if count <= 0:
            return ["e-[Inference iterations must be >0]"]
        if warmup < 0:
            return ["e-[Inference warmup must be >=0]"]
        lines = [f"m-warmup-start-{warmup}"]
        self._run(warmup)
        lines += ["m-warmup-done", f"m-infer-start-{count}", *self._timestamp()]
        self._run(count)
        lines += [*self._timestamp(), "m-infer-done", self.results_line()]
        return lines

    def infer_once(self, data: bytes, factor: float | None = None) -> list[float]:
        """One inference on `data`, its modelled time (x `factor`) spent on the clock."""
        started = time.monotonic()
        self.results = self.run_inference(data)
        self.inferences += 1
        factor = self.command_factor() if factor is None else factor
        self.clock.spend(self.inference_seconds * factor, time.monotonic() - started)
        return self.results

    def command_factor(self) -> float:
        """How much slower than the cycle model one command's inferences run."""
        spread = self.rng.gauss(0.0, self.window_jitter) if self.window_jitter else 0.0
        return self.slowdown * max(0.5, 1.0 + spread)

    def _run(self, count: int) -> None:
        if self.power_wire is not None and count:
            self.power_wire.state(self.clock.now_us() / 1e6, True)
        factor = self.command_factor()
        for _ in range(count):
            self.infer_once(bytes(self.buffer), factor)
            if self.reuses_input_tensor:
                self.buffer = bytearray((b + 1) & 0xFF for b in self.buffer)
        if self.power_wire is not None and count:
            self.power_wire.state(self.clock.now_us() / 1e6, False)
