"""A simulated SCPI bench supply (Keysight N6705-style, output 1) on TCP, fed by the simulated board.

It implements the commands tinyperf sends, as Keysight documents them for the N6700/N6705 external
data logger (Elog): `*IDN?`, `*RST`, `*CLS`, `VOLT <v>,(@1)`, `CURR <a>,(@1)`, `OUTP ON|OFF,(@1)`,
`SENS:ELOG:FUNC:CURR ON|OFF,(@1)`, `SENS:ELOG:FUNC:VOLT ON|OFF,(@1)`, `SENS:ELOG:PER <s>,(@1)` (rounded
to a multiple of 20.48 us, at least 102.4 us) and its query, `TRIG:ELOG:SOUR BUS,(@1)`,
`INIT:ELOG (@1)`, `TRIG:ELOG (@1)`, `FETC:ELOG? <n>,(@1)` (up to n buffered average currents, comma
separated, removed from the buffer), `ABOR:ELOG (@1)`, `SYST:ERR?`. Like a real instrument it does
not answer a bad command: it queues an error that `SYST:ERR?` returns.
"""

from __future__ import annotations

import sys

import numpy as np

from tinyperf.power.profiles import BoardPowerModel
from tinyperf.sim.instruments.instrument_host import emulator_main
from tinyperf.sim.instruments.timeline import SampleMaker, Timeline

IDN = "Keysight Technologies,N6705C,SIM00001,D.03.03 (tinyperf SIMULATED)"
PERIOD_STEP_S = 20.48e-6
PERIOD_MIN_S = 102.4e-6
FIFO_SECONDS = 20.0  # the Elog FIFO holds about 20 s of measurements


def on_off(word: str) -> bool | None:
    return {"ON": True, "1": True, "OFF": False, "0": False}.get(word.upper())


class ScpiSupplyEmulator:
    def __init__(self, power: BoardPowerModel, seed: int = 0) -> None:
        self.timeline = Timeline()
        self.maker = SampleMaker(self.timeline, power, 1.0 / 1e-3, seed)
        self.maker.powered = False
        self.buffer = ""
        self.errors: list[str] = []
        self.voltage_v = 0.0
        self.output = False
        self.log_current = False
        self.period_s = 1e-3
        self.initiated = False
        self.logging = False
        self.fifo: list[np.ndarray] = []
        self.overflowed = False

    def feed(self, data: bytes) -> bytes:
        self.buffer += data.decode("ascii", errors="replace")
        *lines, self.buffer = self.buffer.replace("\r", "").split("\n")
        out = bytearray()
        for line in lines:
            if line.strip():
                self.produce()
                reply = self.command(line.strip())
                if reply is not None:
                    out += (reply + "\n").encode()
        return bytes(out)

    def command(self, line: str) -> str | None:
        header, _, rest = line.partition(" ")
        args = [a.strip() for a in rest.replace(",(@1)", "").replace("(@1)", "").split(",") if a.strip()]
        header = header.upper()
        handler = {
            "*IDN?": lambda: IDN, "*RST": self._reset, "*CLS": self._clear, "SYST:ERR?": self._next_error,
            "VOLT": lambda: self._set_voltage(args), "CURR": lambda: None,
            "OUTP": lambda: self._set_output(args), "SENS:ELOG:FUNC:CURR": lambda: self._set_log(args),
            "SENS:ELOG:FUNC:VOLT": lambda: self._set_volt_log(args),
            "SENS:ELOG:PER": lambda: self._set_period(args),
            "SENS:ELOG:PER?": lambda: f"{self.period_s:.7E}", "TRIG:ELOG:SOUR": lambda: self._check_source(args),
            "INIT:ELOG": self._initiate, "TRIG:ELOG": self._trigger, "FETC:ELOG?": lambda: self._fetch(args),
            "ABOR:ELOG": self._abort,
        }.get(header)
        if handler is None:
            self.errors.append('-113,"Undefined header"')
            return None
        return handler()

    def _error(self, text: str) -> None:
        self.errors.append(text)

    def _reset(self) -> None:
        self.__init__(self.maker.power, 0)  # type: ignore[misc]

    def _clear(self) -> None:
        self.errors.clear()

    def _next_error(self) -> str:
        return self.errors.pop(0) if self.errors else '+0,"No error"'

    def _set_voltage(self, args: list[str]) -> None:
        try:
            volts = float(args[0])
        except (IndexError, ValueError):
            return self._error('-224,"Illegal parameter value"')
        if not 0.0 <= volts <= 20.0:
            return self._error('-222,"Data out of range"')
        self.voltage_v = volts
        return None

    def _check_on_off(self, args: list[str]) -> bool | None:
        value = on_off(args[0]) if args else None
        if value is None:
            self._error('-224,"Illegal parameter value"')
        return value

    def _set_output(self, args: list[str]) -> None:
        value = self._check_on_off(args)
        if value is not None:
            self.output = self.maker.powered = value

    def _set_log(self, args: list[str]) -> None:
        value = self._check_on_off(args)
        if value is not None:
            self.log_current = value

    def _set_volt_log(self, args: list[str]) -> None:
        self._check_on_off(args)  # accepted; voltage is not logged by this emulator

    def _set_period(self, args: list[str]) -> None:
        try:
            wanted = float(args[0])
        except (IndexError, ValueError):
            return self._error('-224,"Illegal parameter value"')
        self.period_s = max(PERIOD_MIN_S, round(wanted / PERIOD_STEP_S) * PERIOD_STEP_S)
        return None

    def _check_source(self, args: list[str]) -> None:
        if not args or args[0].upper() not in ("BUS", "IMM", "EXT"):
            self._error('-224,"Illegal parameter value"')

    def _initiate(self) -> None:
        if not self.log_current:
            return self._error('-221,"Settings conflict"')
        self.initiated = True
        return None

    def _trigger(self) -> None:
        if not self.initiated:
            return self._error('-211,"Trigger ignored"')
        self.logging = True
        self.maker.start(1.0 / self.period_s)
        self.fifo, self.overflowed = [], False
        return None

    def _fetch(self, args: list[str]) -> str:
        try:
            wanted = int(float(args[0]))
        except (IndexError, ValueError):
            self._error('-224,"Illegal parameter value"')
            return ""
        data = np.concatenate(self.fifo) if self.fifo else np.zeros(0)
        taken, rest = data[:wanted], data[wanted:]
        self.fifo = [rest] if len(rest) else []
        return ",".join(f"{value:+.6E}" for value in taken)

    def _abort(self) -> None:
        self.initiated = self.logging = False

    def produce(self) -> bytes:
        """The Elog fills its FIFO as board time passes; the oldest records go when it is full."""
        if not self.logging:
            return b""
        made = self.maker.make()
        if made is not None:
            self.fifo.append(made.current_a)
            capacity = int(FIFO_SECONDS / self.period_s)
            total = sum(len(chunk) for chunk in self.fifo)
            if total > capacity:
                joined = np.concatenate(self.fifo)
                self.fifo = [joined[total - capacity :]]
                if not self.overflowed:
                    self.overflowed = True
                    self._error('-350,"Queue overflow"')
        return b""


def main(argv: list[str] | None = None) -> int:
    return emulator_main("python -m tinyperf.sim.instruments.scpi", __doc__ or "", ScpiSupplyEmulator, "tcp", argv)


if __name__ == "__main__":
    sys.exit(main())
