"""Driver for a SCPI bench supply with an external data logger (Keysight N6705/N6700 Elog), via pyvisa.

The supply powers the DUT from output 1 and logs its average current per integration period
(`SENS:ELOG:PER`, rounded by the instrument: the period it reports back is the one used). The
Elog FIFO holds about 20 s, so a reader thread fetches (`FETC:ELOG?`) all the time. Such supplies
have no timestamp input on the logged timeline, so window edges come from the current step
(power/step_edges.py) and results are marked as not MLPerf Tiny energy results. Errors are read
with `SYST:ERR?` after configuring: an instrument does not answer a command it rejects.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from tinyperf.errors import MonitorError
from tinyperf.power.profiles import InstrumentProfile
from tinyperf.power.step_edges import StepEdgeDetector
from tinyperf.power.streaming import StreamingMonitor
from tinyperf.power.trace import Trace

FETCH_RECORDS = 20_000
POLL_S = 0.05
SETUP = ("*CLS", "SENS:ELOG:FUNC:CURR ON,(@1)", "SENS:ELOG:FUNC:VOLT OFF,(@1)", "TRIG:ELOG:SOUR BUS,(@1)")


class ScpiSupply(StreamingMonitor):
    edge_hint = "does the DUT sleep between commands? edges are found from its current step"

    def __init__(self, resource: str, profile: InstrumentProfile, backend: str = "@py",
                 timeout_ms: int = 3000) -> None:
        super().__init__(profile)
        import pyvisa

        self.name = f"SCPI supply at {resource}"
        self._io = threading.Lock()
        self._detector = StepEdgeDetector()
        try:
            self.manager = pyvisa.ResourceManager(backend)
            self.instrument: Any = self.manager.open_resource(resource, read_termination="\n",
                                                               write_termination="\n", timeout=timeout_ms)
        except Exception as e:  # pyvisa raises VisaIOError, ValueError, OSError by backend
            raise MonitorError(f"cannot open the SCPI instrument {resource}: {e}") from e
        self.identity = self.identify()  # a socket resource connects lazily: fail here, not mid-run

    def _write(self, command: str) -> None:
        with self._io:
            self._visa(lambda: self.instrument.write(command), command)

    def _query(self, command: str) -> str:
        with self._io:
            return self._visa(lambda: self.instrument.query(command), command).strip()

    def _visa(self, call: Any, command: str) -> Any:
        try:
            return call()
        except Exception as e:
            raise MonitorError(f"{self.name}: '{command}' failed: {e}") from e

    def _check_errors(self, after: str) -> None:
        errors = []
        for _ in range(20):
            reply = self._query("SYST:ERR?")
            if reply.startswith(("+0,", "0,")):
                break
            errors.append(reply)
        if errors:
            raise MonitorError(f"{self.name} rejected {after}: {'; '.join(errors)}")

    def identify(self) -> dict[str, str]:
        maker, model, serial, firmware = ([*self._query("*IDN?").split(","), "", "", ""])[:4]
        return {"maker": maker, "model": model, "serial": serial, "firmware": firmware}

    def configure(self, voltage_v: float, rate_hz: int) -> None:
        self.profile.check_setup(voltage_v, rate_hz)
        for command in (*SETUP, f"VOLT {voltage_v:g},(@1)", f"SENS:ELOG:PER {1.0 / rate_hz:.7g},(@1)"):
            self._write(command)
        self._check_errors("the setup")
        period = float(self._query("SENS:ELOG:PER? (@1)"))
        self.voltage_v, self.rate_hz, self.period_s = voltage_v, round(1.0 / period), period

    def power_on(self) -> None:
        self._write("OUTP ON,(@1)")

    def start(self) -> Trace:
        trace = self._new_trace(self.period_s, edge_source="current step")
        self._detector = StepEdgeDetector()
        self._write("INIT:ELOG (@1)")
        self._write("TRIG:ELOG (@1)")
        self._check_errors("starting the data log")
        self._start_reader(self._fetch)
        return trace

    def stop(self) -> None:
        self._write("ABOR:ELOG (@1)")
        self._write("OUTP OFF,(@1)")

    def close(self) -> None:
        self._stop_reader()
        with self._io:
            self.instrument.close()

    def _fetch(self) -> bool:
        time.sleep(POLL_S)
        trace = self.trace
        if trace is None:
            return False
        reply = self._query(f"FETC:ELOG? {FETCH_RECORDS},(@1)")
        if not reply:
            return False
        try:
            current = np.array([float(value) for value in reply.split(",")])
        except ValueError as e:
            raise MonitorError(f"{self.name} sent a malformed Elog record after sample {trace.samples}: {e}") from e
        with self._changed:
            trace.extend(current * self.voltage_v * self.period_s)
            trace.add_edges(self._detector.feed(trace.array()), self.name)
        return True
