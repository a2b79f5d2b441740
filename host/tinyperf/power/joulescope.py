"""Driver for Joulescope JS220 / JS110 through the `joulescope` v1 API.

The Joulescope sits in series with the DUT's supply (it does not power it) and streams current,
voltage and power with the general-purpose inputs in the same samples: the timestamp GPIO goes to
GPI0, which the v1 API delivers as `current_lsb` (the JS110 is told so with `current_lsb=gpi0`).
Samples are taken from the device's stream buffer in a stream-process callback, in order and by
sample id: samples the buffer no longer holds, or that the instrument marks missing (NaN), are
recorded as gaps in the trace instead of being joined over.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tinyperf.errors import MonitorError
from tinyperf.power.profiles import InstrumentProfile
from tinyperf.power.streaming import StreamingMonitor
from tinyperf.power.trace import Trace, falling_edges


class Joulescope(StreamingMonitor):
    edge_hint = "is the DUT's timestamp GPIO wired to the Joulescope's GPI0?"

    def __init__(self, kind: str, serial: str | None, profile: InstrumentProfile, device: Any = None) -> None:
        super().__init__(profile)
        self.kind = kind
        self.device = device if device is not None else self._find(kind, serial)
        self.name = f"Joulescope {self.device}"
        self.driver_active = True  # the v1 API's stream-process contract
        self._next_id: int | None = None
        self._pin_high = True
        try:
            self.device.open()
        except Exception as e:
            raise MonitorError(f"cannot open {self.name}: {e} (is another program using it?)") from e

    @staticmethod
    def _find(kind: str, serial: str | None) -> Any:
        import joulescope

        found = [d for d in joulescope.scan() if kind in str(d).lower() or kind in getattr(d, "model", "").lower()]
        if serial:
            found = [d for d in found if str(d).endswith(serial)]
        if len(found) != 1:
            what = "no" if not found else f"{len(found)}"
            raise MonitorError(f"{what} {kind.upper()}{' ' + serial if serial else ''} found by joulescope.scan(); "
                               f"check USB and udev rules, or name one with --monitor {kind}:SERIAL")
        return found[0]

    def identify(self) -> dict[str, str]:
        return {"device": str(self.device), "model": str(getattr(self.device, "model", self.kind)),
                "serial": str(getattr(self.device, "serial_number", "?"))}

    def configure(self, voltage_v: float, rate_hz: int) -> None:
        """The Joulescope measures the voltage; `voltage_v` is the supply the user set up, not set here."""
        self.profile.check_setup(voltage_v, rate_hz)
        self.device.parameter_set("sampling_frequency", rate_hz)
        self.device.parameter_set("i_range", "auto")
        if self.kind == "js110":
            self.device.parameter_set("current_lsb", "gpi0")
        self.rate_hz = rate_hz

    def power_on(self) -> None:
        """Nothing to switch: the DUT's own supply feeds it through the Joulescope."""

    def start(self) -> Trace:
        trace = self._new_trace(1.0 / self.rate_hz)
        self._next_id, self._pin_high = None, True
        self.device.stream_process_register(self)
        self.device.start(stop_fn=self._on_stop)
        return trace

    def _on_stop(self, event: int = 0, message: str = "") -> None:
        if event:
            with self._changed:
                self._failure = MonitorError(f"{self.name} stopped streaming: {message or event}")
                self._changed.notify_all()

    def stream_notify(self, stream_buffer: Any) -> bool:
        """Called by the v1 API from its USB thread whenever samples arrive."""
        try:
            self._take(stream_buffer)
        except Exception as e:
            with self._changed:
                self._failure = MonitorError(f"{self.name}: reading samples failed: {e}")
                self._changed.notify_all()
        return False

    def _take(self, stream_buffer: Any) -> None:
        trace = self.trace
        first, end = stream_buffer.sample_id_range
        if trace is None or end <= first:
            return
        start = first if self._next_id is None else self._next_id
        if start < first:
            trace.gaps.append(f"sample {trace.samples}: {first - start} samples left the stream buffer unread")
            start = first
        data = stream_buffer.samples_get(start, end, fields=["power", "current_lsb"])
        power = np.asarray(data["signals"]["power"]["value"], dtype=np.float64)
        missing = np.isnan(power)
        if missing.any():
            trace.gaps.append(f"sample {trace.samples + int(np.flatnonzero(missing)[0])}: {int(missing.sum())} "
                              "samples missing in the instrument's stream")
            power = np.where(missing, 0.0, power)
        levels = np.asarray(data["signals"]["current_lsb"]["value"]).astype(bool)
        with self._changed:
            trace.add_edges(falling_edges(levels, self._pin_high, trace.samples), self.name)
            trace.extend(power / self.rate_hz)
            self._last_data = time.monotonic()
            self._changed.notify_all()
        self._pin_high = bool(levels[-1]) if len(levels) else self._pin_high
        self._next_id = end

    def stop(self) -> None:
        self.device.stop()

    def close(self) -> None:
        self.device.close()
