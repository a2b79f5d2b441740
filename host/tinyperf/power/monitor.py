"""Choosing and opening an energy monitor from `--monitor`.

Every monitor offers the same small contract (identify, configure, power on, start a trace, wait for
edges, stop, close). `KIND:sim` starts a simulated instrument that speaks the real instrument's
protocol (a pty for the LPM01A and PPK2, a TCP server for Otii and SCPI, the v1 API for Joulescope),
fed by the simulated board, so runs on the simulated board exercise the very driver a bench uses.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tinyperf.errors import ConfigError
from tinyperf.power.trace import Trace

if TYPE_CHECKING:
    from tinyperf.power.profiles import InstrumentProfile

NAMES = {"lpm01a": "LPM01A", "ppk2": "PPK2", "otii": "Otii", "scpi": "SCPI supply", "js220": "Joulescope JS220",
         "js110": "Joulescope JS110"}
SUPPORTED = ("sim (= lpm01a:sim), lpm01a:PORT, ppk2[:PORT[@D<n>]], otii[:HOST[:PORT]], scpi:VISA-RESOURCE, "
             "js220[:SERIAL], js110[:SERIAL]; any KIND:sim is the simulated instrument")
OTII_DEFAULT = "127.0.0.1:1905"


class Monitor(Protocol):
    rate_hz: int
    trace: Trace | None  # the running acquisition (None before start)

    def identify(self) -> dict[str, str]: ...

    def configure(self, voltage_v: float, rate_hz: int) -> None: ...

    def power_on(self) -> None: ...

    def start(self) -> Trace: ...

    def wait_for_edges(self, count: int, timeout_s: float) -> list[int]: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class MonitorSpec:
    kind: str  # lpm01a | ppk2 | otii | scpi | js220 | js110
    address: str | None  # port, host:port, VISA resource, serial number; "sim" for the simulated one

    @property
    def simulated(self) -> bool:
        return self.address == "sim"

    @property
    def label(self) -> str:
        name = NAMES[self.kind]
        if self.simulated:
            return f"simulated {name}"
        return f"{name} at {self.address}" if self.address else name


def parse_monitor(text: str) -> MonitorSpec:
    kind, _, address = text.partition(":")
    if text == "sim":
        return MonitorSpec("lpm01a", "sim")
    if kind not in NAMES:
        raise ConfigError(f"--monitor {text!r}: unknown monitor {kind!r}; expected one of {SUPPORTED}")
    if kind in ("lpm01a", "scpi") and not address:
        example = "lpm01a:/dev/ttyACM1" if kind == "lpm01a" else "scpi:TCPIP::192.168.1.20::5025::SOCKET"
        raise ConfigError(f"--monitor {kind} needs an address, e.g. {example} (or {kind}:sim)")
    return MonitorSpec(kind, address or None)


def default_rate_hz(spec: MonitorSpec) -> int:
    return spec_profile(spec).default_rate_hz


def spec_profile(spec: MonitorSpec) -> InstrumentProfile:
    """The instrument profile (rates, voltages) of the monitor `spec` names; a JS110 shares the JS220's."""
    from tinyperf.power.profiles import instrument_profile

    return instrument_profile("js220" if spec.kind == "js110" else spec.kind)


def open_monitor(spec: MonitorSpec, board_id: str, stack: contextlib.ExitStack,
                 sim_wire: Path | None = None) -> Monitor:
    """Open the monitor; a simulated one is started here and stopped when `stack` closes."""
    profile = spec_profile(spec)
    address = spec.address
    if spec.simulated:
        assert sim_wire is not None, "a simulated monitor needs the board's power wire"
        if spec.kind in ("js220", "js110"):
            from tinyperf.sim.instruments.joulescope import SimulatedJoulescope, start_feed

            device = SimulatedJoulescope(board_id, spec.kind.upper())
            stack.callback(start_feed(device, sim_wire))
            return _opened(stack, _joulescope(spec, profile, device))
        from tinyperf.sim.launcher import start_sim_monitor

        process = start_sim_monitor(spec.kind, board_id, sim_wire)
        stack.callback(process.stop)
        address = process.url
    return _opened(stack, _driver(spec, profile, address))


def _opened(stack: contextlib.ExitStack, monitor: Monitor) -> Monitor:
    stack.callback(monitor.close)
    return monitor


def _driver(spec: MonitorSpec, profile: InstrumentProfile, address: str | None) -> Monitor:
    if spec.kind == "lpm01a":
        from tinyperf.device.link import open_link
        from tinyperf.power.lpm01a import Lpm01a

        assert address is not None
        return Lpm01a(open_link(address, profile.baud), profile)
    if spec.kind == "ppk2":
        from tinyperf.power.ppk2 import Ppk2, find_ppk2

        port, _, channel = (address or find_ppk2()).partition("@")
        if channel and not (channel[:1] in "Dd" and channel[1:].isdigit() and int(channel[1:]) < 8):
            raise ConfigError(f"--monitor ppk2:{address}: the digital input is D0..D7, not {channel!r}")
        return Ppk2(port, profile, int(channel[1:]) if channel else 0)
    if spec.kind == "otii":
        from tinyperf.power.otii import Otii

        host, _, port = (address or OTII_DEFAULT).partition(":")
        return Otii(host, int(port or 1905), profile)
    if spec.kind == "scpi":
        from tinyperf.power.scpi import ScpiSupply

        assert address is not None
        resource = f"TCPIP::{address.replace(':', '::')}::SOCKET" if spec.simulated or "::" not in address else address
        return ScpiSupply(resource, profile)
    return _joulescope(spec, profile, None)


def _joulescope(spec: MonitorSpec, profile: InstrumentProfile, device: object | None) -> Monitor:
    from tinyperf.power.joulescope import Joulescope

    return Joulescope(spec.kind, None if spec.simulated else spec.address, profile, device)


def sim_wire_path(stack: contextlib.ExitStack) -> Path:
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="tinyperf-wire-"))
    stack.callback(shutil.rmtree, folder, True)  # the wire's socket and the supply state beside it
    return folder / "wire"
