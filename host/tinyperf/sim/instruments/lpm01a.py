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
import sys
from pathlib import Path

from tinyperf.device.protocol.legacy import LineSplitter
from tinyperf.power.profiles import BoardPowerModel, InstrumentProfile
from tinyperf.sim.bench_faults import write_supply
from tinyperf.sim.instruments.instrument_host import emulator_main
from tinyperf.sim.instruments.timeline import SampleMaker, Timeline

PROMPT = "PowerShield > "
RATE_WORDS = {"100k": 100_000, "50k": 50_000, "20k": 20_000, "10k": 10_000, "5k": 5_000, "2k": 2_000,
              "1k": 1_000, "500": 500, "200": 200, "100": 100, "50": 50, "20": 20, "10": 10, "5": 5,
              "2": 2, "1": 1}
ENERGY_OUTPUT_MAX_HZ = 10_000
QUERIES = {"version": "1.0.6", "powershield": "PowerShield present SIMULATED-0001", "status": "ok"}
OLD_FIRMWARE = "1.0.4"
DROP_EVERY = 250  # monitor-drops: one sample in this many never reaches the host


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


class Lpm01aEmulator:
    def __init__(self, profile: InstrumentProfile, power: BoardPowerModel, seed: int = 0) -> None:
        self.profile = profile
        self.timeline = Timeline()
        self.maker = SampleMaker(self.timeline, power, 100, seed)
        self.splitter = LineSplitter()
        self.host_control = False
        self.voltage_v = 3.3
        self.rate_hz = 100
        self.output = "current"
        self.format = "ascii_dec"
        self.acqtime = "10"
        self.maker.powered = False  # the DUT supply is off until `pwr on`
        self.acquiring = False
        self.events_sent = 0
        self.queries = dict(QUERIES)
        self.faults: frozenset[str] = frozenset()
        self.wire: Path | None = None  # with a bench: whose supply file `pwr` writes

    def apply_faults(self, faults: frozenset[str]) -> None:
        """Bench faults (sim/bench_faults.py) on the monitor's side."""
        self.faults = faults
        if "old-monitor-firmware" in faults:
            self.queries["version"] = OLD_FIRMWARE

    def tell_supply(self, wire: Path) -> None:
        self.wire = wire

    def feed(self, data: bytes) -> bytes:
        """Host bytes in, replies out; samples due before a command go out before its ack."""
        out = bytearray()
        for line in self.splitter.feed(data):
            out += self.produce()
            out += self.command(line)
            if line.strip() == "stop":
                out += self.stop_tail()
        return bytes(out)

    # ---- commands ---------------------------------------------------------------------------
    def command(self, line: str) -> bytes:
        words = line.strip().split()
        if not words:
            return b""
        if words[0] in self.queries:
            return self._ack(line, self.queries[words[0]])
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
        on = args[0] == "on"
        # a USB-powered DUT draws nothing from this supply, whatever it is set to
        self.maker.powered = on and "usb-powered" not in self.faults
        if self.wire is not None:
            write_supply(self.wire, on)
        return None

    def _cmd_start(self, args: list[str]) -> str | None:
        if self.output == "energy" and self.rate_hz > ENERGY_OUTPUT_MAX_HZ:
            return f"output energy is limited to {ENERGY_OUTPUT_MAX_HZ // 1000}kHz"
        continuous = self.acqtime in ("0", "inf")
        if continuous and self.rate_hz > self.profile.continuous_max_hz:
            return "acquisition time too long for this sampling frequency and data format"
        self.acquiring = True
        self.maker.start(self.rate_hz)
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
        made = self.maker.make()
        if made is None:
            return b""
        period = self.maker.period_s
        values = made.current_a * self.voltage_v * period if self.output == "energy" else made.current_a
        edges_in: dict[int, int] = {}
        for k in made.edge_samples:
            edges_in[k] = edges_in.get(k, 0) + 1
        out = []
        drops = "monitor-drops" in self.faults
        for index, value in enumerate(values.tolist(), start=made.first):
            if not (drops and index % DROP_EVERY == DROP_EVERY // 2):
                out.append(format_token(value))
            for _ in range(edges_in.get(index, 0)):
                self.events_sent += 1
                out.append(f"event {self.events_sent} ris")
            if (index + 1) % self.rate_hz == 0:
                out.append(f"TimeStamp: {(index + 1) // self.rate_hz:03d}s 000ms, buff 00%")
        return ("\r\n".join(out) + "\r\n").encode()


def main(argv: list[str] | None = None) -> int:
    from tinyperf.power.profiles import instrument_profile

    return emulator_main("python -m tinyperf.sim.instruments.lpm01a", __doc__ or "",
                         lambda power, seed: Lpm01aEmulator(instrument_profile("lpm01a"), power, seed), "pty", argv)


if __name__ == "__main__":
    sys.exit(main())
