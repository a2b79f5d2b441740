"""Energy per inference against known truth: tinyperf's edge placement vs "sum the samples between events".

Runs the simulated board metered by each simulated instrument through its real driver (LPM01A and PPK2
on a pty, Otii and SCPI over TCP, Joulescope through its v1 API), where the truth is known exactly from
the declared cycle and power models. Two cases per benchmark, instrument and rate:
  rule windows : `tinyperf run --mode energy` as a user runs it (5 windows >= 10 s);
  1-inference  : 20 windows of `infer 1 0`, where a +-1 sample error per edge is not diluted.
    PYTHONPATH=host TINYPERF_MODELS=../shared/models python benchmarks/energy_sync_error.py
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
from pathlib import Path

from tinyperf.device.dut import Device
from tinyperf.device.link import open_link
from tinyperf.device.protocol.client import LegacyClient
from tinyperf.power.monitor import MonitorSpec, open_monitor, sim_wire_path
from tinyperf.run.modes.energy import _measure
from tinyperf.run.runner import RunRequest, execute
from tinyperf.sim.board.truth import energy_per_inference_uj
from tinyperf.sim.launcher import start_sim_board
from tinyperf.suite.models import get_entry, resolve_model
from tinyperf.suite.synthetic import synthetic_inputs

BOARD = "sim-nucleo-l4r5zi"
# (instrument, rate): LPM01A default and fastest continuous ascii_dec energy rate; PPK2's only rate;
# Otii Arc's and Ace's top mc rates; JS220 at 100 kHz; the N6705 Elog's fastest period (edges from the step)
CASES = (("lpm01a", 1000), ("lpm01a", 5000), ("ppk2", 100_000), ("otii", 4000), ("otii", 50_000),
         ("js220", 100_000), ("scpi", 9765))
SHORT_WINDOWS = 20


def rule_run(benchmark: str, kind: str, rate: int, sessions: Path) -> tuple[float, float]:
    request = RunRequest(board=BOARD, benchmark=benchmark, mode="energy", monitor=f"{kind}:sim",
                         monitor_rate_hz=rate, sessions_dir=sessions)
    figures = execute(request).figures
    return figures["median_energy_uj"], figures["naive_median_energy_uj"]


def short_windows(benchmark: str, kind: str, rate: int) -> tuple[list[float], list[float], list[float]]:
    model = resolve_model(benchmark).path
    ours, naive, stated = [], [], []
    with contextlib.ExitStack() as stack:
        wire = sim_wire_path(stack)
        monitor = open_monitor(MonitorSpec(kind, "sim"), BOARD, stack, wire)
        monitor.configure(1.8, rate)
        monitor.power_on()
        monitor.start()
        board = start_sim_board(BOARD, benchmark, model, energy_wire=wire)
        stack.callback(board.stop)
        client = LegacyClient(stack.enter_context(open_link(board.url, 115200)), 5.0)
        client.drain()
        device = Device(client)
        device.load(synthetic_inputs(get_entry(benchmark), 1)[0][1])
        for _ in range(SHORT_WINDOWS):
            measured, naive_j = _measure(device, monitor, 1, 30.0)
            ours.append(1e6 * measured.energy_j)
            naive.append(1e6 * naive_j)
            stated.append(1e6 * measured.uncertainty_j)
            monitor.wait_for_edges(len(monitor.trace.edges), 1.0)  # let idle samples separate the windows
        monitor.stop()
    return ours, naive, stated


def error_percent(value: float, truth: float) -> float:
    return 100.0 * (value / truth - 1.0)


def main() -> int:
    print(f"{'benchmark':9} {'monitor':7} {'rate':>7} {'case':14} {'truth uJ':>10} {'tinyperf err %':>15} "
          f"{'events-sum err %':>17} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for benchmark in ("ad01", "kws01"):
            truth = energy_per_inference_uj(BOARD, resolve_model(benchmark).path)
            for kind, rate in CASES:
                ours, naive = rule_run(benchmark, kind, rate, Path(tmp))
                e_ours, e_naive = error_percent(ours, truth), error_percent(naive, truth)
                print(f"{benchmark:9} {kind:7} {rate:>7} {'rule windows':14} {truth:>10.3f} {e_ours:>15.4f} "
                      f"{e_naive:>17.4f} {abs(e_naive) / max(abs(e_ours), 1e-9):>7.1f}")
                ours_list, naive_list, stated = short_windows(benchmark, kind, rate)
                mae_ours = statistics.fmean(abs(error_percent(v, truth)) for v in ours_list)
                mae_naive = statistics.fmean(abs(error_percent(v, truth)) for v in naive_list)
                worst_ours = max(abs(error_percent(v, truth)) for v in ours_list)
                worst_naive = max(abs(error_percent(v, truth)) for v in naive_list)
                covered = sum(abs(v - truth) <= 2 * s for v, s in zip(ours_list, stated, strict=True))
                print(f"{benchmark:9} {kind:7} {rate:>7} {'1-inference':14} {truth:>10.3f} {mae_ours:>15.4f} "
                      f"{mae_naive:>17.4f} {mae_naive / max(mae_ours, 1e-9):>7.1f}   "
                      f"(mean |err| of {SHORT_WINDOWS}; worst "
                      f"{worst_ours:.3f} vs {worst_naive:.3f}; truth within 2x stated uncertainty: "
                      f"{covered}/{SHORT_WINDOWS})")
    print("SIMULATED bench: truth from the declared cycle and power models; white current noise on every sample.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
