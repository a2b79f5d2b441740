"""Driver for a Qoitech Otii Arc/Ace through the Otii 3 TCP server, with `otii-tcp-client`.

The Otii desktop application (or otii-server) owns the instrument; tinyperf talks to it over TCP
(default 127.0.0.1:1905) and needs its Automation license. The main current channel `mc` is the
energy trace (current x main voltage x interval per sample); the timestamp GPIO goes to GPI1 (`i1`),
whose level changes come with exact times, so each falling edge is placed in its sample directly.
The server answers one request at a time, so every call (main thread or reader) holds one lock.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from tinyperf.errors import MonitorError
from tinyperf.power.profiles import InstrumentProfile
from tinyperf.power.streaming import StreamingMonitor
from tinyperf.power.trace import Trace

POLL_S = 0.1
FETCH_MAX = 40_000  # otii-tcp-client's own chunk size


class Otii(StreamingMonitor):
    edge_hint = "is the DUT's timestamp GPIO wired to the Otii's GPI1?"

    def __init__(self, host: str, port: int, profile: InstrumentProfile) -> None:
        super().__init__(profile)
        from otii_tcp_client import otii_client

        self.name = f"Otii at {host}:{port}"
        self._io = threading.Lock()
        self.client = otii_client.OtiiClient()
        try:
            self.otii = self.client.connect(host=host, port=port, try_for_seconds=3)
            devices = self.otii.get_devices(timeout=3)
        except OSError as e:
            raise MonitorError(f"cannot reach the Otii server at {host}:{port} ({e}); start Otii 3 and enable its "
                               "TCP server (or run otii_server), then retry") from e
        except Exception as e:  # licensing and protocol errors from otii-tcp-client
            raise MonitorError(f"the Otii server at {host}:{port} refused the session: {e}") from e
        if not devices:
            raise MonitorError(f"the Otii server at {host}:{port} has no instrument attached")
        self.device = devices[0]
        self.project: Any = None
        self.recording: Any = None
        self._fetched = {"mc": 0, "i1": 0}
        self._pin_high = True

    def _call(self, what: str, function: Any, *args: Any) -> Any:
        with self._io:
            try:
                return function(*args)
            except MonitorError:
                raise
            except Exception as e:
                raise MonitorError(f"{self.name}: {what} failed: {e}") from e

    def identify(self) -> dict[str, str]:
        version = self._call("arc_get_version", self.device.get_version)
        return {"device": self.device.name, "type": self.device.type, "id": self.device.id,
                **{k: str(v) for k, v in version.items()}}

    def configure(self, voltage_v: float, rate_hz: int) -> None:
        self.profile.check_setup(voltage_v, rate_hz)
        self._call("setting the main voltage", self.device.set_main_voltage, voltage_v)
        self._call("enabling mc", self.device.enable_channel, "mc", True)
        self._call("enabling i1", self.device.enable_channel, "i1", True)
        self._call("setting the sample rate", self.device.set_channel_samplerate, "mc", rate_hz)
        self.project = self._call("opening a project", self.otii.get_active_project)
        self.voltage_v, self.rate_hz = voltage_v, rate_hz

    def power_on(self) -> None:
        self._call("switching main on", self.device.set_main, True)

    def start(self) -> Trace:
        if self.project is None:
            raise MonitorError("configure the Otii before starting a recording")
        trace = self._new_trace(1.0 / self.rate_hz)
        self._fetched, self._pin_high = {"mc": 0, "i1": 0}, True
        self._call("starting a recording", self.project.start_recording)
        self.recording = self._call("finding the recording", self.project.get_last_recording)
        self._start_reader(self._poll)
        return trace

    def stop(self) -> None:
        if self.project is not None:
            self._call("stopping the recording", self.project.stop_recording)
        self._call("switching main off", self.device.set_main, False)

    def close(self) -> None:
        self._stop_reader()
        with self._io:
            self.client.disconnect()

    # ---- reader thread ------------------------------------------------------------------------------
    def _poll(self) -> bool:
        time.sleep(POLL_S)
        trace, recording = self.trace, self.recording
        if trace is None or recording is None:
            return False
        got = self._fetch_current(recording, trace)
        self._fetch_edges(recording, trace)
        return got

    def _fetch_current(self, recording: Any, trace: Trace) -> bool:
        count = self._call("counting mc", recording.get_channel_data_count, self.device.id, "mc")
        start = self._fetched["mc"]
        if count <= start:
            return False
        data = self._call("reading mc", recording.get_channel_data, self.device.id, "mc", start,
                          min(count - start, FETCH_MAX))
        values = np.asarray(data["values"], dtype=np.float64)
        interval = float(data["interval"])
        if abs(interval * self.rate_hz - 1.0) > 1e-6:
            raise MonitorError(f"{self.name} records mc every {interval} s, not at the configured {self.rate_hz} Hz")
        with self._changed:
            trace.extend(values * self.voltage_v * interval)
        self._fetched["mc"] = start + len(values)
        return True

    def _fetch_edges(self, recording: Any, trace: Trace) -> None:
        count = self._call("counting i1", recording.get_channel_data_count, self.device.id, "i1")
        start = self._fetched["i1"]
        if count <= start:
            return
        data = self._call("reading i1", recording.get_channel_data, self.device.id, "i1", start, count - start)
        edges = []
        for change in data["values"]:
            high = bool(change["value"])
            if self._pin_high and not high:
                edges.append(int(float(change["timestamp"]) * self.rate_hz))
            self._pin_high = high
        with self._changed:
            trace.add_edges(edges, self.name)
        self._fetched["i1"] = start + len(data["values"])
