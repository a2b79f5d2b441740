"""Stage 1 of a run: everything a request resolves to, checked before anything touches a device
(board, model, dataset, monitor, firmware, fault plan): a RunPlan that the later stages take as it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyperf.device.boards import Board, get_board
from tinyperf.device.link.faults import FaultPlan
from tinyperf.errors import ConfigError, DatasetError
from tinyperf.firmware.build import BuildManifest, built_for
from tinyperf.power.monitor import MonitorSpec, parse_monitor
from tinyperf.run.request import RunRequest
from tinyperf.suite.datasets import Sample, load_dataset
from tinyperf.suite.fallback_models import resolve_fallback
from tinyperf.suite.models import ModelEntry, ResolvedModel, fallback_entry, get_entry, resolve_model
from tinyperf.suite.smoke.store import smoke_dataset
from tinyperf.suite.synthetic import synthetic_inputs


@dataclass(frozen=True)
class RunPlan:
    request: RunRequest
    board: Board
    entry: ModelEntry
    model: ResolvedModel
    dataset: Path | None = None
    samples: list[Sample] | None = None
    dataset_note: str = "none"
    monitor: MonitorSpec | None = None
    firmware: BuildManifest | None = None  # emulated boards: the build they run


def model_plan(request: RunRequest) -> tuple[Board, ModelEntry, ResolvedModel]:
    """The board and the model: all a streaming (sww01) run needs before it takes its own path."""
    board = get_board(request.board)
    entry, model = _model_for(request)
    return board, entry, model


def plan_run(request: RunRequest, board: Board, entry: ModelEntry, model: ResolvedModel) -> RunPlan:
    """A non-streaming run's plan; every refusal happens here, before a session folder exists."""
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
    if request.faults:
        FaultPlan.parse(request.faults)  # a bad plan is refused before anything starts
    return RunPlan(request, board, entry, model, dataset, samples, _dataset_note(dataset),
                   monitor_spec_for(request, board), _firmware_manifest(board, request))


def perf_inputs(entry: ModelEntry, samples: list[Sample] | None) -> tuple[list[tuple[str, bytes]], str]:
    if samples:
        picked = samples[:5]
        return [(s.name, s.windows(s.path.read_bytes())[0]) for s in picked], "first 5 dataset rows"
    return synthetic_inputs(entry, 5), "5 synthetic inputs (seed 0); throughput does not depend on values"


def _check_fits_board(board: Board, entry: ModelEntry, benchmark: str) -> None:
    if entry.input.bin_bytes > board.max_input_bytes:
        raise ConfigError(
            f"{benchmark} inputs are {entry.input.bin_bytes} bytes but {board.id} buffers {board.max_input_bytes}"
        )


def _firmware_manifest(board: Board, request: RunRequest) -> BuildManifest | None:
    """An emulated board runs the last firmware built for it; it must be built for this benchmark."""
    if board.emulator is None or request.port or request.firmware is not None:
        return None
    return built_for(request.builds_dir, board.id, request.benchmark)


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
