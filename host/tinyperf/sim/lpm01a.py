"""A simulated ST LPM01A (PowerShield): its serial protocol, fed by the simulated board's power wire.

Pure core (`Lpm01aEmulator`): `command(line)` answers like the firmware ("PowerShield > ack <cmd>",
"PowerShield > error <cmd>" + "Error detail: ..."), and `produce()` streams what an acquisition
yields for the board time known so far: one ascii_dec token per sample ("6409-07" = 6409e-7 J with
`output energy`), "TimeStamp: 001s 000ms, buff 00%" every second of samples, and "event N ris" right
after the sample during which a D7 edge fell. Samples integrate the board's piecewise-constant
current exactly (idle/active levels from power/boards/<board>.yaml) plus white noise, so the energy
between two edges is known exactly: the truth the energy mode is checked against.
"""

from __future__ import annotations

import math
import os
import select
import socket
import sys
import tty
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyperf.power.profiles import BoardPowerModel, InstrumentProfile

PROMPT = "PowerShield > "
RATE_WORDS = {"100k": 100_000, "50k": 50_000, "20k": 20_000, "10k": 10_000, "5k": 5_000, "2k": 2_000,
              "1k": 1_000, "500": 500, "200": 200, "100": 100, "50": 50, "20": 20, "10": 10, "5": 5,
              "2": 2, "1": 1}
ENERGY_OUTPUT_MAX_HZ = 10_000
QUERIES = {"version": "1.0.6", "powershield": "PowerShield present SIMULATED-0001", "status": "ok"}


def format_token(value: float) -> str:
    """4-digit mantissa and 2-digit power of ten, as the firmware prints: 6.409e-4 -> '6409-07'."""
    if value <= 0.0 or not math.isfinite(value):
        return "0000-00"
    exponent = math.floor(math.log10(value)) - 3
    mantissa = round(value / 10.0**exponent)
    if mantissa >= 10_000:
        mantissa, exponent = round(mantissa / 10), exponent + 1
    sign = "-" if exponent < 0 else "+"
    return f"{mantissa:04d}{sign}{abs(exponent):02d}"


def parse_volt(word: str) -> float | None:
    try:
        return float(word[:-1]) / 1000.0 if word.endswith("m") else float(word)
    except ValueError:
        return None


@dataclass
class Timeline:
    """The board's current level over time: state changes, D7 edges, and how far board time has got."""

    changes: list[tuple[float, bool]] = field(default_factory=lambda: [(0.0, False)])
    edges: list[float] = field(default_factory=list)
    now_s: float = 0.0

    def state(self, t: float, active: bool) -> None:
        self.changes.append((t, active))
        self.now_s = max(self.now_s, t)

    def edge(self, t: float) -> None:
        self.edges.append(t)
        self.now_s = max(self.now_s, t)

    def advance(self, t: float) -> None:
        self.now_s = max(self.now_s, t)

    def active_seconds(self, starts: np.ndarray, period: float) -> np.ndarray:
        """Active time inside each [start, start + period): cumulative active time at both ends."""
        times = np.array([t for t, _ in self.changes])
        levels = np.array([1.0 if a else 0.0 for _, a in self.changes])
        cumulative = np.concatenate([[0.0], np.cumsum(np.diff(times) * levels[:-1])])

        def active_until(t: np.ndarray) -> np.ndarray:
            j = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
            return cumulative[j] + levels[j] * (t - times[j])

        return active_until(starts + period) - active_until(starts)

    def forget_before(self, t: float) -> None:
        """Drop history the stream has passed (keep the state in force at `t`)."""
        keep = max(0, int(np.searchsorted([c[0] for c in self.changes], t, side="right")) - 1)
        del self.changes[:keep]
        self.edges = [e for e in self.edges if e >= t]


class Lpm01aEmulator:
    def __init__(self, profile: InstrumentProfile, power: BoardPowerModel, seed: int = 0) -> None:
        self.profile = profile
        self.power = power
        self.rng = np.random.default_rng(seed)
        self.timeline = Timeline()
        self.host_control = False
        self.voltage_v = 3.3
        self.rate_hz = 100
        self.output = "current"
        self.format = "ascii_dec"
        self.acqtime = "10"
        self.powered = False
        self.acquiring = False
        self.start_s = 0.0
        self.samples_sent = 0
        self.events_sent = 0

    # ---- commands ---------------------------------------------------------------------------
    def command(self, line: str) -> bytes:
        words = line.strip().split()
        if not words:
            return b""
        if words[0] in QUERIES:
            return self._ack(line, QUERIES[words[0]])
        handler = getattr(self, f"_cmd_{words[0]}", None)
        if handler is None:
            return self._error(line, f"unknown command '{words[0]}'")
        problem = handler(words[1:])
        if problem:
            return self._error(line, problem)
        return self._ack(line)

    @staticmethod
    def _ack(line: str, value: str = "") -> bytes:
        return f"{PROMPT}ack {line.strip()}{' ' + value if value else ''}\r\n".encode()

    @staticmethod
    def _error(line: str, detail: str) -> bytes:
        return f"{PROMPT}error {line.strip()}\r\n{PROMPT}Error detail: {detail}\r\n".encode()

    def _cmd_htc(self, args: list[str]) -> str | None:
        self.host_control = True
        return None

    def _cmd_hrc(self, args: list[str]) -> str | None:
        self.host_control = False
        return None

    def _needs_control(self) -> str | None:
        return None if self.host_control else "host control required: send 'htc' first"

    def _cmd_volt(self, args: list[str]) -> str | None:
        volts = parse_volt(args[0]) if args else None
        limits = self.profile.voltage_v
        if volts is None or not limits.min <= volts <= limits.max:
            return f"voltage out of range [{limits.min * 1000:.0f}m; {limits.max * 1000:.0f}m]"
        self.voltage_v = volts
        return self._needs_control()

    def _cmd_freq(self, args: list[str]) -> str | None:
        if not args or args[0] not in RATE_WORDS:
            return "sampling frequency not in list {100k, 50k, 20k, 10k, 5k, 2k, 1k, 500, ..., 1}"
        self.rate_hz = RATE_WORDS[args[0]]
        return self._needs_control()

    def _cmd_output(self, args: list[str]) -> str | None:
        if not args or args[0] not in ("current", "energy"):
            return "output type must be 'current' or 'energy'"
        self.output = args[0]
        return self._needs_control()

    def _cmd_format(self, args: list[str]) -> str | None:
        if not args or args[0] not in ("ascii_dec", "bin_hexa"):
            return "data format must be 'ascii_dec' or 'bin_hexa'"
        if args[0] == "bin_hexa":
            return "bin_hexa is not emulated (tinyperf's simulated PowerShield streams ascii_dec)"
        self.format = args[0]
        return self._needs_control()

    def _cmd_acqtime(self, args: list[str]) -> str | None:
        if not args:
            return "acquisition time missing"
        self.acqtime = args[0]
        return self._needs_control()

    def _cmd_trigdelay(self, args: list[str]) -> str | None:
        return self._needs_control()

    def _cmd_trigsrc(self, args: list[str]) -> str | None:
        return None if args and args[0] in ("sw", "d7") else "trigger source must be 'sw' or 'd7'"

    def _cmd_eventsrc(self, args: list[str]) -> str | None:
        return None if args[:1] == ["d7"] else "event source must be 'd7'"

    def _cmd_lcd(self, args: list[str]) -> str | None:
        return None

    def _cmd_pwr(self, args: list[str]) -> str | None:
        if not args or args[0] not in ("on", "off", "auto"):
            return "pwr takes on, off or auto"
        self.powered = args[0] == "on"
        return None

    def _cmd_start(self, args: list[str]) -> str | None:
        if self.output == "energy" and self.rate_hz > ENERGY_OUTPUT_MAX_HZ:
            return f"output energy is limited to {ENERGY_OUTPUT_MAX_HZ // 1000}kHz"
        continuous = self.acqtime in ("0", "inf")
        if continuous and self.rate_hz > self.profile.continuous_max_hz:
            return "acquisition time too long for this sampling frequency and data format"
        self.acquiring = True
        self.start_s = self.timeline.now_s
        self.timeline.forget_before(self.start_s)
        self.timeline.edges = [e for e in self.timeline.edges if e > self.start_s]  # only edges after start
        self.samples_sent = 0
        self.events_sent = 0
        return self._needs_control()

    def _cmd_stop(self, args: list[str]) -> str | None:
        return None

    def stop_tail(self) -> bytes:
        self.acquiring = False
        return f"{PROMPT}Acquisition completed\r\n".encode()

    # ---- stream -----------------------------------------------------------------------------
    def produce(self) -> bytes:
        """Every sample that board time has completed since the last call, with its event lines."""
        if not self.acquiring:
            return b""
        period = 1.0 / self.rate_hz
        complete = int((self.timeline.now_s - self.start_s) / period + 1e-9)
        if complete <= self.samples_sent:
            return b""
        indices = np.arange(self.samples_sent, complete)
        starts = self.start_s + indices * period
        active = self.timeline.active_seconds(starts, period)
        power = self.power
        current = (power.idle_current_a * (period - active) + power.active_current_a * active) / period
        noise = power.noise_a_rms_1khz * math.sqrt(self.rate_hz / 1000.0)
        current = current + noise * self.rng.standard_normal(len(indices))
        if not self.powered:
            current = np.zeros_like(current)
        values = current * self.voltage_v * period if self.output == "energy" else current
        edge_samples = {}
        for t in self.timeline.edges:
            k = int((t - self.start_s) / period)
            if self.samples_sent <= k < complete:
                edge_samples.setdefault(k, 0)
                edge_samples[k] += 1
        out = []
        for index, value in zip(indices.tolist(), values.tolist(), strict=True):
            out.append(format_token(value))
            for _ in range(edge_samples.get(index, 0)):
                self.events_sent += 1
                out.append(f"event {self.events_sent} ris")
            if (index + 1) % self.rate_hz == 0:
                seconds = (index + 1) // self.rate_hz
                out.append(f"TimeStamp: {seconds:03d}s 000ms, buff 00%")
        self.samples_sent = complete
        self.timeline.forget_before(self.start_s + complete * period)
        return ("\r\n".join(out) + "\r\n").encode()


# ---- process ----------------------------------------------------------------------------------
def serve(emulator: Lpm01aEmulator, wire_path: Path, watch_stdin: bool) -> None:
    """Pty for the host, datagram wire from the board; output is buffered, never blocks on a slow reader."""
    from tinyperf.protocol.legacy import LineSplitter
    from tinyperf.sim.wire import bind_receiver, parse_message

    receiver = bind_receiver(wire_path)
    master, slave = os.openpty()
    tty.setraw(slave)
    print(os.ttyname(slave), flush=True)
    splitter = LineSplitter()
    pending = bytearray()
    watched: list = [master, receiver] + ([sys.stdin] if watch_stdin else [])
    try:
        while True:
            ready, writable, _ = select.select(watched, [master] if pending else [], [], 1.0)
            if watch_stdin and sys.stdin in ready and not sys.stdin.buffer.read1(1):
                return
            if receiver in ready:
                while True:
                    try:
                        kind, t, active = parse_message(receiver.recv(256, socket.MSG_DONTWAIT))
                    except BlockingIOError:
                        break
                    if kind == "S":
                        emulator.timeline.state(t, active)
                    elif kind == "E":
                        emulator.timeline.edge(t)
                    else:
                        emulator.timeline.advance(t)
                pending.extend(emulator.produce())
            if master in ready:
                for line in splitter.feed(os.read(master, 4096)):
                    pending.extend(emulator.produce())
                    pending.extend(emulator.command(line))
                    if line.strip() == "stop":
                        pending.extend(emulator.stop_tail())
            if master in writable and pending:
                del pending[: os.write(master, pending[:65536])]
    finally:
        receiver.close()
        wire_path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from tinyperf.errors import TinyperfError
    from tinyperf.power.profiles import board_power_model, instrument_profile

    parser = argparse.ArgumentParser(prog="python -m tinyperf.sim.lpm01a", description=__doc__)
    parser.add_argument("--board", required=True, help="simulated board whose power model makes the current")
    parser.add_argument("--wire", required=True, type=Path, help="datagram socket path the board sends to")
    parser.add_argument("--seed", type=int, default=0, help="noise seed")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    args = parser.parse_args(argv)
    try:
        emulator = Lpm01aEmulator(instrument_profile("lpm01a"), board_power_model(args.board), args.seed)
    except TinyperfError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    serve(emulator, args.wire, args.watch_stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
