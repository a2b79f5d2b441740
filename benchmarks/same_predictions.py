"""Two accuracy sessions of one benchmark, sample by sample: same prediction, same result vector, and each
run's wall time per sample (from its journal's timestamps).

    python benchmarks/same_predictions.py SESSION_A SESSION_B

Why: two boards (e.g. the simulated board, bit-exact TFLM on the host, and TFLM + CMSIS-NN firmware in QEMU)
can score the same accuracy with different answers; equal scores are not equal predictions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from tinyperf.run.session import read_journal


def _samples(session: Path) -> tuple[dict[str, dict], float]:
    records = [r for r in read_journal(session) if r.get("event") == "sample" and not r.get("failed")]
    times = [r["t"] for r in records if isinstance(r.get("t"), (int, float))]
    per_sample = (max(times) - min(times)) / max(1, len(times) - 1) if len(times) > 1 else float("nan")
    return {r["name"]: r for r in records}, per_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args()
    first, first_s = _samples(args.first)
    second, second_s = _samples(args.second)
    shared = sorted(first.keys() & second.keys())
    same_prediction = sum(first[n]["prediction"] == second[n]["prediction"] for n in shared)
    same_values = sum(np.array_equal(np.float32(first[n]["values"]), np.float32(second[n]["values"])) for n in shared)
    print(f"samples: {len(first)} in {args.first.name}, {len(second)} in {args.second.name}, {len(shared)} in both")
    print(f"same prediction: {same_prediction}/{len(shared)}; "
          f"same result vector (float32): {same_values}/{len(shared)}")
    print(f"wall time per sample: {first_s * 1000:.1f} ms ({args.first.name}), {second_s * 1000:.1f} ms "
          f"({args.second.name}), ratio {second_s / first_s:.2f}")


if __name__ == "__main__":
    main()
