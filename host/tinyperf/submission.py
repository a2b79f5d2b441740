"""The MLPerf Tiny submission tree: export sessions into it, and check a tree strictly.

    <out>/<division>/<submitter>/results/<system>/<kws|vww|ad|ic>/<performance|accuracy|energy>/
        log.txt, results.txt, results.json
    <out>/<division>/<submitter>/systems/<system>.json

The check runs the official checker's results.txt lines and what that checker does not look at:
5 windows of >= 10 s and >= 10 inferences, the accuracy targets (closed division), the files each
run needs, and the system description. Simulated-board sessions are refused unless asked for, and
then the system description says SIMULATED.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tinyperf import __version__
from tinyperf.errors import ConfigError
from tinyperf.jsonfiles import read_results
from tinyperf.models import get_entry

Division = Literal["closed", "open"]
FOLDER = {"kws01": "kws", "vww01": "vww", "ad01": "ad", "ic01": "ic"}
BENCHMARK = {folder: benchmark for benchmark, folder in FOLDER.items()}
MODES = ("performance", "accuracy", "energy")
REQUIRED_MODES = ("performance", "accuracy")  # energy is optional in a submission
RULE_WINDOWS, RULE_MIN_WINDOW_S, RULE_MIN_INFERENCES = 5, 10.0, 10
SYSTEM_FIELDS = ("submitter", "division", "status", "system_name", "board", "processor", "software")
# the lines the official checker greps in results.txt
CHECKER_LINES = {
    "performance": re.compile(r"Median throughput is\s+([0-9.]+)\s+inf\./sec\."),
    "energy": re.compile(r"Median energy cost is\s+([0-9.]+)\s+uJ/inf\."),
    "top1": re.compile(r"Top[- ]1%?\s*(?:=|:)\s*([0-9.]+)"),
    "auc": re.compile(r"AUC\s*=\s*([0-9.]+)"),
}


@dataclass(frozen=True)
class ExportRequest:
    out: Path
    system: str
    division: Division
    submitter: str = "tinyperf"
    sessions: tuple[Path, ...] = ()  # explicit session folders; else the newest per benchmark and mode
    sessions_dir: Path = Path("sessions")
    allow_simulated: bool = False


def _results(session: Path) -> dict:
    file = session / "results.json"
    if not file.is_file():
        raise ConfigError(f"{session}: no results.json (an unfinished or failed run?)")
    return read_results(file)


def _newest_sessions(sessions_dir: Path) -> list[Path]:
    """The newest finished session per (benchmark, mode); folder names start with a timestamp."""
    if not sessions_dir.is_dir():
        raise ConfigError(f"no sessions folder {sessions_dir}; run benchmarks first or pass --session")
    newest: dict[tuple[str, str], Path] = {}
    for session in sorted(p for p in sessions_dir.iterdir() if (p / "results.json").is_file()):
        data = _results(session)
        newest[(data["benchmark"], data["mode"])] = session
    return list(newest.values())


def export(request: ExportRequest) -> list[Path]:
    """Copy the sessions into the tree and write the system description; returns the run folders."""
    sessions = list(request.sessions) or _newest_sessions(request.sessions_dir)
    if not sessions:
        raise ConfigError(f"no finished sessions in {request.sessions_dir}")
    root = request.out / request.division / request.submitter
    written: list[Path] = []
    boards: set[str] = set()
    simulated = False
    for session in sessions:
        data = _results(session)
        if data.get("simulated") and not request.allow_simulated:
            raise ConfigError(f"{session} is a SIMULATED-board run: its figures are a model, not a submission; "
                              "pass --allow-simulated to export it anyway (the system file then says so)")
        if data["benchmark"] not in FOLDER:
            raise ConfigError(f"{session}: benchmark {data['benchmark']!r} has no MLPerf Tiny folder")
        simulated |= bool(data.get("simulated"))
        boards.add(str(data["board"]))
        target = root / "results" / request.system / FOLDER[data["benchmark"]] / data["mode"]
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in ("log.txt", "results.txt", "results.json"):
            if (session / name).is_file():
                shutil.copy2(session / name, target / name)
        written.append(target)
    if len(boards) > 1:
        raise ConfigError(f"one system is one board; these sessions come from {sorted(boards)}")
    system = {
        "submitter": request.submitter, "division": request.division, "status": "available",
        "system_name": request.system, "board": boards.pop(), "processor": _processor(sessions),
        "software": f"tinyperf {__version__}",
        "notes": "SIMULATED board: figures come from a declared cycle model, not silicon" if simulated else "",
    }
    (root / "systems").mkdir(parents=True, exist_ok=True)
    (root / "systems" / f"{request.system}.json").write_text(json.dumps(system, indent=2) + "\n")
    return written


def _processor(sessions: list[Path]) -> str:
    from tinyperf.boards import get_board

    board_id = str(_results(sessions[0])["board"])
    try:
        return get_board(board_id).mcu
    except ConfigError:
        return board_id


def check(out: Path) -> list[str]:
    """Every problem in the tree, each naming its file; empty when the tree is acceptable."""
    problems: list[str] = []
    divisions = [d for d in sorted(out.iterdir()) if d.is_dir()] if out.is_dir() else []
    if not divisions:
        return [f"{out}: no division folder (closed/ or open/)"]
    for division in divisions:
        if division.name not in ("closed", "open"):
            problems.append(f"{division}: a division is closed or open")
            continue
        for submitter in sorted(p for p in division.iterdir() if p.is_dir()):
            problems += _check_submitter(submitter, division.name)
    return problems


def _check_submitter(submitter: Path, division: str) -> list[str]:
    problems: list[str] = []
    results = submitter / "results"
    systems = sorted(p for p in results.iterdir() if p.is_dir()) if results.is_dir() else []
    if not systems:
        return [f"{submitter}: no results/<system>/ folder"]
    for system in systems:
        problems += _check_system_file(submitter / "systems" / f"{system.name}.json")
        benchmarks = sorted(p for p in system.iterdir() if p.is_dir())
        if not benchmarks:
            problems.append(f"{system}: no benchmark folder (kws, vww, ad, ic)")
        for bench in benchmarks:
            if bench.name not in BENCHMARK:
                problems.append(f"{bench}: unknown benchmark folder (kws, vww, ad, ic)")
                continue
            for mode in REQUIRED_MODES:
                if not (bench / mode).is_dir():
                    problems.append(f"{bench / mode}: missing ({mode} is required for every benchmark)")
            for run in sorted(p for p in bench.iterdir() if p.is_dir()):
                problems += _check_run(run, BENCHMARK[bench.name], division)
    return problems


def _check_system_file(path: Path) -> list[str]:
    if not path.is_file():
        return [f"{path}: missing system description"]
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        return [f"{path}:{e.lineno}: not valid JSON ({e.msg})"]
    missing = [name for name in SYSTEM_FIELDS if not data.get(name)]
    return [f"{path}: missing fields {missing}"] if missing else []


def _check_run(run: Path, benchmark: str, division: str) -> list[str]:
    mode = run.name
    if mode not in MODES:
        return [f"{run}: unknown mode folder (performance, accuracy, energy)"]
    problems = [f"{run / name}: missing" for name in ("log.txt", "results.txt") if not (run / name).is_file()]
    if (run / "log.txt").is_file() and (run / "log.txt").stat().st_size == 0:
        problems.append(f"{run / 'log.txt'}: empty (the transcript is part of the submission)")
    if not (run / "results.txt").is_file():
        return problems
    text = (run / "results.txt").read_text()
    entry = get_entry(benchmark)
    key = mode if mode != "accuracy" else ("auc" if entry.scoring == "auc" else "top1")
    found = CHECKER_LINES[key].search(text)
    if found is None:
        problems.append(f"{run / 'results.txt'}: no line the official checker reads "
                        f"({CHECKER_LINES[key].pattern!r})")
    if "INVALID" in text:
        problems.append(f"{run / 'results.txt'}: the run is marked INVALID")
    data = _run_data(run, problems)
    if data is None:
        return problems
    if mode in ("performance", "energy"):
        problems += _check_windows(run, data.get("windows", []))
    elif found is not None and division == "closed":
        value = float(found.group(1))
        if value < entry.accuracy_target:
            what = "AUC" if key == "auc" else "top-1"
            problems.append(f"{run / 'results.txt'}: {what} {value:g} is below the closed-division target "
                            f"{entry.accuracy_target:g}")
    return problems


def _run_data(run: Path, problems: list[str]) -> dict | None:
    file = run / "results.json"
    if not file.is_file():
        problems.append(f"{file}: missing (tinyperf checks windows and targets from it)")
        return None
    try:
        return json.loads(file.read_text())
    except json.JSONDecodeError as e:
        problems.append(f"{file}:{e.lineno}: not valid JSON ({e.msg})")
        return None


def _check_windows(run: Path, windows: list[dict]) -> list[str]:
    problems = []
    if len(windows) != RULE_WINDOWS:
        problems.append(f"{run / 'results.json'}: {len(windows)} windows; the rules need {RULE_WINDOWS}")
    for window in windows:
        if window.get("seconds", 0) < RULE_MIN_WINDOW_S:
            problems.append(f"{run / 'results.json'}: window {window.get('index')} lasted "
                            f"{window.get('seconds', 0):.2f} s; the rules need >= {RULE_MIN_WINDOW_S:g} s")
        if window.get("count", 0) < RULE_MIN_INFERENCES:
            problems.append(f"{run / 'results.json'}: window {window.get('index')} ran {window.get('count', 0)} "
                            f"inferences; the rules need >= {RULE_MIN_INFERENCES}")
    return problems
