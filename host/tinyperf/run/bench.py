"""Stage 2 of a run: the connected bench. The monitor started and acquiring (energy), the labgrid places
acquired, and every board of the run reached, negotiated and checked to run the right model."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tinyperf.device.boards import Board
from tinyperf.device.connection import Connection, ConnectionSettings
from tinyperf.device.dut import Device, Identity
from tinyperf.device.emulate import start_emulated_board
from tinyperf.device.labgrid_place import LabgridPlace
from tinyperf.device.labgrid_place import acquired as labgrid_acquired
from tinyperf.device.link import Link, RecordingLink, open_link
from tinyperf.device.link.faults import FaultLink, FaultPlan
from tinyperf.device.ports import board_port
from tinyperf.errors import ConfigError, ProtocolError
from tinyperf.firmware.build import BuildManifest, builds_folder
from tinyperf.firmware.flash.reset import board_reset_action
from tinyperf.power.monitor import Monitor, MonitorSpec, default_rate_hz, open_monitor, sim_wire_path
from tinyperf.power.profiles import supply_voltage
from tinyperf.run.plan import RunPlan
from tinyperf.run.request import RunRequest, sim_options
from tinyperf.run.session import Session
from tinyperf.sim.board.interface_board import INTERFACE_DUT_BAUD
from tinyperf.sim.launcher import SimBoardProcess, start_sim_board
from tinyperf.suite.models import ModelEntry, ResolvedModel

Connected = tuple[Connection, Device, Identity, Link]


@dataclass
class ConnectedBench:
    """What the measuring stage needs: the boards (the first one leads) and the monitor, if any."""

    request: RunRequest  # as run: labgrid places fill in the ports
    shards: list[Connected]
    monitor: Monitor | None

    @property
    def device(self) -> Device:
        return self.shards[0][1]

    @property
    def identity(self) -> Identity:
        return self.shards[0][2]

    def link_figures(self) -> dict:
        connection, _, _, link = self.shards[0]
        figures = _link_figures(connection, link)
        if len(self.shards) > 1:
            figures["boards"] = [_link_figures(c, lk) | {"url": c.link.url} for c, _, _, lk in self.shards]
        return figures


def connect_bench(plan: RunPlan, session: Session, stack: contextlib.ExitStack) -> ConnectedBench:
    """Everything the run talks to, opened on `stack` (closed however the run ends)."""
    request, board = plan.request, plan.board
    monitor = None
    wire = None
    if plan.monitor is not None:
        wire = sim_wire_path(stack) if plan.monitor.simulated else None
        monitor = start_monitor(plan.monitor, board, request, stack, session, wire)
    if request.labgrid_places:
        request = _through_labgrid(request, stack, session)
    shards = _connect_shards(board, request, plan.model, plan.entry, stack, session, wire, plan.firmware)
    return ConnectedBench(request, shards, monitor)


def start_monitor(spec: MonitorSpec, board: Board, request: RunRequest, stack: contextlib.ExitStack,
                  session: Session, wire: Path | None) -> Monitor:
    """Open, configure, power and start the monitor; its trace is kept however the run ends."""
    monitor = open_monitor(spec, board.id, stack, wire)
    monitor.configure(supply_voltage(board.id), request.monitor_rate_hz or default_rate_hz(spec))
    monitor.power_on()
    monitor.start()
    stack.callback(_finish_acquisition, monitor, session)
    return monitor


def monitor_figures(monitor: Monitor, spec: MonitorSpec, board: Board) -> dict:
    return {"kind": spec.label, "rate_hz": monitor.rate_hz,  # type: ignore[attr-defined]
            "voltage_v": supply_voltage(board.id), "trace": "trace.npz"}


def _finish_acquisition(monitor: Monitor, session: Session) -> None:
    """Stop the monitor and keep its raw trace, whatever happened to the run."""
    try:
        monitor.stop()
    finally:
        if monitor.trace is not None:
            monitor.trace.save(session.root / "trace.npz")


def real_silicon(board: Board) -> bool:
    """A real board keeps real time: its clock cannot count more than the host waited."""
    return not board.simulated and board.emulator is None


def _through_labgrid(request: RunRequest, stack: contextlib.ExitStack, session: Session) -> RunRequest:
    """Acquire the places (released when the run ends, however it ends) and run on their ports."""
    if request.port or request.shard_ports:
        raise ConfigError("give the boards as --port or as --labgrid-place, not both")
    places = [LabgridPlace(name, request.labgrid_coordinator) for name in request.labgrid_places]
    urls = stack.enter_context(labgrid_acquired(places))
    session.journal({"event": "labgrid", "places": list(request.labgrid_places), "ports": urls,
                     "coordinator": places[0].where})
    return replace(request, port=urls[0], shard_ports=tuple(urls[1:]))


def _connect_shards(board: Board, request: RunRequest, model: ResolvedModel, entry: ModelEntry,
                    stack: contextlib.ExitStack, session: Session, wire: Path | None,
                    firmware: BuildManifest | None) -> list[Connected]:
    """Every board of the run, connected, negotiated and checked to run the right model. One unless an
    accuracy run was given several ports (or simulated boards); their transcripts are log.txt, log-1.txt..."""
    count = max(request.sim_boards, 1 + len(request.shard_ports))
    if count > 1 and request.mode != "accuracy":
        raise ConfigError(f"several boards share out accuracy runs only; a {request.mode} run measures one board "
                          "(run it once per board)")
    if request.sim_boards > 1 and not board.simulated:
        raise ConfigError(f"--sim-boards is for simulated boards; give {board.id} boards as --port P1 --port P2 ...")
    connected = []
    for index in range(count):
        if request.shard_ports or request.port:
            url, sim = ((request.port, *request.shard_ports)[index], None)
        else:
            url, sim = _port_for(board, request, model, entry, stack, wire, firmware)
        log = session.log_path if index == 0 else session.root / f"log-{index}.txt"
        connected.append(_connect(board, request, entry, url, sim, stack, session, log, index))
    return connected


def _connect(board: Board, request: RunRequest, entry: ModelEntry, url: str, sim: SimBoardProcess | None,
             stack: contextlib.ExitStack, session: Session, log: Path, index: int) -> Connected:
    baud = request.baud or board.baud
    link: Link = stack.enter_context(RecordingLink(open_link(url, baud), log))
    fault_plan = FaultPlan.parse(request.faults) if request.faults else None
    if fault_plan is not None:
        link = FaultLink(link, replace(fault_plan, seed=fault_plan.seed + index), sim)
        session.journal({"event": "faults", "plan": fault_plan.describe(), "board": index})
    settings = ConnectionSettings(baud, request.protocol, request.fast_baud, request.timeout_s,
                                  request.interface_board, outputs=entry.result_count)
    connection = Connection(link, settings, _reset_action(board, sim), session.journal)
    device = connection.open()
    identity = device.identify()
    if identity.model != request.benchmark:
        raise ProtocolError(
            f"the device at {url} runs model {identity.model!r}, not {request.benchmark!r}; "
            "flash the right firmware or change --benchmark"
        )
    session.journal({"event": "identity", **asdict(identity), "port": url, "protocol": device.protocol})
    return connection, device, identity, link


def _port_for(board: Board, request: RunRequest, model: ResolvedModel, entry: ModelEntry,
              stack: contextlib.ExitStack, energy_wire: Path | None = None,
              firmware: BuildManifest | None = None) -> tuple[str, SimBoardProcess | None]:
    """The URL to open, and the simulated board's process when this run started one (it can be reset)."""
    if request.port:
        return request.port, None
    if board.emulator is not None:
        emulated = start_emulated_board(board, _emulated_firmware(board, request, firmware))
        stack.callback(emulated.stop)
        return emulated.url, None
    if board.simulated:
        options = sim_options(request.sim_options)
        sim = start_sim_board(board.id, request.benchmark, model.path, request.pacing, request.baud,
                              bin_format=entry.input.bin_format, energy_wire=energy_wire,
                              interface_baud=INTERFACE_DUT_BAUD if request.interface_board else None, **options)
        stack.callback(sim.stop)
        return sim.url, sim
    return board_port(board), None


def _emulated_firmware(board: Board, request: RunRequest, manifest: BuildManifest | None) -> Path:
    if request.firmware is not None:
        return request.firmware
    assert manifest is not None  # checked by _firmware_manifest before the session started
    return builds_folder(request.builds_dir, board.id) / manifest.elf


def _reset_action(board: Board, sim: SimBoardProcess | None) -> Callable[[], None] | None:
    """How this run can reset the board: the simulated board's reset line, or the flasher's reset."""
    if sim is not None:
        return sim.reset
    if board.simulated or board.emulator is not None:
        return None
    return board_reset_action(board)


def _link_figures(connection: Connection, link: Link) -> dict:
    device = connection.device
    figures: dict = {"protocol": device.protocol if device else "legacy", "baud": connection.baud,
                     "recoveries": connection.recoveries}
    if device is not None and device.extended is not None:
        stats = connection.stats
        figures.update(frames_sent=stats.frames_sent, frames_resent=stats.resent, keepalive_pings=stats.pings,
                       naks=stats.naks,
                       bad_frames_received=stats.bad_frames, bytes_sent=stats.bytes_sent)
    if isinstance(link, FaultLink):
        figures["faults_injected"] = dict(link.injected)
    return figures
