"""The MLPerf Tiny submission tree: export sessions into it as the official v1.4 checker reads it.

    <out>/<division>/<submitter>/results/<system>/<kws|vww|ad|ic|ic2|sww>/<performance|accuracy|energy>/
        log.txt (readable), results.txt, results.json   (+ energy_inf_000.png in energy folders)
    <out>/<division>/<submitter>/systems/<system>.json  (the published field names, Status always set)

Export takes the newest VALID session per benchmark and mode and says which it took and skipped. It
refuses simulated-board runs and closed-division accuracy on anything but the official test set unless
asked, and then labels them in results.txt and the system notes. `check` is in results/submission_rules.py.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tinyperf.errors import ConfigError
from tinyperf.results.jsonfiles import read_results
from tinyperf.results.readable_log import write_readable_log
from tinyperf.results.submission_system import parse_overrides, system_description

Division = Literal["closed", "open"]
FOLDER = {"kws01": "kws", "vww01": "vww", "ad01": "ad", "ic01": "ic", "ic02": "ic2", "sww01": "sww"}
BENCHMARK = {folder: benchmark for benchmark, folder in FOLDER.items()}
MODES = ("performance", "accuracy", "energy")
ENERGY_PLOT = "energy_inf_000.png"


@dataclass(frozen=True)
class ExportRequest:
    out: Path
    system: str
    division: Division
    submitter: str = "tinyperf"
    sessions: tuple[Path, ...] = ()  # explicit session folders; else the newest valid per benchmark and mode
    sessions_dir: Path = Path("sessions")
    allow_simulated: bool = False
    allow_unofficial_data: bool = False
    system_fields: tuple[str, ...] = ()  # KEY=VALUE overrides of systems/<system>.json


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    taken: list[tuple[Path, str]] = field(default_factory=list)  # (session, benchmark/mode)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (session, why)


def _results(session: Path) -> dict:
    file = session / "results.json"
    if not file.is_file():
        raise ConfigError(f"{session}: no results.json (an unfinished or failed run?)")
    return read_results(file)


def choose_sessions(sessions_dir: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The newest VALID finished session per (benchmark, mode), and every other one with why it was
    skipped. Folder names start with a timestamp, so sorted order is age order."""
    if not sessions_dir.is_dir():
        raise ConfigError(f"no sessions folder {sessions_dir}; run benchmarks first or pass --session")
    newest: dict[tuple[str, str], Path] = {}
    skipped: list[tuple[Path, str]] = []
    for session in sorted(p for p in sessions_dir.iterdir() if (p / "results.json").is_file()):
        data = _results(session)
        key = (str(data.get("benchmark")), str(data.get("mode")))
        if not data.get("valid", False):
            skipped.append((session, "INVALID: " + "; ".join(map(str, data.get("problems", [])))))
            continue
        if key in newest:
            skipped.append((newest[key], f"a newer valid {key[0]} {key[1]} run is taken"))
        newest[key] = session
    return list(newest.values()), skipped


def _data_kind(data: dict) -> tuple[str, str]:
    provenance = data.get("data") or {}
    return str(provenance.get("kind", "unknown")), str(provenance.get("reason", "recorded by an older tinyperf"))


def export(request: ExportRequest) -> ExportReport:
    """Write each chosen session's run folder and the system description."""
    overrides = parse_overrides(request.system_fields)
    report = ExportReport()
    if request.sessions:
        sessions = list(request.sessions)
    else:
        sessions, report.skipped = choose_sessions(request.sessions_dir)
    if not sessions:
        raise ConfigError(f"no valid finished sessions in {request.sessions_dir}")
    root = request.out / request.division / request.submitter
    chosen = [(session, _results(session)) for session in sessions]
    notes = _refusals_and_notes(request, chosen)
    boards = {str(data["board"]) for _, data in chosen}
    if len(boards) > 1:
        raise ConfigError(f"one system is one board; these sessions come from {sorted(boards)}")
    for session, data in chosen:
        target = root / "results" / request.system / FOLDER[data["benchmark"]] / _mode_folder(data)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        _write_run(session, data, target, request)
        report.written.append(target)
        report.taken.append((session, f"{data['benchmark']} {data['mode']}"))
    system = system_description(request.submitter, request.division, boards.pop(), [d for _, d in chosen], notes,
                                overrides)
    (root / "systems").mkdir(parents=True, exist_ok=True)
    (root / "systems" / f"{request.system}.json").write_text(json.dumps(system, indent=2) + "\n", encoding="utf-8")
    return report


def _mode_folder(data: dict) -> str:
    """sww has no accuracy folder: every sww01 run scores the stream, and a run without energy is its
    `performance` result (the open runner's -m p), one with energy its `energy` result."""
    if "wakeword" in data:
        return "energy" if data.get("mode") == "energy" else "performance"
    return str(data["mode"])


def _refusals_and_notes(request: ExportRequest, chosen: list[tuple[Path, dict]]) -> list[str]:
    """Raise for what may not be exported as asked; the notes the system description must carry."""
    notes = []
    for session, data in chosen:
        if data.get("benchmark") not in FOLDER:
            raise ConfigError(f"{session}: benchmark {data.get('benchmark')!r} has no MLPerf Tiny folder")
        if not data.get("valid", False):
            raise ConfigError(f"{session} is an INVALID run ({'; '.join(map(str, data.get('problems', [])))}); "
                              "a submission holds valid runs only")
        if data.get("simulated") and not request.allow_simulated:
            raise ConfigError(f"{session} is a SIMULATED-board run: its figures are a model, not a submission; "
                              "pass --allow-simulated to export it anyway (the system file then says so)")
        kind, reason = _data_kind(data)
        if (data.get("mode") == "accuracy" and kind != "official" and request.division == "closed"
                and not request.allow_unofficial_data):
            raise ConfigError(f"{session}: its accuracy data is {kind} ({reason}); the closed division counts only "
                              "the official test set. Run on it, or pass --allow-unofficial-data (labelled)")
    if any(data.get("simulated") for _, data in chosen):
        notes.append("SIMULATED board: figures come from declared cycle and power models, not silicon.")
    unofficial = sorted({data["benchmark"] for _, data in chosen
                         if data.get("mode") == "accuracy" and _data_kind(data)[0] != "official"})
    if unofficial:
        notes.append(f"UNOFFICIAL accuracy data for {', '.join(unofficial)} (not the official test set).")
    return notes


def _write_run(session: Path, data: dict, target: Path, request: ExportRequest) -> None:
    """log.txt readable, results.txt (with its labels), results.json, and the energy plot."""
    write_readable_log(session / "log.txt", target / "log.txt")
    text = (session / "results.txt").read_text(encoding="utf-8")
    kind, reason = _data_kind(data)
    if data.get("mode") == "accuracy" and kind != "official":
        text += f"UNOFFICIAL DATA (exported with --allow-unofficial-data): {kind}: {reason}.\n"
    (target / "results.txt").write_text(text, encoding="utf-8")
    shutil.copy2(session / "results.json", target / "results.json")
    if data.get("mode") == "energy":
        from tinyperf.power.plot import plot_saved_window  # matplotlib and numpy: only when a plot is drawn

        window = (data.get("windows") or [{}])[0]
        if "wakeword" in data:  # the stream between the device's start and stop edges
            rate = float((data.get("monitor") or {}).get("rate_hz", 1000))
            first, last = data["energy"]["edges"]
            window = {"start_s": first / rate, "end_s": last / rate, "count": "the stream's"}
        trace = session / str((data.get("monitor") or {}).get("trace", "trace.npz"))
        if not trace.is_file() or "start_s" not in window:
            raise ConfigError(f"{session}: no saved trace or window edges for {ENERGY_PLOT}")
        plot_saved_window(trace, float(window["start_s"]), float(window["end_s"]), target / ENERGY_PLOT,
                          f"{data['benchmark']} energy window 0: {window.get('count')} inferences "
                          f"between the timestamp edges")
