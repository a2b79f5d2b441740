"""Comparing two runs the way a regression gate must: from the spread of their windows.

A performance or energy run has 5 windows; the median of each run is what MLPerf Tiny reports. The
change new/baseline gets a bootstrap confidence interval (windows resampled with replacement in both
runs, seeded, so the same inputs give the same verdict), and the gate decides from the interval:

- pass: the whole interval is within the allowed slowdown (or better);
- regression: the whole interval is beyond it;
- inconclusive: the interval straddles it (the runs are too noisy to tell; run more windows).

Accuracy runs are deterministic on the same dataset: their change is the difference itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from tinyperf.errors import ConfigError
from tinyperf.results.jsonfiles import read_results

BOOTSTRAP_RESAMPLES = 10_000
CONFIDENCE = 0.95
SEED = 20261201
Verdict = Literal["pass", "regression", "inconclusive"]


@dataclass(frozen=True)
class RunSummary:
    """What a results.json says about one run, with the per-window figure the gate resamples."""

    path: Path
    board: str
    benchmark: str
    mode: str
    simulated: bool
    valid: bool
    metric: str  # "latency_ms", "energy_uj" or "top1_percent"/"auc"
    windows: tuple[float, ...]  # per-window latency (ms) or energy (uJ/inf.); empty for accuracy
    value: float  # the run's median (or its accuracy)

    @property
    def lower_is_better(self) -> bool:
        return self.metric in ("latency_ms", "energy_uj")


def load_run(path: Path) -> RunSummary:
    """A session folder or its results.json; a clear error for anything else."""
    file = path / "results.json" if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(f"{path}: no results.json there; pass a session folder (sessions/<run>) or its results.json")
    data = read_results(file)
    try:
        mode = data["mode"]
        board, benchmark, simulated = str(data["board"]), data["benchmark"], bool(data.get("simulated"))
        if mode == "performance":
            windows = tuple(1000.0 / w["throughput"] for w in data["windows"])
            return RunSummary(file, board, benchmark, mode, simulated, data["valid"], "latency_ms", windows,
                              float(np.median(windows)))
        if mode == "energy":
            windows = tuple(1e6 * w["energy_j"] / w["count"] for w in data["windows"])
            return RunSummary(file, board, benchmark, mode, simulated, data["valid"], "energy_uj", windows,
                              float(np.median(windows)))
        metric = "auc" if "auc" in data else "top1_percent"
        return RunSummary(file, board, benchmark, mode, simulated, data["valid"], metric, (), float(data[metric]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
        raise ConfigError(f"{file}: not a tinyperf results file (missing or bad {e})") from None


def bootstrap_ratio_ci(baseline: tuple[float, ...], new: tuple[float, ...],
                       resamples: int = BOOTSTRAP_RESAMPLES, seed: int = SEED) -> tuple[float, float, float]:
    """(point, low, high) of median(new) / median(baseline), percentile bootstrap over the windows."""
    rng = np.random.default_rng(seed)
    base = np.asarray(baseline, dtype=float)
    cand = np.asarray(new, dtype=float)
    base_medians = np.median(base[rng.integers(0, len(base), (resamples, len(base)))], axis=1)
    new_medians = np.median(cand[rng.integers(0, len(cand), (resamples, len(cand)))], axis=1)
    ratios = new_medians / base_medians
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return float(np.median(cand) / np.median(base)), float(low), float(high)


@dataclass(frozen=True)
class Comparison:
    baseline: RunSummary
    new: RunSummary
    change: float  # relative: +0.03 = 3 % worse (slower, more energy); accuracy: points lost
    low: float
    high: float
    allowed: float
    verdict: Verdict

    @property
    def unit(self) -> str:
        return {"latency_ms": "ms", "energy_uj": "uJ/inf.", "top1_percent": "%", "auc": ""}[self.new.metric]


def compare(baseline: RunSummary, new: RunSummary, max_slowdown: float, max_accuracy_drop: float = 0.0) -> Comparison:
    """`max_slowdown` as a fraction (0.03 = 3 %); `max_accuracy_drop` in points (top-1 %) or AUC units."""
    if (baseline.benchmark, baseline.mode) != (new.benchmark, new.mode):
        raise ConfigError(f"cannot compare a {baseline.benchmark} {baseline.mode} run ({baseline.path}) with a "
                          f"{new.benchmark} {new.mode} run ({new.path})")
    if baseline.lower_is_better:
        point, low, high = bootstrap_ratio_ci(baseline.windows, new.windows)
        change, low, high, allowed = point - 1, low - 1, high - 1, max_slowdown
    else:
        change = low = high = baseline.value - new.value  # points lost
        allowed = max_accuracy_drop
    verdict: Verdict = "pass" if high <= allowed else "regression" if low > allowed else "inconclusive"
    return Comparison(baseline, new, change, low, high, allowed, verdict)


def _signed(value: float, relative: bool) -> str:
    return f"{100 * value:+.2f} %" if relative else f"{value:+.4g}"


def markdown(result: Comparison) -> str:
    """A summary a CI job can post on a pull request."""
    b, n = result.baseline, result.new
    relative = b.lower_is_better
    what = {"latency_ms": "median latency", "energy_uj": "median energy", "top1_percent": "top-1", "auc": "AUC"}
    icon = {"pass": "✅ pass", "regression": "❌ regression", "inconclusive": "⚠️ inconclusive"}[result.verdict]
    ci = (f"[{_signed(result.low, relative)}, {_signed(result.high, relative)}]" if relative else "exact")
    allowed = f"{100 * result.allowed:.2f} % slower" if relative else f"{result.allowed:g} lost"
    lines = [
        f"### tinyperf: {n.benchmark} {n.mode} on {n.board}: {icon}",
        "",
        f"| | baseline | new | change (+ = worse) | {int(CONFIDENCE * 100)} % CI | allowed |",
        "|---|---|---|---|---|---|",
        f"| {what[n.metric]} | {b.value:.4g} {result.unit} | {n.value:.4g} {result.unit} | "
        f"{_signed(result.change, relative)} | {ci} | {allowed} |",
        "",
    ]
    if relative:
        lines.append(f"Bootstrap of the median over {len(b.windows)} + {len(n.windows)} windows, "
                     f"{BOOTSTRAP_RESAMPLES} resamples (seed {SEED}).")
    if b.simulated or n.simulated:
        lines.append("SIMULATED board: figures come from its cycle model, not silicon.")
    for run in (b, n):
        if not run.valid:
            lines.append(f"**{run.path.parent.name} is INVALID** (see its results.txt): its figures do not count.")
    return "\n".join(lines) + "\n"
