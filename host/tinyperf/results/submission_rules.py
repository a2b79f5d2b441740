"""`tinyperf submission check`: every rule of the official v1.4 checker that applies to a tree like ours,
written from its documented behaviour, plus tinyperf's stricter ones. Each finding names its rule and file.

Official rules (ids as printed): division, symlink, file-size, pycache, empty-dir, system-file, status,
system-type, model, ic2-needs-ic, required-test, file-list, accuracy-line, accuracy-target,
performance-line, energy-line, sww-lines, sww-fp-fn. tinyperf's own: windows, invalid, data, simulated,
readable-log, system-fields, energy-plot.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from tinyperf.results.submission import BENCHMARK, ENERGY_PLOT
from tinyperf.results.submission_system import REQUIRED_FILLED, STATUSES

MODELS_V14 = ("ad", "ic", "ic2", "kws", "vww", "sww")
REQUIRED_TESTS = {"ad": ("accuracy", "performance"), "ic": ("accuracy", "performance"),
                  "ic2": ("accuracy", "performance"), "kws": ("accuracy", "performance"),
                  "vww": ("accuracy", "performance"), "sww": ()}
TARGETS = {"ad": ("auc", 0.85), "ic": ("top-1", 85.0), "ic2": ("top-1", 91.0), "kws": ("top-1", 90.0),
           "vww": ("top-1", 80.0)}
RUN_FILES = {"log.txt", "results.txt"}
OPTIONAL_FILES = {"results.json", "mlperf_log_trace.json", ".gitkeep"}
IGNORED_ROOT = {".git", ".github", "assets", ".vscode"}
FILE_SIZE_LIMIT = 500 * 1024 * 1024
# the official checker's patterns: re.match for accuracy and throughput lines, re.search for the rest
ACCURACY = {"top-1": re.compile(r".* Top[- ]1%?\s?[:=] ([\d\.]+).*"), "auc": re.compile(r".* AUC\s?[:=] ([\d\.]+).*")}
THROUGHPUT = re.compile(r".* Median throughput is\s+([\d\.]+) inf\./sec\..*")
ENERGY = re.compile(r"Median energy cost is ([\d\.]+) uJ/inf")
SWW_POWER = re.compile(r"Power\s+: ([\d\.]+) mW.*")
SWW_ACCURACY = re.compile(r"Accuracy: (\d+) True positives, (\d+) False negatives, (\d+) False positives")
SWW_THROUGHPUT = re.compile(r"Estimated throughput:\s*([\d\.]+) inf\./sec\.")
SWW_DUTY = re.compile(r"Average duty cycle:\s*([\d\.]+)")
RULE_WINDOWS, RULE_MIN_WINDOW_S, RULE_MIN_INFERENCES = 5, 10.0, 10


@dataclass(frozen=True)
class Finding:
    rule: str
    path: Path
    message: str
    official: bool  # the official checker reports it too

    def __str__(self) -> str:
        origin = "official" if self.official else "tinyperf"
        return f"[{self.rule}] ({origin}) {self.path}: {self.message}"


def check(out: Path) -> list[Finding]:
    """Every problem in the tree; empty when both the official rules and ours accept it."""
    if not out.is_dir():
        return [Finding("division", out, "not a folder", True)]
    findings: list[Finding] = []
    divisions = [d for d in sorted(out.iterdir()) if d.is_dir() and d.name not in IGNORED_ROOT]
    if not divisions:
        return [Finding("division", out, "no division folder (closed/ or open/)", True)]
    for division in divisions:
        if division.name not in ("closed", "open"):
            findings.append(Finding("division", division, "a division folder is closed or open", True))
            continue
        for submitter in sorted(p for p in division.iterdir() if p.is_dir()):
            if (submitter / "results").is_dir():
                findings += _check_submitter(submitter, division.name == "closed")
    return findings


def _check_submitter(submitter: Path, closed: bool) -> list[Finding]:
    everything = list(submitter.rglob("*"))
    links = [p for p in everything if p.is_symlink()]
    if links:
        return [Finding("symlink", links[0], f"symbolic links are refused ({len(links)} in {submitter})", True)]
    big = [p for p in everything if p.is_file() and p.stat().st_size > FILE_SIZE_LIMIT]
    if big:
        return [Finding("file-size", big[0], "larger than 500 MB", True)]
    caches = [p for p in everything if p.is_dir() and p.name == "__pycache__"]
    if caches:
        return [Finding("pycache", caches[0], "__pycache__ folders are refused", True)]
    empty = [p for p in everything if p.is_dir() and not any(p.iterdir())]
    if empty:
        return [Finding("empty-dir", empty[0], f"empty folders are refused ({len(empty)} in {submitter})", True)]
    findings: list[Finding] = []
    for system in sorted(p for p in (submitter / "results").iterdir() if p.is_dir()):
        system_file = submitter / "systems" / f"{system.name}.json"
        problems = _check_system_file(system_file)
        findings += problems
        if any(f.official for f in problems):
            continue  # the official checker skips the whole system here
        models = sorted(p.name for p in system.iterdir() if p.is_dir())
        for model in models:
            findings += _check_model(system / model, model, models, closed)
    return findings


def _check_system_file(path: Path) -> list[Finding]:
    if not path.is_file():
        return [Finding("system-file", path, "missing system description", True)]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return [Finding("system-file", path, f"not valid JSON ({e})", True)]
    if not isinstance(data, dict):
        return [Finding("system-file", path, "not a JSON object", True)]
    status = data.get("Status")
    if not isinstance(status, str) or status.lower() not in STATUSES:
        return [Finding("status", path, f"Status {status!r} must be one of {', '.join(STATUSES)} (the official "
                        "checker crashes when it is missing)", True)]
    if data.get("system_type") is not None:
        return [Finding("system-type", path, "a system_type field is refused by the v1.4 checker", True)]
    empty = [name for name in REQUIRED_FILLED if not str(data.get(name, "")).strip()]
    if empty:
        return [Finding("system-fields", path, f"fields left empty: {', '.join(empty)}", False)]
    return []


def _check_model(folder: Path, model: str, models: list[str], closed: bool) -> list[Finding]:
    if model not in MODELS_V14:
        return [Finding("model", folder, f"not a v1.4 benchmark folder ({', '.join(MODELS_V14)})", closed)]
    if model == "ic2" and "ic" not in models:
        return [Finding("ic2-needs-ic", folder, "an ic2 result is valid only beside an ic result", True)]
    findings: list[Finding] = []
    for test in REQUIRED_TESTS[model]:
        if not (folder / test).is_dir():
            findings.append(Finding("required-test", folder / test, f"missing ({test} is required for {model})",
                                    True))
    for run in sorted(p for p in folder.iterdir() if p.is_dir()):
        findings += _check_run(run, model, closed)
    return findings


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.is_file() else []


def _check_run(run: Path, model: str, closed: bool) -> list[Finding]:
    mode = run.name
    if mode not in ("performance", "accuracy", "energy"):
        return [Finding("file-list", run, "unknown test folder (performance, accuracy, energy)", False)]
    files = {p.name for p in run.iterdir() if p.is_file()}
    findings: list[Finding] = []
    expected = set(RUN_FILES) | ({ENERGY_PLOT} if model == "sww" and mode == "energy" else set())
    diff = (files ^ expected) - OPTIONAL_FILES
    if diff and (mode != "energy" or model == "sww"):
        findings.append(Finding("file-list", run, f"file list mismatch: {sorted(diff)} (exactly "
                                f"{sorted(expected)} plus optional results.json)", True))
    lines = _lines(run / "results.txt")
    if model == "sww":
        return findings + _check_sww(run, mode, lines, closed)
    if mode == "accuracy":
        findings += _check_accuracy(run, model, lines, closed)
    elif mode == "performance" and not any(THROUGHPUT.match(line) for line in lines):
        findings.append(Finding("performance-line", run / "results.txt", "no 'Median throughput is X inf./sec.' "
                                "line (the official checker then fails the run)", True))
    elif mode == "energy" and not any(ENERGY.search(line) for line in lines):
        findings.append(Finding("energy-line", run / "results.txt", "no 'Median energy cost is X uJ/inf' line", True))
    return findings + _tinyperf_rules(run, mode, files, lines, closed)


def _check_accuracy(run: Path, model: str, lines: list[str], closed: bool) -> list[Finding]:
    kind, target = TARGETS[model]
    values = [m.group(1) for line in lines if (m := ACCURACY[kind].match(line))]
    if not values:
        return [Finding("accuracy-line", run / "results.txt", f"no {kind} line the official checker reads", True)]
    try:
        value = float(values[-1])
    except ValueError:
        return [Finding("accuracy-line", run / "results.txt", f"{kind} {values[-1]!r} is not a number", True)]
    if closed and value < target:
        return [Finding("accuracy-target", run / "results.txt",
                        f"{kind} {value:g} is below the closed-division target {target:g}", True)]
    return []


def _check_sww(run: Path, mode: str, lines: list[str], closed: bool) -> list[Finding]:
    """The streaming wakeword lines: counts (TP + FN = 50), duty cycle, throughput, and power."""
    findings = []
    counts = [m for line in lines if (m := SWW_ACCURACY.search(line))]
    if not counts or not any(SWW_THROUGHPUT.search(line) for line in lines) or \
            not any(SWW_DUTY.search(line) for line in lines):
        findings.append(Finding("sww-lines", run / "results.txt", "needs the Accuracy (TP/FN/FP), Average duty "
                                "cycle and Estimated throughput lines", True))
    if counts:
        tp, fn, fp = (int(g) for g in counts[-1].groups())
        if tp + fn != 50:
            findings.append(Finding("sww-lines", run / "results.txt", f"TP {tp} + FN {fn} != 50", True))
        if closed and (fp > 8 or fn > 8):
            findings.append(Finding("sww-fp-fn", run / "results.txt", f"FP {fp} and FN {fn} must both be <= 8 in "
                                    "the closed division", True))
    if mode == "energy" and not any(SWW_POWER.search(line) for line in lines):
        findings.append(Finding("energy-line", run / "results.txt", "no 'Power : X mW' line", True))
    return findings


def _tinyperf_rules(run: Path, mode: str, files: set[str], lines: list[str], closed: bool) -> list[Finding]:
    """What the official checker does not look at: rule windows, INVALID runs, data, simulation, the log."""
    findings = []
    if any("INVALID" in line for line in lines):
        findings.append(Finding("invalid", run / "results.txt", "the run is marked INVALID", False))
    log = run / "log.txt"
    if log.is_file() and (log.stat().st_size == 0 or b"\0" in log.read_bytes()[:1 << 20]):
        findings.append(Finding("readable-log", log, "empty or binary (the log is read by people)", False))
    if mode == "energy" and ENERGY_PLOT not in files:
        findings.append(Finding("energy-plot", run, f"no {ENERGY_PLOT} (the first window's trace)", False))
    data = _json(run / "results.json")
    if data is None:
        return findings
    if data.get("simulated"):
        findings.append(Finding("simulated", run / "results.json", "a SIMULATED-board run: a model, not silicon",
                                False))
    if mode == "accuracy" and closed:
        provenance = data.get("data") or {"kind": "unknown", "reason": "not recorded"}
        if provenance.get("kind") != "official":
            findings.append(Finding("data", run / "results.json", f"accuracy on {provenance.get('kind')} data "
                                    f"({provenance.get('reason')}), not the official test set", False))
    if mode in ("performance", "energy"):
        findings += _check_windows(run / "results.json", data.get("windows") or [])
    return findings


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _check_windows(path: Path, windows: list[dict]) -> list[Finding]:
    findings = []
    if len(windows) != RULE_WINDOWS:
        findings.append(Finding("windows", path, f"{len(windows)} windows; the rules need {RULE_WINDOWS}", False))
    for window in windows:
        if window.get("seconds", 0) < RULE_MIN_WINDOW_S:
            findings.append(Finding("windows", path, f"window {window.get('index')} lasted "
                                    f"{window.get('seconds', 0):.2f} s; the rules need >= {RULE_MIN_WINDOW_S:g} s",
                                    False))
        if window.get("count", 0) < RULE_MIN_INFERENCES:
            findings.append(Finding("windows", path, f"window {window.get('index')} ran {window.get('count', 0)} "
                                    f"inferences; the rules need >= {RULE_MIN_INFERENCES}", False))
    return findings


__all__ = ["BENCHMARK", "Finding", "check"]
