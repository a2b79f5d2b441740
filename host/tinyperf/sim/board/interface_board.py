"""The STM32H573I-DK "enhanced interface board" of an MLPerf Tiny energy bench, as its firmware answers.

Behaviour (written from the published interface firmware's documented behaviour, quirks included, so
that any runner, not only ours, can drive the simulated bench):
- A command is the text before `%`; it is matched by prefix against the board's command words, in
  the firmware's table order. The word alone, or the word, a space and at least one more character,
  runs the command. A matching prefix in any other shape (`named%`, `dut %`) gets no reply at all.
  Anything else (an unknown word, an empty command) gets a bare `m-ready`.
- `dut <cmd>`: `m-dut-passthrough(<cmd>)` and `m-ready`, then every line the device sends, prefixed
  `[dut]: `, up to and including the device's own `m-ready`. Nothing of the board's own follows.
- `setbaud N` sets the board-to-device baud rate (the real board writes it to flash and resets):
  `set baud to: N` ended by a bare LF, then `m-ready`. `checkbaud`: `baud is: N` (LF), `m-ready`.
- `ls`: one line per file on the SD card, `m-ready`. `play [file]`: `Attempting to play <file>` (LF),
  blocks for the file's length, `succeeded.` (LF) or the firmware's error sentence, `m-ready`.
- `record_detections`: clears the detection and duty-cycle records; `Now recording detections`.
  `print_detections`: `Detection Timestamps (ms)`, then `<ms>,` per detection. `print_dutycycle`:
  start times then stop times (10 us ticks), `<t>, ` each, a line break after every 8th, and no
  line break between the last stop time and `m-ready` (the firmware's own quirk).
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tinyperf.sim.board.sww_device import PlayedStream

NAME = "tinyML Enhanced Interface Board"
COMMAND_WORDS = ("dut", "name", "ls", "play", "setbaud", "checkbaud", "record_detections",
                 "print_detections", "print_dutycycle")
READY = "m-ready\r\n"
DEFAULT_DUT_BAUD = 115200
INTERFACE_DUT_BAUD = 9600  # the reference energy-mode link between the interface board and the device
MAX_RECORDS = 100  # the firmware keeps at most this many duty-cycle edges (MAX_FRAMES)


@dataclass
class InterfaceBoard:
    """`handle(command) -> reply bytes`. `relay(command) -> device reply bytes` reaches the device; `wait`
    spends the time a command blocks for (play); `sd_card` is the folder the SD card's files are in."""

    relay: Callable[[str], bytes]
    wait: Callable[[float], None]
    sd_card: Path | None = None
    # a streaming device on the I2S output (sww01): plays a file into it and says what its GPIOs did;
    # `now` is the board's clock in seconds (detections are timed from `record_detections`)
    player: Callable[[Path], PlayedStream] | None = None
    now: Callable[[], float] = lambda: 0.0
    recording_since: float = 0.0
    dut_baud: int = DEFAULT_DUT_BAUD
    detections_ms: list[int] = field(default_factory=list)
    duty_starts: list[int] = field(default_factory=list)
    duty_stops: list[int] = field(default_factory=list)

    def handle(self, command: str) -> bytes:
        for word in COMMAND_WORDS:
            if not command.startswith(word):
                continue
            if command == word:
                return self._run(word, "")
            if len(command) > len(word) + 1 and command[len(word)] == " ":
                return self._run(word, command[len(word) + 1 :])
            return b""  # the firmware matched the prefix, found no argument shape it takes, said nothing
        return READY.encode()

    def _run(self, word: str, args: str) -> bytes:
        return getattr(self, f"_cmd_{word}")(args).encode("latin-1", "replace")

    def _cmd_dut(self, args: str) -> str:
        reply = self.relay(args).decode("latin-1")
        relayed = "".join(f"[dut]: {line}\r\n" for line in reply.split("\r\n")[:-1])
        return f"m-dut-passthrough({args})\r\n{READY}{relayed}"

    def _cmd_name(self, args: str) -> str:
        return f"{NAME}\r\n{READY}"

    def _cmd_setbaud(self, args: str) -> str:
        digits = args.strip()
        if not digits.isdigit() or int(digits) <= 0:
            return READY  # the firmware's stoi would fault here; the simulated board refuses quietly
        self.dut_baud = int(digits)
        return f"set baud to: {args}\n{READY}"

    def _cmd_checkbaud(self, args: str) -> str:
        return f"baud is: {self.dut_baud}\n{READY}"

    def _wav_files(self) -> list[Path]:
        if self.sd_card is None or not self.sd_card.is_dir():
            return []
        return sorted(p for p in self.sd_card.iterdir() if p.is_file() and not p.name.startswith("."))

    def _cmd_ls(self, args: str) -> str:
        return "".join(f"{p.name}\r\n" for p in self._wav_files()) + READY

    def _cmd_play(self, args: str) -> str:
        name = args.strip()
        path = (self.sd_card / name) if (self.sd_card is not None and name) else None
        head = f"Attempting to play {name}\n"
        seconds = _wav_seconds(path) if path is not None and path.parent == self.sd_card else None
        if seconds is None:
            return f"{head}Error playing file. Check that the file exists and is a 2-channel wav file.\n{READY}"
        if self.player is None:
            self.wait(seconds)
        else:
            self._record(self.player(path))  # type: ignore[arg-type]
        return f"{head}succeeded.\n{READY}"

    def _record(self, played: PlayedStream) -> None:
        self.detections_ms += [int((t - self.recording_since) * 1000) for t in played.detections_s]
        for begin, end in played.processing:
            self.record_duty(round((begin - self.recording_since) * 1e5), round((end - self.recording_since) * 1e5))

    def _cmd_record_detections(self, args: str) -> str:
        self.recording_since = self.now()
        self.detections_ms.clear()
        self.duty_starts.clear()
        self.duty_stops.clear()
        return f"Now recording detections\r\n{READY}"

    def _cmd_print_detections(self, args: str) -> str:
        return "Detection Timestamps (ms)\r\n" + "".join(f"{ms},\r\n" for ms in self.detections_ms) + READY

    def _cmd_print_dutycycle(self, args: str) -> str:
        return ("Duty cycle start times (s)\r\n" + _ticks(self.duty_starts) + "\r\n"
                + "Duty cycle stop times (s)\r\n" + _ticks(self.duty_stops) + READY)

    def record_duty(self, start_ticks: int, stop_ticks: int) -> None:
        """A PROCESSING pulse of the device, in the board's 10 us ticks (kept up to MAX_RECORDS)."""
        if len(self.duty_starts) < MAX_RECORDS:
            self.duty_starts.append(start_ticks)
        if len(self.duty_stops) < MAX_RECORDS:
            self.duty_stops.append(stop_ticks)


def _ticks(values: list[int]) -> str:
    return "".join(f"{v}, " + ("\r\n" if (i + 1) % 8 == 0 else "") for i, v in enumerate(values))


def _wav_seconds(path: Path) -> float | None:
    """Length of a 2-channel WAV file (what the board can play), None for anything else."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getnchannels() != 2:
                return None
            return wav.getnframes() / float(wav.getframerate())
    except (OSError, EOFError, wave.Error):
        return None
