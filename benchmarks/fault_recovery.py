"""Accuracy runs that survive faults: 1% of frames corrupted (both directions) and one device hang
per 100 samples must give the same predictions as a clean run; a run killed with SIGKILL mid-way
and resumed must end identical.

Run: PYTHONPATH=host TINYPERF_MODELS=../shared/models python benchmarks/fault_recovery.py [--samples 200]
SIMULATED board (virtual pacing: correctness, not speed, is measured here).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinyperf.run.runner import RunRequest, execute

sys.path.insert(0, str(Path(__file__).parent))
from transfer_speed import subset

BOARD = "sim-nucleo-l4r5zi"


def run(benchmark: str, dataset: Path, sessions: Path, faults: str | None = None) -> tuple[dict, float]:
    started = time.monotonic()
    outcome = execute(RunRequest(board=BOARD, benchmark=benchmark, mode="accuracy", dataset=dataset,
                                 sessions_dir=sessions, faults=faults))
    return json.loads((outcome.session.root / "results.json").read_text()), time.monotonic() - started


def killed_and_resumed(benchmark: str, dataset: Path, sessions: Path, kill_after: int) -> tuple[dict, int]:
    cli = [sys.executable, "-m", "tinyperf.cli", "run"]
    process = subprocess.Popen([*cli, "--board", BOARD, "--benchmark", benchmark, "--mode", "accuracy",
                                "--dataset", str(dataset), "--sessions-dir", str(sessions), "--pacing", "realtime",
                                "--baud", "2000000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    journal = None
    while time.monotonic() < deadline and journal is None:
        found = list(sessions.glob("*/journal.jsonl"))
        if found and found[0].read_text().count('"event": "sample"') >= kill_after:
            journal = found[0]
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    if journal is None:
        raise SystemExit("the run never reached the kill point")
    before = journal.read_text().count('"event": "sample"')
    subprocess.run([*cli, "--resume", str(journal.parent)], check=True, capture_output=True, timeout=600)
    return json.loads((journal.parent / "results.json").read_text()), before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmark", default="kws01", choices=["kws01", "vww01", "ic01"])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tinyperf-faults-"))
    dataset = subset(args.benchmark, args.samples, work / "ds")
    clean, clean_s = run(args.benchmark, dataset, work / "clean")
    samples = len(clean["samples"])
    writes_per_sample = clean["link"]["frames_sent"] / samples
    hang = 1.0 / (100 * writes_per_sample)
    plan = f"corrupt=0.01,hang={hang:.6f},seed={args.seed}"
    faulty, faulty_s = run(args.benchmark, dataset, work / "faulty", plan)
    same = faulty["samples"] == clean["samples"]
    print(f"{args.benchmark}: {samples} samples, SIMULATED board; clean run {clean_s:.1f} s")
    link = faulty["link"]
    print(f"fault plan {plan} ({writes_per_sample:.2f} frames per sample): injected {link['faults_injected']}, "
          f"{faulty['link']['recoveries']} recoveries, {faulty['link']['frames_resent']} frames resent, "
          f"{len(faulty['failed_samples'])} failed samples, {faulty_s:.1f} s")
    print(f"predictions identical to the clean run: {same}; valid: {faulty['valid']}")
    resumed, before = killed_and_resumed(args.benchmark, dataset, work / "killed", kill_after=max(2, samples // 3))
    identical = resumed["samples"] == clean["samples"] and resumed.get("top1_percent") == clean.get("top1_percent")
    print(f"SIGKILL after {before} journaled samples, then `tinyperf run --resume`: results identical: {identical}")
    return 0 if same and identical else 1


if __name__ == "__main__":
    sys.exit(main())
