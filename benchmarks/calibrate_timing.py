"""Prints the simulated board's modelled latency for each official model against the published
MLPerf Tiny v0.5 TFLM-reference figures on NUCLEO-L4R5ZI, with the ratio.

    python benchmarks/calibrate_timing.py [--models DIR]

The numbers are the cycle model's prediction (the sim's m-lap-us clock uses exactly this);
they are a model fitted to published figures, not a measurement of silicon.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tinyperf.device.boards import get_board
from tinyperf.suite.models import resolve_model
from tinyperf.suite.tflite_info import read_model_info_file

PUBLISHED_MS = {"kws01": 182.0, "vww01": 601.0, "ad01": 10.05, "ic01": 704.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "models")
    parser.add_argument("--board", default="sim-nucleo-l4r5zi")
    args = parser.parse_args()
    os.environ.setdefault("TINYPERF_MODELS", str(args.models))
    board = get_board(args.board)
    assert board.timing is not None
    print(f"{'benchmark':<10}{'MACs':>12}{'modelled ms':>14}{'published ms':>14}{'ratio':>8}")
    for benchmark, published in PUBLISHED_MS.items():
        info = read_model_info_file(resolve_model(benchmark).path)
        modelled = 1000.0 * board.timing.inference_cycles(info) / board.clock_hz
        print(f"{benchmark:<10}{info.total_macs:>12,}{modelled:>14.2f}{published:>14.2f}{modelled / published:>8.3f}")


if __name__ == "__main__":
    main()
