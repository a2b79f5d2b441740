"""Talking to an sww01 bench: the device (start/stop detection) and the enhanced interface board (play,
record and print detections and duty cycle), each a text port answering every command with `m-ready`.

Parsers follow what the boards' firmware prints (and what the open runner's streaming_ww_utils reads):
`Detection Timestamps (ms)` then `<ms>,` per line; `Duty cycle start times (s)`, values `<t>, ` in
10 us ticks, `Duty cycle stop times (s)`, values, and `m-ready` right after the last value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinyperf.deadline import Deadline
from tinyperf.device.link import Link
from tinyperf.device.protocol.legacy import LineSplitter
from tinyperf.errors import ProtocolError

MAX_REPLY_LINES = 20000  # a 20-minute stream's activations are ~2400 lines of 16
TICK_S = 10e-6
READY = "m-ready"


@dataclass
class TextPort:
    """One command at a time; a reply is every line up to the one holding `m-ready`."""

    link: Link
    name: str
    timeout_s: float = 5.0

    def command(self, text: str, timeout_s: float | None = None) -> list[str]:
        self.link.write(f"{text}%".encode("ascii"))
        limit = timeout_s or self.timeout_s
        deadline = Deadline(limit)
        splitter = LineSplitter(source=f"{self.name} ({self.link.url})")
        lines: list[str] = []
        while True:
            data = self.link.read_some(deadline)
            if not data:
                tail = " | ".join(lines[-3:]) or "nothing"
                raise ProtocolError(f"{self.name} at {self.link.url} did not finish `{text}` within {limit:g} s "
                                    f"(last lines: {tail})")
            for line in splitter.feed(data):
                lines.append(line)
                if READY in line:
                    return lines
                if len(lines) > MAX_REPLY_LINES:
                    raise ProtocolError(f"{self.name} at {self.link.url} sent more than {MAX_REPLY_LINES} lines "
                                        f"for `{text}` without m-ready")


def parse_detections(lines: list[str]) -> list[int]:
    """`print_detections` -> detection times in ms (the first is the device's t = 0 marker)."""
    body = [line for line in lines if line.strip() and READY not in line]
    if not body or body[0].strip() != "Detection Timestamps (ms)":
        raise ProtocolError(f"print_detections: expected 'Detection Timestamps (ms)', got {body[:1]}")
    values = []
    for line in body[1:]:
        text = line.strip().rstrip(",").strip()
        if not re.fullmatch(r"\d+", text):
            raise ProtocolError(f"print_detections: {line!r} is not a time in ms")
        values.append(int(text))
    return values


def parse_dutycycle(lines: list[str]) -> tuple[list[float], list[float]]:
    """`print_dutycycle` -> (rising, falling) edge times of PROCESSING in seconds."""
    if not lines or "Duty cycle start times" not in lines[0]:
        raise ProtocolError(f"print_dutycycle: expected 'Duty cycle start times (s)', got {lines[:1]}")
    starts: list[float] = []
    stops: list[float] = []
    target = starts
    for line in lines[1:]:
        if "Duty cycle stop times" in line:
            target = stops
            continue
        for word in line.replace(READY, "").split(","):
            if not word.strip():
                continue
            if not word.strip().isdigit():
                raise ProtocolError(f"print_dutycycle: {word.strip()!r} in {line!r} is not a tick count")
            target.append(int(word) * TICK_S)
    return starts, stops


def parse_activations(lines: list[str]) -> list[int]:
    """The int8 output[0] per frame that `stop` prints after `target activations:` (may be absent)."""
    text = "\n".join(lines)
    if "target activations:" not in text:
        return []
    body = text.split("target activations:", 1)[1].partition("[")[2].partition("]")[0]
    try:
        return [int(v) for v in body.replace("\n", ",").split(",") if v.strip()]
    except ValueError:
        raise ProtocolError("stop: the target activations list holds something that is not an integer") from None


@dataclass
class InterfaceBoard:
    """The enhanced interface board (STM32H573I-DK) driver."""

    port: TextPort

    def name(self) -> str:
        return next((line for line in self.port.command("name") if line.strip() and READY not in line), "")

    def files(self) -> list[str]:
        return [line.strip() for line in self.port.command("ls") if line.strip() and READY not in line]

    def record_detections(self) -> None:
        self.port.command("record_detections")

    def play(self, wav_file: str, seconds: float) -> None:
        """Blocks for the file's length; the board's own error sentence becomes the error."""
        lines = self.port.command(f"play {wav_file}", timeout_s=seconds + 30.0)
        if not any(line.strip() == "succeeded." for line in lines):
            said = " ".join(line.strip() for line in lines if READY not in line)
            raise ProtocolError(f"the interface board could not play {wav_file}: {said}")

    def detections_ms(self) -> list[int]:
        return parse_detections(self.port.command("print_detections"))

    def dutycycle(self) -> tuple[list[float], list[float]]:
        return parse_dutycycle(self.port.command("print_dutycycle", timeout_s=30.0))


@dataclass
class StreamingDevice:
    """The device's side of the open runner's sequence: `stop`, `start`, ..., `stop`."""

    port: TextPort

    def identify(self) -> str:
        """The model the firmware runs (`m-model-[sww01]`)."""
        for line in self.port.command("profile"):
            if match := re.search(r"m-model-\[([^\]]*)\]", line):
                return match.group(1)
        raise ProtocolError(f"the device at {self.port.link.url} did not name its model (no m-model-[...])")

    def start(self) -> None:
        self.port.command("start")

    def stop(self, timeout_s: float = 60.0) -> list[int]:
        return parse_activations(self.port.command("stop", timeout_s=timeout_s))
