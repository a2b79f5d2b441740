"""Choosing and opening an energy monitor from `--monitor`: `sim`, or `lpm01a:PORT`.

Every monitor offers the same small contract (configure, power on, start a trace, wait for edges,
stop, close); the simulated one is a separate process speaking the real LPM01A protocol on a pty, so
runs on the simulated board exercise the very driver a bench uses.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tinyperf.errors import ConfigError
from tinyperf.power.trace import Trace


class Monitor(Protocol):
    rate_hz: int
    trace: Trace | None  # the running acquisition (None before start)

    def configure(self, voltage_v: float, rate_hz: int) -> None: ...

    def power_on(self) -> None: ...

    def start(self) -> Trace: ...

    def wait_for_edges(self, count: int, timeout_s: float) -> list[int]: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class MonitorSpec:
    kind: str  # "sim" | "lpm01a"
    port: str | None

    @property
    def label(self) -> str:
        return "simulated LPM01A" if self.kind == "sim" else f"LPM01A at {self.port}"


SUPPORTED = "sim, lpm01a:PORT"


def parse_monitor(text: str) -> MonitorSpec:
    kind, _, port = text.partition(":")
    if kind == "sim" and not port:
        return MonitorSpec("sim", None)
    if kind == "lpm01a" and port:
        return MonitorSpec("lpm01a", port)
    if kind in ("js220", "js110", "ppk2", "otii", "scpi"):
        raise ConfigError(f"--monitor {text}: the {kind} driver is not built yet; supported: {SUPPORTED}")
    raise ConfigError(f"--monitor {text!r}: expected one of {SUPPORTED} (e.g. lpm01a:/dev/ttyACM1)")


def open_monitor(spec: MonitorSpec, board_id: str, stack: contextlib.ExitStack,
                 sim_wire: Path | None = None) -> Monitor:
    """Open the monitor; a simulated one is started here and stopped when `stack` closes."""
    from tinyperf.link import open_link
    from tinyperf.power.lpm01a import Lpm01a
    from tinyperf.power.profiles import instrument_profile

    profile = instrument_profile("lpm01a")
    if spec.kind == "sim":
        from tinyperf.sim.launcher import start_sim_monitor

        assert sim_wire is not None
        process = start_sim_monitor(board_id, sim_wire)
        stack.callback(process.stop)
        url = process.url
    else:
        assert spec.port is not None
        url = spec.port
    monitor = Lpm01a(open_link(url, profile.baud), profile)
    stack.callback(monitor.close)
    return monitor


def sim_wire_path(stack: contextlib.ExitStack) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tinyperf-wire-"))
    stack.callback(lambda: (folder / "wire").unlink(missing_ok=True) or folder.rmdir())
    return folder / "wire"
