"""Boards in a labgrid farm: acquire a place, reach its serial port, flash through its driver, and
release the place at the end, even after an error.

labgrid (https://labgrid.readthedocs.io) runs a coordinator that knows every place and exporters
that serve the boards' resources; a serial port is exported through ser2net as a NetworkSerialPort
(RFC 2217). tinyperf drives the `labgrid-client` command rather than importing labgrid: labgrid pins
its own pyserial fork, so it lives in a virtualenv of its own (`make labgrid`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from tinyperf.errors import ConfigError, LinkError, ToolError

CLIENT_TIMEOUT_S = 60.0
BOOTSTRAP_TIMEOUT_S = 600.0


def labgrid_client() -> str:
    """`labgrid-client`: $TINYPERF_LABGRID_BIN/labgrid-client, else on PATH."""
    folder = os.environ.get("TINYPERF_LABGRID_BIN")
    candidate = Path(folder) / "labgrid-client" if folder else None
    if candidate is not None and candidate.is_file():
        return str(candidate)
    found = shutil.which("labgrid-client")
    if found is None:
        raise ToolError("labgrid-client not found: install labgrid in its own virtualenv (`make labgrid`, or "
                        "`python3 -m venv lg && lg/bin/pip install labgrid`) and put its bin/ on PATH or in "
                        "$TINYPERF_LABGRID_BIN")
    return found


@dataclass(frozen=True)
class LabgridPlace:
    name: str
    coordinator: str | None = None  # host:port; None: labgrid's own default ($LG_COORDINATOR, 127.0.0.1:20408)

    def client(self, *args: str, timeout_s: float = CLIENT_TIMEOUT_S) -> str:
        argv = [labgrid_client(), "-p", self.name, *args]
        env = dict(os.environ)
        if self.coordinator:
            env["LG_COORDINATOR"] = self.coordinator
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, env=env)
        except subprocess.TimeoutExpired:
            raise LinkError(f"labgrid place {self.name}: `labgrid-client {' '.join(args)}` did not finish in "
                            f"{timeout_s:.0f} s; is the coordinator at {self.where} up?") from None
        if done.returncode != 0:
            message = (done.stderr.strip() or done.stdout.strip()).splitlines()
            raise LinkError(f"labgrid place {self.name} (coordinator {self.where}): `labgrid-client "
                            f"{' '.join(args)}` failed: {message[-1] if message else 'no output'}")
        return done.stdout

    @property
    def where(self) -> str:
        return self.coordinator or os.environ.get("LG_COORDINATOR", "127.0.0.1:20408")

    def acquire(self) -> None:
        self.client("acquire")

    def release(self) -> None:
        self.client("release")

    def serial_url(self) -> str:
        """The place's NetworkSerialPort as a pyserial URL (it must be acquired)."""
        env = yaml.safe_load(self.client("env")) or {}
        resources = (env.get("targets", {}).get(self.name) or {}).get("resources", [])
        ports = [r["NetworkSerialPort"] for r in resources if "NetworkSerialPort" in r]
        if not ports:
            kinds = sorted(k for r in resources for k in r)
            raise ConfigError(f"labgrid place {self.name} has no NetworkSerialPort (it has {kinds or 'nothing'}); "
                              "export the board's serial port (RawSerialPort or USBSerialPort) and add-match it")
        port = ports[0]
        if port.get("protocol", "rfc2217") == "raw":
            return f"socket://{port['host']}:{port['port']}"
        # ser2net on a pty (and some USB adapters) never acks modem-control changes: do not wait for them
        return f"rfc2217://{port['host']}:{port['port']}?ign_set_control"

    def bootstrap(self, firmware: Path) -> str:
        """Flash `firmware` through the place's bootstrap driver (OpenOCD, pyOCD, ... as the place's
        labgrid environment configures it)."""
        return self.client("bootstrap", str(firmware), timeout_s=BOOTSTRAP_TIMEOUT_S)


@contextlib.contextmanager
def acquired(places: list[LabgridPlace]) -> Iterator[list[str]]:
    """Acquire every place and yield their serial URLs; whatever was acquired is released on the way
    out, error or not (a release that fails is reported after the run's own error, never instead)."""
    held: list[LabgridPlace] = []
    in_flight: BaseException | None = None
    try:
        for place in places:
            place.acquire()
            held.append(place)
        yield [place.serial_url() for place in held]
    except BaseException as e:
        in_flight = e
        raise
    finally:
        failures = []
        for place in reversed(held):
            try:
                place.release()
            except (LinkError, ToolError) as e:
                failures.append(str(e))
        if failures and in_flight is not None:
            in_flight.add_note("releasing labgrid places failed too: " + "; ".join(failures))
        elif failures:
            raise LinkError("; ".join(failures))
