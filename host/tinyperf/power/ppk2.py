"""Driver for the Nordic PPK2 in source-meter mode, through `ppk2-api`.

`ppk2-api` sends the commands (metadata, regulator voltage, source mode, DUT power, start/stop) and
parses the calibration metadata. The 100 kHz sample stream is decoded here with numpy, because the
library's per-sample Python loop costs about a core at that rate and drops the sample counter: each
4-byte word carries a 6-bit counter, and a jump in it is a lost sample, recorded in `trace.gaps`
instead of being silently joined over. The timestamp GPIO goes to digital input D0 (or --monitor
ppk2:PORT@D<n>); a falling edge on it is an edge.
"""

from __future__ import annotations

import numpy as np

from tinyperf.errors import ConfigError, MonitorError
from tinyperf.power.profiles import InstrumentProfile
from tinyperf.power.streaming import StreamingMonitor
from tinyperf.power.trace import Trace, falling_edges

RATE_HZ = 100_000
ADC_VOLTS = 1.8 / 163840


class Ppk2(StreamingMonitor):
    edge_hint = "is the DUT's timestamp GPIO wired to the PPK2's digital input?"

    def __init__(self, port: str, profile: InstrumentProfile, channel: int = 0) -> None:
        super().__init__(profile)
        import serial
        from ppk2_api.ppk2_api import PPK2_API

        self.name = f"PPK2 at {port}"
        self.channel = channel
        try:
            self.api = PPK2_API(port, timeout=0.1, write_timeout=2.0)
        except (serial.SerialException, OSError) as e:
            raise MonitorError(f"cannot open the PPK2 at {port}: {e}") from e
        self._remainder = b""
        self._counter: int | None = None
        self._pin_high = True

    # ---- commands -------------------------------------------------------------------------------
    def identify(self) -> dict[str, str]:
        """The metadata block, which ppk2-api parses; anything it cannot parse is a named MonitorError (the
        library lets UnicodeDecodeError, TypeError or IndexError through on a device that is not a PPK2)."""
        not_ppk2 = (f"check that it is a PPK2 (USB {', '.join(self.profile.usb_ids)}) and that no other program "
                    "has it open")
        try:
            if self.api.get_modifiers() is None:
                raise MonitorError(f"{self.name} sent no metadata (ending 'END') within 0.5 s; {not_ppk2}")
            modifiers = self.api.modifiers
            return {"hardware": str(modifiers["HW"]), "calibrated": str(modifiers["Calibrated"]),
                    "shunts (ohm)": ", ".join(f"{float(modifiers['R'][str(i)]):g}" for i in range(5))}
        except (UnicodeDecodeError, TypeError, IndexError, KeyError, ValueError, AttributeError) as e:
            raise MonitorError(f"{self.name} sent metadata that does not parse ({type(e).__name__}: "
                               f"{str(e)[:80]}); {not_ppk2}") from None

    def configure(self, voltage_v: float, rate_hz: int) -> None:
        self.profile.check_setup(voltage_v, rate_hz)
        self.identify()  # loads the calibration the decoder uses, and proves it is a PPK2
        self.api.use_source_meter()
        self.api.set_source_voltage(round(voltage_v * 1000))
        self.voltage_v = voltage_v

    def power_on(self) -> None:
        self.api.toggle_DUT_power("ON")

    def start(self) -> Trace:
        trace = self._new_trace(1.0 / RATE_HZ)
        self._remainder, self._counter, self._pin_high = b"", None, True
        self.api.start_measuring()
        self._start_reader(self._read_samples)
        return trace

    def stop(self) -> None:
        self.api.stop_measuring()
        self.api.toggle_DUT_power("OFF")

    def close(self) -> None:
        self._stop_reader()
        self.api.ser.close()

    # ---- stream (reader thread) ------------------------------------------------------------------
    def _read_samples(self) -> bool:
        data = self.api.ser.read(max(4, self.api.ser.in_waiting))
        if not data or self.trace is None:
            return bool(data)
        data = self._remainder + data
        whole = len(data) // 4 * 4
        self._remainder = data[whole:]
        self._decode(np.frombuffer(data[:whole], dtype="<u4"), self.trace)
        return True

    def _decode(self, words: np.ndarray, trace: Trace) -> None:
        ranges = (words >> 14) & 0x7
        if np.any(ranges > 4):
            bad = int(np.flatnonzero(ranges > 4)[0])
            raise MonitorError(f"{self.name} sent a sample with current range {int(ranges[bad])} at sample "
                               f"{trace.samples + bad}: the stream is misaligned or not from a PPK2")
        counters = ((words >> 18) & 0x3F).astype(np.int64)
        previous = counters[0] - 1 if self._counter is None else self._counter
        jumps = (np.diff(np.concatenate([[previous], counters])) - 1) % 64
        for index in np.flatnonzero(jumps):
            trace.gaps.append(f"sample {trace.samples + int(index)}: counter skipped {int(jumps[index])} (mod 64) "
                              "samples; the host did not read fast enough")
        self._counter = int(counters[-1])
        current = self._current_a((words & 0x3FFF).astype(np.float64) * 4, ranges)
        levels = ((words >> (24 + self.channel)) & 1).astype(bool)
        edges = falling_edges(levels, self._pin_high, trace.samples)
        self._pin_high = bool(levels[-1])
        with self._changed:
            trace.extend(current * self.voltage_v / RATE_HZ)
            trace.add_edges(edges, self.name)

    def _current_a(self, adc: np.ndarray, ranges: np.ndarray) -> np.ndarray:
        """ppk2-api's calibration formula (PPK2_API.get_adc_result), per range, without its spike filter."""
        m = self.api.modifiers

        def table(key: str) -> np.ndarray:
            return np.array([float(m[key][str(i)]) for i in range(5)])[ranges]

        volts = (adc - table("O")) * ADC_VOLTS / table("R")
        vdd = round(self.voltage_v * 1000) / 1000
        return table("UG") * (volts * (table("GS") * volts + table("GI")) + table("S") * vdd + table("I"))


def find_ppk2() -> str:
    """The one attached PPK2's port (ppk2-api's USB product-name match)."""
    from ppk2_api.ppk2_api import PPK2_API

    found = PPK2_API.list_devices()
    if len(found) != 1:
        what = "no PPK2 is attached" if not found else f"{len(found)} PPK2s are attached ({', '.join(found)})"
        raise ConfigError(f"{what}; name one with --monitor ppk2:/dev/ttyACM0")
    return found[0]
