"""The MLPerf Tiny open runner (mlcommons/tiny benchmark/runner, unchanged) and tinyperf, each driving a
fresh `tinyperf sim --bench`, side by side with the bench's truth (its declared models).

Run (a clone of mlcommons/tiny and a venv with the open runner's requirements are yours to provide;
nothing of it is in this repository):
  PYTHONPATH=host TINYPERF_MODELS=../shared/models python benchmarks/open_runner/compare.py \
      --runner-dir ../tiny/benchmark/runner --runner-python ../orvenv/bin/python --benchmarks kws01 ad01 --modes p a e
The only thing between the runner and the bench is port_shim.py, which adds the bench's ptys to
pyserial's port list with the USB identity each role has on a real bench. Figures are SIMULATED.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinyperf.sim.bench import start_bench
from tinyperf.sim.board.truth import simulated_truth
from tinyperf.suite.models import resolve_model
from tinyperf.suite.smoke.store import smoke_dataset

BOARD = "sim-nucleo-l4r5zi"
MODE_NAMES = {"p": "performance", "a": "accuracy", "e": "energy"}
RUNNER_TIMEOUT_S = 3600
FIGURES = {
    "p": [("throughput inf./s", re.compile(r"Median throughput is\s+([\d.]+) inf\./sec\."))],
    "e": [("energy uJ/inf.", re.compile(r"Median energy cost is\s*([\d.]+) uJ/inf\."))],
    "a": [("top-1 %", re.compile(r"Top 1% = ([\d.]+)")), ("AUC", re.compile(r"AUC = ([\d.]+)"))],
}


def _devices_file(runner_dir: Path, benchmark: str) -> Path:
    return runner_dir / ("devices_ad.yaml" if benchmark == "ad01" else "devices_kws_ic_vww.yaml")


def _dut_baud(benchmark: str, mode: str) -> int | None:
    """The board's own UART rate the runner's device file expects in performance/accuracy mode."""
    return 921600 if benchmark == "ad01" and mode != "e" else None


def run_open_runner(args: argparse.Namespace, benchmark: str, mode: str, work: Path) -> tuple[dict, float]:
    datasets = work / "datasets"
    datasets.mkdir(parents=True)
    (datasets / benchmark).symlink_to(smoke_dataset(benchmark))
    model = resolve_model(benchmark).path
    bench_mode = "energy" if mode == "e" else "performance"
    started = time.monotonic()
    with start_bench(BOARD, benchmark, model, bench_mode, baud=_dut_baud(benchmark, mode)) as bench:
        ports = work / "ports.json"
        bench.write_ports_file(ports)
        tests = args.runner_dir / {"p": "tests_performance.yaml", "a": "tests_accuracy.yaml",
                                   "e": "tests_energy.yaml"}[mode]
        argv = [str(args.runner_python), str(Path(__file__).with_name("port_shim.py")), str(ports),
                str(args.runner_dir / "main.py"), "-d", str(_devices_file(args.runner_dir, benchmark)),
                "-t", str(tests), "-m", mode, "-s", str(datasets)]
        with (work / "runner-output.txt").open("wb") as out:
            subprocess.run(argv, cwd=work, stdout=out, stderr=subprocess.STDOUT, timeout=RUNNER_TIMEOUT_S,
                           check=False)
    seconds = time.monotonic() - started
    results = sorted(work.glob("sessions/*/results.txt"))
    text = results[-1].read_text(encoding="utf-8", errors="replace") if results else ""
    figures = {}
    for name, pattern in FIGURES[mode]:
        match = pattern.search(text)
        figures[name] = float(match.group(1)) if match else None
    return figures, seconds


def run_tinyperf(benchmark: str, mode: str, work: Path) -> tuple[dict, float]:
    work.mkdir(parents=True)
    model = resolve_model(benchmark).path
    bench_mode = "energy" if mode == "e" else "performance"
    started = time.monotonic()
    with start_bench(BOARD, benchmark, model, bench_mode, baud=_dut_baud(benchmark, mode)) as bench:
        argv = [sys.executable, "-m", "tinyperf.cli", "run", "--board", BOARD, "--benchmark", benchmark,
                "--mode", MODE_NAMES[mode], "--protocol", "legacy", "--sessions-dir", str(work / "sessions")]
        if mode == "e":
            argv += ["--port", bench.ports["interface"], "--interface-board", "--monitor",
                     f"lpm01a:{bench.ports['power']}"]
        else:
            argv += ["--port", bench.ports["dut"]]
            argv += ["--baud", "921600"] if _dut_baud(benchmark, mode) else []
        with (work / "tinyperf-output.txt").open("wb") as out:
            subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=RUNNER_TIMEOUT_S, check=False)
    seconds = time.monotonic() - started
    found = sorted(work.glob("sessions/*/results.json"))
    data = json.loads(found[-1].read_text(encoding="utf-8")) if found else {}
    figures = {"p": {"throughput inf./s": data.get("median_throughput")},
               "e": {"energy uJ/inf.": data.get("median_energy_uj")},
               "a": {"top-1 %": data.get("top1_percent"), "AUC": data.get("auc")}}[mode]
    return figures, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runner-dir", type=Path, required=True, help="mlcommons/tiny benchmark/runner folder")
    parser.add_argument("--runner-python", type=Path, required=True, help="python with the runner's requirements")
    parser.add_argument("--benchmarks", nargs="+", default=["kws01", "ad01"])
    parser.add_argument("--modes", nargs="+", default=["p", "a", "e"], choices=list(MODE_NAMES))
    parser.add_argument("--keep", type=Path, default=None, help="keep every output under this folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="open-runner-")) if args.keep is None else args.keep
    print(f"outputs under {root} (SIMULATED bench: figures come from declared models)", flush=True)
    print(f"{'benchmark':<9} {'mode':<12} {'figure':<18} {'open runner':>12} {'tinyperf':>12} {'truth':>12} "
          f"{'runner s':>9} {'tinyperf s':>10}", flush=True)
    for benchmark in args.benchmarks:
        truth = simulated_truth(BOARD, resolve_model(benchmark).path, "energy")
        for mode in args.modes:
            theirs, their_s = run_open_runner(args, benchmark, mode, root / f"{benchmark}-{mode}" / "open-runner")
            ours, our_s = run_tinyperf(benchmark, mode, root / f"{benchmark}-{mode}" / "tinyperf")
            for name in theirs:
                expected = {"throughput inf./s": 1000.0 / truth["latency_ms"],
                            "energy uJ/inf.": truth["energy_uj"]}.get(name)
                print(f"{benchmark:<9} {MODE_NAMES[mode]:<12} {name:<18} {_num(theirs[name]):>12} "
                      f"{_num(ours.get(name)):>12} {_num(expected):>12} {their_s:>9.0f} {our_s:>10.0f}", flush=True)
    return 0


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
