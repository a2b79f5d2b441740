"""Accuracy-run throughput with 1, 2, 4, 8 simulated boards sharing one run (`--sim-boards N`), each
paced in real time like the board it models, and where the host becomes the bottleneck.

Wall time is read from the session journal (last board's identity record to last sample). CPU is measured
with getrusage: the runner's own process (SELF) and the simulated boards (CHILDREN, collected when
they exit). The simulated boards run on the same 2 cores as the runner, so at high N they compete
with it: the figures say how much CPU each side spends per sample.

Run: PYTHONPATH=host TINYPERF_MODELS=../shared/models python benchmarks/shard_scaling.py [--samples 160]
SIMULATED boards: inference time is the board's declared cycle model (kws01: 191.6 ms).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
from pathlib import Path

from tinyperf.run.runner import RunRequest, execute
from tinyperf.run.session import read_journal
from tinyperf.suite.smoke.store import smoke_subset

BOARD = "sim-nucleo-l4r5zi"


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def measure(boards: int, dataset: Path, sessions: Path) -> tuple[float, float, float, list]:
    """(wall s, runner CPU s, simulated boards' CPU s, predictions)."""
    self_before, children_before = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    outcome = execute(RunRequest(board=BOARD, benchmark="kws01", mode="accuracy", dataset=dataset,
                                 pacing="realtime", sim_boards=boards, sessions_dir=sessions))
    runner_cpu = cpu_seconds(resource.RUSAGE_SELF) - self_before
    boards_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - children_before
    records = read_journal(outcome.session.root)
    start = max(r["t"] for r in records if r["event"] == "identity")  # every board connected
    end = max(r["t"] for r in records if r["event"] == "sample")
    predictions = [s.get("prediction") for s in outcome.figures["samples"]]
    return end - start, runner_cpu, boards_cpu, predictions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=160)
    parser.add_argument("--boards", type=int, action="append", help="default: 1, 2, 4, 8")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tinyperf-shards-"))
    dataset = smoke_subset("kws01", args.samples, work / "ds")
    print(f"kws01 accuracy, {args.samples} samples, SIMULATED boards paced in real time, {os.cpu_count()} host cores")
    print(f"{'boards':>6} {'wall s':>8} {'samples/s':>10} {'speedup':>8} {'efficiency':>10} "
          f"{'runner CPU ms/sample':>21} {'boards CPU ms/sample':>21}", flush=True)
    base = None
    reference = None
    for boards in args.boards or [1, 2, 4, 8]:
        wall, runner_cpu, boards_cpu, predictions = measure(boards, dataset, work / "sessions")
        rate = args.samples / wall
        base = base or rate
        reference = reference or predictions
        print(f"{boards:>6} {wall:8.2f} {rate:10.2f} {rate / base:8.2f} {rate / base / boards:10.2f} "
              f"{1000 * runner_cpu / args.samples:21.2f} {1000 * boards_cpu / args.samples:21.2f}"
              f"{'' if predictions == reference else '  PREDICTIONS DIFFER'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
