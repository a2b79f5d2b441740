"""One benchmark run from request to session folder: board, model, link, device, mode, results."""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

from tinyperf import __version__
from tinyperf.device.boards import Board, get_board
from tinyperf.device.connection import Connection, ConnectionSettings, Protocol
from tinyperf.device.dut import Device, Identity
from tinyperf.device.emulate import start_emulated_board
from tinyperf.device.labgrid_place import LabgridPlace
from tinyperf.device.labgrid_place import acquired as labgrid_acquired
from tinyperf.device.link import Link, RecordingLink, open_link
from tinyperf.device.link.faults import FaultLink, FaultPlan
from tinyperf.device.ports import board_port
from tinyperf.errors import ConfigError, DatasetError, ProtocolError, RunInterrupted
from tinyperf.firmware.build import BuildManifest, builds_folder, built_for
from tinyperf.firmware.flash.reset import board_reset_action
from tinyperf.power.monitor import Monitor, MonitorSpec, default_rate_hz, open_monitor, parse_monitor, sim_wire_path
from tinyperf.power.profiles import supply_voltage
from tinyperf.results.store import dataset_hash, file_sha256, index_session
from tinyperf.run.modes import NoProgress, ProgressSink
from tinyperf.run.modes.accuracy import Shard, record_fits, run_accuracy_sharded
from tinyperf.run.modes.energy import run_duty_cycle, run_energy
from tinyperf.run.modes.performance import PerformanceSettings, run_performance
from tinyperf.run.modes.scenarios import run_offline, run_single_stream
from tinyperf.run.provenance import dataset_provenance, submittable_reasons
from tinyperf.run.session import Session, SessionWriteError, finished_samples, journaled_request
from tinyperf.sim.board.interface_board import INTERFACE_DUT_BAUD
from tinyperf.sim.board.truth import simulated_truth, truth_line
from tinyperf.sim.launcher import SimBoardProcess, start_sim_board
from tinyperf.suite.datasets import Sample, load_dataset
from tinyperf.suite.fallback_models import resolve_fallback
from tinyperf.suite.models import ModelEntry, ResolvedModel, fallback_entry, get_entry, resolve_model
from tinyperf.suite.scoring import auc_text
from tinyperf.suite.smoke.store import smoke_dataset
from tinyperf.suite.synthetic import synthetic_inputs

Mode = Literal["performance", "accuracy", "energy"]
ModelSource = Literal["official", "fallback"]
SIMULATED_NOTE = "SIMULATED: {board} is a simulated board; its times come from a declared cycle model, not silicon."
MODELLED_NOTE = ("MODELLED: no silicon figure is published for {benchmark}; its time is the cycle model's "
                 "extrapolation from the model's operators and MACs (fitted to {fitted} only).")


@dataclass
class RunRequest:
    board: str
    benchmark: str
    mode: Mode
    port: str | None = None
    dataset: Path | None = None
    model: Path | None = None
    sessions_dir: Path = Path("sessions")
    pacing: Literal["virtual", "realtime"] = "virtual"
    baud: int | None = None
    timeout_s: float = 5.0
    models: ModelSource = "official"
    monitor: str | None = None  # energy mode: "sim" or "lpm01a:PORT"
    monitor_rate_hz: int | None = None  # None: the instrument's default (power/instruments/*.yaml)
    interface_board: bool = False  # talk through an energy-mode interface board (`dut <cmd>%`)
    performance: PerformanceSettings = field(default_factory=PerformanceSettings)
    firmware: Path | None = None  # emulated boards: the ELF to run (default: the last `tinyperf build`)
    builds_dir: Path = Path("builds")
    protocol: Protocol = "auto"  # auto: the tinyperf extension when the device offers it, else legacy
    fast_baud: int | None = None  # extension: switch to this rate after negotiating (falls back if it fails)
    faults: str | None = None  # fault plan for the link (tests, benchmarks): "corrupt=0.01,hang=0.002,seed=1"
    sim_options: tuple[str, ...] = ()  # simulated boards: legacy-only, reuses-input-tensor, max-baud=N
    shard_ports: tuple[str, ...] = ()  # accuracy: more identical boards beside `port`; samples are shared out
    sim_boards: int = 1  # accuracy on a simulated board: how many to start and share the samples across
    labgrid_places: tuple[str, ...] = ()  # boards in a labgrid farm: acquired, reached, released at the end
    labgrid_coordinator: str | None = None  # host:port (default: labgrid's, $LG_COORDINATOR)
    single_stream: int = 0  # performance: after the windows, this many single timed inferences (p50/p90/p99)
    offline_s: float = 0.0  # performance: after the windows, one back-to-back window this long (sustained inf./s)
    duty_rate_hz: float = 0.0  # energy: after the windows, requests at this rate with the device asleep between
    duty_requests: int = 30
    duty_arrivals: Literal["periodic", "poisson"] = "periodic"
    interface_port: str | None = None  # sww01 on a bench: the enhanced interface board's port
    score_as_open_runner: bool = False  # sww01: score with the open runner's end + 2 s window


@dataclass
class RunOutcome:
    session: Session
    board: Board
    identity: Identity
    model: ResolvedModel
    figures: dict
    dataset_note: str
    firmware: BuildManifest | None = None


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


def sim_options(words: tuple[str, ...]) -> dict:
    """`legacy-only`, `reuses-input-tensor`, `max-baud=N`, `slowdown=F`, `window-jitter=F`, `jitter-seed=N`
    -> start_sim_board keyword arguments."""
    options: dict = {}
    numbers = {"max-baud": int, "slowdown": float, "window-jitter": float, "jitter-seed": int}
    for word in words:
        name, _, value = word.partition("=")
        if name in ("legacy-only", "reuses-input-tensor") and not value:
            options[name.replace("-", "_")] = True
            continue
        try:
            options[name.replace("-", "_")] = numbers[name](value)
        except (KeyError, ValueError):
            raise ConfigError(f"unknown simulated-board option {word!r}; known: legacy-only, reuses-input-tensor, "
                              "max-baud=N, slowdown=F, window-jitter=F, jitter-seed=N") from None
    return options


def _emulated_firmware(board: Board, request: RunRequest, manifest: BuildManifest | None) -> Path:
    if request.firmware is not None:
        return request.firmware
    assert manifest is not None  # checked by _firmware_manifest before the session started
    return builds_folder(request.builds_dir, board.id) / manifest.elf


def _firmware_manifest(board: Board, request: RunRequest) -> BuildManifest | None:
    """An emulated board runs the last firmware built for it; it must be built for this benchmark."""
    if board.emulator is None or request.port or request.firmware is not None:
        return None
    return built_for(request.builds_dir, board.id, request.benchmark)


def _perf_inputs(entry: ModelEntry, samples: list[Sample] | None) -> tuple[list[tuple[str, bytes]], str]:
    if samples:
        picked = samples[:5]
        return [(s.name, s.windows(s.path.read_bytes())[0]) for s in picked], "first 5 dataset rows"
    return synthetic_inputs(entry, 5), "5 synthetic inputs (seed 0); throughput does not depend on values"


def _check_fits_board(board: Board, entry: ModelEntry, benchmark: str) -> None:
    if entry.input.bin_bytes > board.max_input_bytes:
        raise ConfigError(
            f"{benchmark} inputs are {entry.input.bin_bytes} bytes but {board.id} buffers {board.max_input_bytes}"
        )


def execute(request: RunRequest, progress: ProgressSink | None = None, resume: Path | None = None) -> RunOutcome:
    """Validate everything that can be validated before touching the device, then run.

    With `resume`, `request` is the one journaled in that session folder; its finished samples are kept."""
    progress = progress or NoProgress()
    original_request = request  # before labgrid fills in ports: what a rerun must ask for again
    board = get_board(request.board)
    entry, model = _model_for(request)
    if entry.streaming:
        if resume is not None:
            raise ConfigError("a sww01 stream is one measurement: run it again instead of --resume")
        from tinyperf.suite.sww.session_run import execute_streaming

        return execute_streaming(request, board, entry, model, progress)
    _check_fits_board(board, entry, request.benchmark)
    dataset = request.dataset
    if request.mode == "accuracy" and dataset is None:
        if not entry.fits_official_datasets:
            raise DatasetError(
                f"the {request.benchmark} registry fallback takes other inputs ({entry.not_official_note}); the "
                "packaged smoke set is built for the official model. Pass --dataset DIR built for this model."
            )
        dataset = smoke_dataset(request.benchmark)  # the packaged real-input smoke set
    samples = load_dataset(dataset, entry) if dataset else None
    dataset_note = _dataset_note(dataset)
    monitor_spec = monitor_spec_for(request, board)
    firmware = _firmware_manifest(board, request)
    if request.faults:
        FaultPlan.parse(request.faults)  # a bad plan is refused before anything starts
    done: dict[str, dict] = {}
    if resume is not None:
        session = Session(resume)
        session.lock()
        torn = session.mend_torn_journal()
        done = finished_samples(session, lambda record: record_fits(record, entry))
        session.journal({"event": "resume", "finished_samples": len(done), **({"torn_line": torn} if torn else {})})
    else:
        session = Session.create(request.sessions_dir, board.id, request.benchmark, request.mode)
        session.lock()
        session.journal({"event": "start", "request": jsonable(asdict(request))})
    try:
        with contextlib.ExitStack() as stack:
            monitor = None
            wire = None
            if monitor_spec is not None:
                wire = sim_wire_path(stack) if monitor_spec.simulated else None
                monitor = start_monitor(monitor_spec, board, request, stack, session, wire)
            if request.labgrid_places:
                request = _through_labgrid(request, stack, session)
            shards = _connect_shards(board, request, model, entry, stack, session, wire, firmware)
            connection, device, identity, link = shards[0]
            if request.mode == "performance":
                inputs, dataset_note = _perf_inputs(entry, samples)
                figures = run_performance(device, inputs, request.performance, session.journal, progress,
                                          realtime_clock=_real_silicon(board))
                if request.single_stream:
                    figures["single_stream"] = run_single_stream(device, inputs[0][1], request.single_stream,
                                                                 figures["latency_ms"], session.journal, progress)
                if request.offline_s:
                    figures["offline"] = run_offline(device, inputs[0][1], request.offline_s, figures["latency_ms"],
                                                     session.journal)
            elif request.mode == "energy":
                assert monitor is not None
                inputs, dataset_note = _perf_inputs(entry, samples)
                figures = run_energy(device, monitor, inputs, request.performance, session.journal, progress,
                                     realtime_clock=_real_silicon(board) and not monitor_spec.simulated)
                if request.duty_rate_hz:
                    figures["duty_cycle"] = run_duty_cycle(device, monitor, inputs[0][1], request.duty_rate_hz,
                                                           request.duty_requests, request.duty_arrivals,
                                                           journal=session.journal)
                figures["monitor"] = monitor_figures(monitor, monitor_spec, board)
            else:
                assert samples is not None
                figures = run_accuracy_sharded(
                    [Shard(d, c.recover, f"board {i} ({c.link.url})" if len(shards) > 1 else "")
                     for i, (c, d, _, _) in enumerate(shards)], samples, entry, session.journal, progress, done)
            figures["link"] = _link_figures(connection, link)
            if len(shards) > 1:
                figures["link"]["boards"] = [_link_figures(c, lk) | {"url": c.link.url} for c, _, _, lk in shards]
    except KeyboardInterrupt as e:
        session.journal({"event": "interrupted", "by": str(e) or "SIGINT"})
        if request.mode == "accuracy" and _has_finished_samples(session):
            raise RunInterrupted(f"interrupted; finished samples are journaled in {session.root}: continue with "
                                 f"`tinyperf run --resume {session.root}`") from None
        raise RunInterrupted(f"interrupted; what was measured is journaled in {session.root}/journal.jsonl "
                             f"(this {request.mode} run cannot be continued: run it again)") from None
    except Exception as e:
        record_error(session, e)
        if request.mode == "accuracy" and _has_finished_samples(session):
            e.add_note(f"finished samples are journaled: continue with `tinyperf run --resume {session.root}`")
        raise
    if board.simulated and request.mode != "accuracy":
        figures["truth"] = simulated_truth(board.id, model.path, request.mode)
    provenance = dataset_provenance(request.benchmark, dataset, samples, smoke=request.dataset is None)
    figures["data"] = provenance.as_dict()
    reasons = submittable_reasons(request.mode, figures["valid"], board.kind, model.official, provenance)
    figures["submittable"] = {"closed": not reasons, "reasons": reasons}
    outcome = RunOutcome(session, board, identity, model, figures, dataset_note, firmware)
    write_provenance(original_request, outcome, dataset)
    _write_results(request, outcome, entry)
    index(session)
    return outcome


def start_monitor(spec: MonitorSpec, board: Board, request: RunRequest, stack: contextlib.ExitStack,
                  session: Session, wire: Path | None) -> Monitor:
    """Open, configure, power and start the monitor; its trace is kept however the run ends."""
    monitor = open_monitor(spec, board.id, stack, wire)
    monitor.configure(_supply_voltage(board), request.monitor_rate_hz or default_rate_hz(spec))
    monitor.power_on()
    monitor.start()
    stack.callback(_finish_acquisition, monitor, session)
    return monitor


def monitor_figures(monitor: Monitor, spec: MonitorSpec, board: Board) -> dict:
    return {"kind": spec.label, "rate_hz": monitor.rate_hz,  # type: ignore[attr-defined]
            "voltage_v": _supply_voltage(board), "trace": "trace.npz"}


def record_error(session: Session, error: Exception) -> None:
    """error.txt and a journal record; a read-only folder must not hide the cause."""
    with contextlib.suppress(OSError, SessionWriteError):
        (session.root / "error.txt").write_text(f"{error}\n\n{traceback.format_exc()}", encoding="utf-8")
        session.journal({"event": "error", "message": str(error)})


def _pacing_label(request: RunRequest, board: Board) -> str | None:
    """How a simulated board's time ran: as this run started it, or "external" for one reached by --port
    (a `tinyperf sim` or `tinyperf sim --bench` started elsewhere: its own --pacing; a bench is realtime)."""
    if not board.simulated:
        return None
    return "external" if request.port else request.pacing


def _real_silicon(board: Board) -> bool:
    """A real board keeps real time: its clock cannot count more than the host waited."""
    return not board.simulated and board.emulator is None


def _has_finished_samples(session: Session) -> bool:
    try:
        return bool(finished_samples(session))
    except ConfigError:
        return False


def write_provenance(request: RunRequest, outcome: RunOutcome, dataset: Path | None) -> None:
    """What `tinyperf rerun` needs to repeat this run, and to refuse if an input has changed."""
    firmware_sha = None
    if outcome.firmware is not None:
        elf = builds_folder(request.builds_dir, outcome.board.id) / outcome.firmware.elf
        firmware_sha = file_sha256(elf) if elf.is_file() else None
    provenance = {
        "request": jsonable(asdict(request)),
        "model_sha256": outcome.model.sha256, "model_source": outcome.model.source,
        "dataset": str(dataset.resolve()) if dataset else None,
        "dataset_hash": dataset_hash(dataset) if dataset else None,
        "firmware_sha256": firmware_sha,
        "firmware": None if outcome.firmware is None else {
            "engine": outcome.firmware.engine, "kernels": outcome.firmware.kernels, "tflm": outcome.firmware.tflm,
            "sources": outcome.firmware.sources, "builder": outcome.firmware.builder},
        "versions": {"tinyperf": __version__, "python": platform.python_version(),
                     **{name: _version(name) for name in ("tflite-micro", "pyserial", "numpy")}},
        "host": platform.node(),
    }
    (outcome.session.root / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")


def _version(package: str) -> str | None:
    import importlib.metadata  # 50 ms: only when a session's provenance is written

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def index(session: Session) -> None:
    """The store is an index over session folders: failing to update it loses nothing, and says so."""
    try:
        index_session(session.root)
    except (ConfigError, OSError) as e:
        session.journal({"event": "store-error", "error": str(e)})
        print(f"warning: the run is saved in {session.root} but not indexed ({e}); "
              f"`tinyperf store index {session.root.parent}` adds it later", file=sys.stderr)


Connected = tuple[Connection, Device, Identity, Link]


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


def resumed_request(root: Path, port: str | None = None) -> RunRequest:
    """The request a session was started with; only accuracy runs resume (their samples are independent)."""
    data = dict(journaled_request(root))
    if data.get("mode") != "accuracy":
        raise ConfigError(f"{root} is a {data.get('mode')} run; only accuracy runs resume (performance and energy "
                          "windows are measured again from the start: rerun them)")
    known = {f.name for f in fields(RunRequest)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{root / 'journal.jsonl'}:1: request fields {unknown} are not known to this tinyperf")
    where = f"{root / 'journal.jsonl'}:1"
    try:
        data["performance"] = PerformanceSettings(**data.get("performance", {}))
        for name in ("dataset", "model", "sessions_dir", "firmware", "builds_dir"):
            if data.get(name) is not None:
                data[name] = Path(data[name])
        data["sim_options"] = tuple(data.get("sim_options", ()))
        if port is not None:
            data["port"] = port
        return RunRequest(**data)
    except TypeError as e:
        raise ConfigError(f"{where}: the journaled request does not fit this tinyperf ({e})") from None


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


def monitor_spec_for(request: RunRequest, board: Board) -> MonitorSpec | None:
    if request.mode != "energy":
        if request.monitor:
            raise ConfigError("--monitor is for --mode energy")
        return None
    if not request.monitor:
        raise ConfigError("energy mode needs --monitor (sim for the simulated board, or e.g. lpm01a:PORT)")
    spec = parse_monitor(request.monitor)
    if board.simulated and not spec.simulated and not request.port:
        raise ConfigError(f"{board.id} is a simulated board: it is metered by a simulated monitor "
                          f"(--monitor sim, or {spec.kind}:sim), or, on a bench from `tinyperf sim --bench`, "
                          f"give --port and --monitor {spec.kind}:PORT with the bench's ports")
    if not board.simulated and spec.simulated:
        raise ConfigError(f"--monitor {request.monitor} meters only simulated boards; {board.id} needs a real monitor")
    return spec


def _supply_voltage(board: Board) -> float:
    return supply_voltage(board.id)


def _finish_acquisition(monitor: Monitor, session: Session) -> None:
    """Stop the monitor and keep its raw trace, whatever happened to the run."""
    try:
        monitor.stop()
    finally:
        if monitor.trace is not None:
            monitor.trace.save(session.root / "trace.npz")


def _model_for(request: RunRequest) -> tuple[ModelEntry, ResolvedModel]:
    if request.models == "fallback":
        if request.model is not None:
            raise ConfigError("--model and --models fallback exclude each other")
        return fallback_entry(request.benchmark), resolve_fallback(request.benchmark)
    return get_entry(request.benchmark), resolve_model(request.benchmark, request.model)


def _dataset_note(dataset: Path | None) -> str:
    if dataset is None:
        return "none"
    readme = dataset / "README.txt"
    return f"{dataset} ({readme.read_text().strip()})" if readme.is_file() else str(dataset)


def jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


def header_lines(request: RunRequest, outcome: RunOutcome) -> list[str]:
    """What ran: simulated/emulated, engine, and a model that is not the official one."""
    f = outcome.figures
    lines = []
    if outcome.board.simulated:
        lines.append(SIMULATED_NOTE.format(board=outcome.board.id))
        timing = outcome.board.timing
        streaming = get_entry(request.benchmark).streaming  # its frame time has a note of its own
        if timing is not None and request.benchmark not in timing.fitted_to and not streaming:
            lines.append(MODELLED_NOTE.format(benchmark=request.benchmark, fitted=", ".join(timing.fitted_to)))
    if outcome.board.emulator is not None:
        lines.append(outcome.board.emulator.timing_note)
    if outcome.firmware is not None:
        lines.append(f"Engine: {outcome.firmware.path_summary}. {outcome.firmware.engine_note}")
    if outcome.model.fallback:
        lines.append(f"FALLBACK MODEL: {outcome.model.path} is NOT the official {request.benchmark} model "
                     f"({outcome.model.label}).")
    elif not outcome.model.official:
        lines.append(f"CUSTOM MODEL: {outcome.model.path} is not the official {request.benchmark} model.")
    if "truth" in f:
        lines.append(truth_line(f["truth"], f))
    return lines


def footer_lines(request: RunRequest, outcome: RunOutcome) -> list[str]:
    """Rule breaks, data provenance, submittability and the link, every mode alike."""
    f = outcome.figures
    lines = []
    if not f["valid"]:
        lines.append("INVALID run under MLPerf Tiny rules: " + "; ".join(f["problems"]))
    if request.mode == "accuracy" or "wakeword" in f:
        lines.append(f"Dataset: {outcome.dataset_note}")
        lines.append(f"Data provenance: {f['data']['kind']}: {f['data']['reason']}.")
    lines.append("Rules followed: " + ("yes." if f["valid"] else "NO."))
    lines.append("Submittable (closed division): " + ("yes." if f["submittable"]["closed"] else
                                                      "NO: " + "; ".join(f["submittable"]["reasons"]) + "."))
    link = f.get("link", {})
    if link:
        lines.append(f"Link: {link['protocol']} protocol at {link['baud']} baud, {link['recoveries']} device "
                     "recoveries" + (f", {link['frames_resent']} frames resent" if "frames_resent" in link else "")
                     + ".")
    return lines


def result_lines(request: RunRequest, outcome: RunOutcome, entry: ModelEntry) -> list[str]:
    """The lines of results.txt, including the exact ones the MLPerf submission checker greps."""
    f = outcome.figures
    lines = header_lines(request, outcome)
    if request.mode == "energy":
        lines.append(f"Median energy cost is {f['median_energy_uj']:.3f} uJ/inf.")
        lines.append(f"Uncertainty from edge placement: +-{f['uncertainty_uj']:.3f} uJ/inf.; median power "
                     f"{f['median_power_mw']:.3f} mW; latency {f['latency_ms']:.3f} ms (monitor edges).")
        lines.append(f"Monitor: {f['monitor']['kind']} at {f['monitor']['rate_hz']} Hz, "
                     f"{f['monitor']['voltage_v']:g} V.")
    elif request.mode == "performance":
        lines.append(f"Median throughput is {f['median_throughput']:.3f} inf./sec.")
        lines.append(f"Latency is {f['latency_ms']:.3f} ms (1000 / median throughput).")
        lines.append(
            f"Windows: min {f['min_throughput']:.3f}, max {f['max_throughput']:.3f} inf./sec., "
            f"CV {f['cv_percent']:.2f}%."
        )
        consistency = f.get("consistency", {})
        if consistency and not consistency["consistent"]:
            first = consistency["mismatches"][0]
            lines.append(f"INCONSISTENT FIRMWARE: in {len(consistency['mismatches'])} of {consistency['checked']} "
                         f"windows the results after N inferences differ from one `infer 1 0` on the same input "
                         f"(window {first['window']}: {first['after_window']} vs {first['single']}); its "
                         "repeated inference changes its own input (e.g. TFLM reusing the input tensor).")
    elif entry.scoring == "auc":
        lines.append(f"AUC = {auc_text(f['auc'])}")
    else:
        lines.append(f"Top-1% = {f['top1_percent']:.2f}")
    lines += footer_lines(request, outcome)
    if f.get("single_stream"):
        ss = f["single_stream"]
        lines.append(f"Single-stream latency over {ss['queries']} inferences: p50 {ss['p50_ms']:.3f} ms, "
                     f"p90 {ss['p90_ms']:.3f} ms, p99 {ss['p99_ms']:.3f} ms.")
    if f.get("offline"):
        off = f["offline"]
        lines.append(f"Offline: {off['inferences']} inferences back to back in {off['seconds']:.2f} s, "
                     f"{off['throughput']:.3f} inf./sec. sustained.")
    if f.get("duty_cycle"):
        dc = f["duty_cycle"]
        lines.append(f"Duty-cycled: {dc['requests']} requests at {dc['rate_hz']:g}/s ({dc['arrivals']}) over "
                     f"{dc['seconds']:.2f} s, asleep between: average power {dc['average_power_mw']:.4f} mW, "
                     f"{dc['energy_per_day_j']:.1f} J per day, {dc['energy_per_request_uj']:.1f} uJ per request; "
                     f"awake {100 * dc['duty_fraction']:.2f} % of the period by the device's clock.")
    if f.get("shards"):
        lines.append(f"Boards: {len(f['shards'])} shared the samples: "
                     + ", ".join(f"{s['name']} {s['samples']}" for s in f["shards"]) + ".")
    return lines


def _write_results(request: RunRequest, outcome: RunOutcome, entry: ModelEntry) -> None:
    write_session_results(request, outcome, result_lines(request, outcome, entry))


def write_session_results(request: RunRequest, outcome: RunOutcome, lines: list[str]) -> None:
    """results.txt (these lines), results.json (every figure) and summary.txt."""
    data = {
        "tinyperf_version": __version__,
        "host": platform.node(),
        "board": outcome.board.id,
        "simulated": outcome.board.simulated,
        "pacing": _pacing_label(request, outcome.board),
        "benchmark": request.benchmark,
        "mode": request.mode,
        "device": asdict(outcome.identity),
        "model": {"path": str(outcome.model.path), "sha256": outcome.model.sha256,
                  "official": outcome.model.official, "fallback": outcome.model.fallback,
                  "label": outcome.model.label, "source": outcome.model.source},
        "dataset": outcome.dataset_note,
        "firmware": asdict(outcome.firmware) if outcome.firmware else None,
        **outcome.figures,
    }
    outcome.session.write_results(lines, data, "\n".join(lines))
