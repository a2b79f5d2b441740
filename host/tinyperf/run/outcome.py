"""Stage 4 of a run: the outcome, written down. Truth (simulated boards), data provenance and
submittability join the figures; results.txt (with the lines the MLPerf checker greps), results.json,
summary.txt and provenance.json go into the session folder, which the results store then indexes."""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from tinyperf import __version__
from tinyperf.device.boards import Board
from tinyperf.device.dut import Identity
from tinyperf.errors import ConfigError
from tinyperf.firmware.build import BuildManifest, builds_folder
from tinyperf.results.store import dataset_hash, file_sha256, index_session
from tinyperf.run.plan import RunPlan
from tinyperf.run.provenance import dataset_provenance, submittable_reasons
from tinyperf.run.request import RunRequest, jsonable
from tinyperf.run.session import Session, SessionWriteError, finished_samples
from tinyperf.sim.board.truth import simulated_truth, truth_line
from tinyperf.suite.models import ModelEntry, ResolvedModel, get_entry
from tinyperf.suite.scoring import auc_text

SIMULATED_NOTE = "SIMULATED: {board} is a simulated board; its times come from a declared cycle model, not silicon."
MODELLED_NOTE = ("MODELLED: no silicon figure is published for {benchmark}; its time is the cycle model's "
                 "extrapolation from the model's operators and MACs (fitted to {fitted} only).")


@dataclass
class RunOutcome:
    session: Session
    board: Board
    identity: Identity
    model: ResolvedModel
    figures: dict
    dataset_note: str
    firmware: BuildManifest | None = None


def finish(plan: RunPlan, request: RunRequest, session: Session, identity: Identity, figures: dict,
           dataset_note: str) -> RunOutcome:
    """Complete the figures, write every file of the session, index it. `request` is the one as run
    (ports filled in); provenance keeps the one asked for, which a rerun must ask again."""
    board, model = plan.board, plan.model
    if board.simulated and request.mode != "accuracy":
        figures["truth"] = simulated_truth(board.id, model.path, request.mode)
    provenance = dataset_provenance(request.benchmark, plan.dataset, plan.samples, smoke=request.dataset is None)
    figures["data"] = provenance.as_dict()
    reasons = submittable_reasons(request.mode, figures["valid"], board.kind, model.official, provenance)
    figures["submittable"] = {"closed": not reasons, "reasons": reasons}
    outcome = RunOutcome(session, board, identity, model, figures, dataset_note, plan.firmware)
    write_provenance(plan.request, outcome, plan.dataset)
    write_session_results(request, outcome, result_lines(request, outcome, plan.entry))
    index(session)
    return outcome


def record_error(session: Session, error: Exception) -> None:
    """error.txt and a journal record; a read-only folder must not hide the cause."""
    with contextlib.suppress(OSError, SessionWriteError):
        (session.root / "error.txt").write_text(f"{error}\n\n{traceback.format_exc()}", encoding="utf-8")
        session.journal({"event": "error", "message": str(error)})


def has_finished_samples(session: Session) -> bool:
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


def _pacing_label(request: RunRequest, board: Board) -> str | None:
    """How a simulated board's time ran: as this run started it, or "external" for one reached by --port
    (a `tinyperf sim` or `tinyperf sim --bench` started elsewhere: its own --pacing; a bench is realtime)."""
    if not board.simulated:
        return None
    return "external" if request.port else request.pacing
