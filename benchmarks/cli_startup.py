"""Whole-process start-up time of the CLI, as a user feels it: `tinyperf --help`, `tinyperf boards`.

Each command runs once to warm the file cache, then `--runs` times; prints the median, min and max,
and the ratio to a bare `python -c pass` (the interpreter's own floor). Budget: median <= 0.3 s.

    .venv/bin/python benchmarks/cli_startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "tinyperf --help": [str(Path(sys.executable).with_name("tinyperf")), "--help"],
    "tinyperf boards": [str(Path(sys.executable).with_name("tinyperf")), "boards"],
    "tinyperf --version": [str(Path(sys.executable).with_name("tinyperf")), "--version"],
}
BUDGET_S = 0.3


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60,
                   env={**os.environ, "COLUMNS": "80"})
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    floor = None
    over = []
    print(f"{'command':<22}{'median':>9}{'min':>9}{'max':>9}{'x python':>10}")
    for name, argv in COMMANDS.items():
        timed(argv)  # warm-up
        times = [timed(argv) for _ in range(runs)]
        median = statistics.median(times)
        floor = floor or median
        print(f"{name:<22}{median:>8.3f}s{min(times):>8.3f}s{max(times):>8.3f}s{median / floor:>9.1f}x")
        if name.startswith("tinyperf") and median > BUDGET_S:
            over.append(name)
    print(f"budget {BUDGET_S} s (median): " + ("met" if not over else "EXCEEDED by " + ", ".join(over)))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
