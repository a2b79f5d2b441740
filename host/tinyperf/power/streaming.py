"""What every monitor driver shares: a reader thread that never stops draining the instrument, and
bounded waits for timestamp edges.

The DUT's `infer` keeps the main thread busy for 10 s and more while the instrument keeps sending
(a PPK2 ~400 kB/s), so a thread reads all the time and appends to the `Trace`. Whatever goes wrong in
it (a vanished port, a malformed record) is kept and raised in the main thread at its next wait;
the samples received so far stay in `trace`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tinyperf.deadline import Deadline
from tinyperf.errors import MonitorError
from tinyperf.power.energy import LEVEL_SAMPLES
from tinyperf.power.profiles import InstrumentProfile
from tinyperf.power.trace import Trace

STALL_TIMEOUT_S = 3.0


class StreamingMonitor:
    name = "monitor"  # e.g. "PPK2 at /dev/ttyACM0", for messages
    edge_hint = "is the timestamp GPIO wired to the monitor's event input?"

    def __init__(self, profile: InstrumentProfile, stall_timeout_s: float = STALL_TIMEOUT_S) -> None:
        self.profile = profile
        self.rate_hz = profile.default_rate_hz  # until configure()
        self.voltage_v = profile.voltage_v.default
        self.stall_timeout_s = stall_timeout_s
        self.trace: Trace | None = None
        self._changed = threading.Condition()
        self._failure: MonitorError | None = None
        self._last_data = time.monotonic()
        self._closing = False
        self._reader: threading.Thread | None = None

    # ---- reader thread ----------------------------------------------------------------------------
    def _start_reader(self, step: Callable[[], bool]) -> None:
        """Run `step()` (True when data came) until close; remember the first failure. Once per driver:
        a second acquisition reuses the running reader."""
        if self._reader is not None:
            return

        def loop() -> None:
            try:
                while not self._closing:
                    if step():
                        with self._changed:
                            self._last_data = time.monotonic()
                            self._changed.notify_all()
            except MonitorError as e:
                failure = e
            except Exception as e:  # a port that vanished (unplugged monitor) ends up here
                failure = MonitorError(f"reading the {self.name} failed: {e}")
            else:
                return
            with self._changed:
                self._failure = failure
                self._changed.notify_all()

        self._reader = threading.Thread(target=loop, name=f"{self.name}-reader", daemon=True)
        self._reader.start()

    def _stop_reader(self) -> None:
        self._closing = True
        if self._reader is not None:
            self._reader.join(timeout=2.0)

    def _new_trace(self, period_s: float, edge_source: str = "timestamp GPIO") -> Trace:
        with self._changed:
            self.trace = Trace(period_s, edge_source=edge_source)
            self._last_data = time.monotonic()
            self._failure = None
        return self.trace

    # ---- waits --------------------------------------------------------------------------------------
    def _wait(self, ready: Callable[[], bool], deadline: Deadline, stalled: Callable[[], MonitorError] | None,
              expired: Callable[[], MonitorError]) -> None:
        """Block until `ready()`; raise the reader's failure, a stall, or `expired()` at the deadline."""
        with self._changed:
            while not ready():
                if self._failure is not None:
                    raise self._failure
                if stalled is not None and time.monotonic() - self._last_data > self.stall_timeout_s:
                    raise stalled()
                if deadline.expired():
                    raise expired()
                self._changed.wait(min(0.1, max(deadline.remaining(), 0.001)))

    def wait_for_edges(self, count: int, timeout_s: float) -> list[int]:
        """Wait until `count` edges are in and enough samples follow the last one to see its step."""
        trace = self.trace
        if trace is None:
            raise MonitorError("no acquisition is running (call start first)")
        self._wait(
            lambda: len(trace.edges) >= count and trace.samples > trace.edges[count - 1] + LEVEL_SAMPLES,
            Deadline(timeout_s),
            lambda: MonitorError(f"{self.name} stopped streaming after {trace.samples} samples "
                                 f"(nothing for {self.stall_timeout_s:g} s)"),
            lambda: MonitorError(f"waited {timeout_s:g} s for {count} timestamp edges; the {self.name} saw "
                                 f"{len(trace.edges)} in {trace.samples} samples ({self.edge_hint})"),
        )
        return trace.edges[:count]
