"""Accuracy of each MLPerf Tiny model on the packaged smoke sets, run twice as a user runs it: on the
QEMU board (our firmware, ref engine) and on the simulated board (TFLM's interpreter). Prints each
headline, whether every sample's scores are identical, and the wall time of each run.

Run: PYTHONPATH=host TINYPERF_MODELS=../shared/models python benchmarks/emulated_accuracy.py [kws01 ...]
EMULATED board: QEMU mps2-an386 under -icount shift=0; SIMULATED board: TFLM's host interpreter.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from tinyperf.firmware.build import BuildRequest, build_firmware
from tinyperf.run.runner import RunRequest, execute

BENCHMARKS = ("kws01", "vww01", "ic01", "ad01")


def _run(board: str, benchmark: str, work: Path) -> tuple[dict, float]:
    started = time.monotonic()
    outcome = execute(RunRequest(board=board, benchmark=benchmark, mode="accuracy", sessions_dir=work / board,
                                 builds_dir=work / "builds"))
    return outcome.figures, time.monotonic() - started


def _headline(figures: dict) -> str:
    if figures.get("auc") is not None:
        return f"AUC {figures['auc']:.4f}"
    return f"top-1 {figures['top1_percent']:.2f} %"


def _scores(figures: dict) -> list:
    return [sample.get("values", sample.get("score")) for sample in figures.get("samples", [])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", nargs="*", default=list(BENCHMARKS))
    args = parser.parse_args()
    print(f"{'model':6} {'samples':>7} {'QEMU (ref engine)':>18} {'sim (TFLM)':>14} {'identical':>9} "
          f"{'QEMU s':>7} {'sim s':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for benchmark in args.benchmarks:
            build_firmware(BuildRequest("qemu-mps2-an386", benchmark, builds_dir=work / "builds", engine="ref"))
            emulated, emulated_s = _run("qemu-mps2-an386", benchmark, work)
            simulated, simulated_s = _run("sim-nucleo-l4r5zi", benchmark, work)
            same = _scores(emulated) == _scores(simulated)
            print(f"{benchmark:6} {len(_scores(emulated)):>7} {_headline(emulated):>18} {_headline(simulated):>14} "
                  f"{'yes' if same else 'NO':>9} {emulated_s:>7.1f} {simulated_s:>6.1f}")


if __name__ == "__main__":
    os.environ.setdefault("TINYPERF_MODELS", str(Path(__file__).resolve().parents[2] / "shared" / "models"))
    main()
