"""Stage 3 of a run: the mode measures on the connected bench (performance windows and scenarios, energy
windows and duty cycle, accuracy over every sample, shared out across boards) and returns its figures."""

from __future__ import annotations

from tinyperf.run.bench import ConnectedBench, monitor_figures, real_silicon
from tinyperf.run.modes import ProgressSink
from tinyperf.run.modes.accuracy import Shard, run_accuracy_sharded
from tinyperf.run.modes.energy import run_duty_cycle, run_energy
from tinyperf.run.modes.performance import run_performance
from tinyperf.run.modes.scenarios import run_offline, run_single_stream
from tinyperf.run.plan import RunPlan, perf_inputs
from tinyperf.run.session import Session


def measure(plan: RunPlan, bench: ConnectedBench, session: Session, progress: ProgressSink,
            done: dict[str, dict]) -> tuple[dict, str]:
    """(figures, what the inputs were); `done`: an accuracy run's samples finished before a resume."""
    request, board, device = bench.request, plan.board, bench.device
    dataset_note = plan.dataset_note
    if request.mode == "performance":
        inputs, dataset_note = perf_inputs(plan.entry, plan.samples)
        figures = run_performance(device, inputs, request.performance, session.journal, progress,
                                  realtime_clock=real_silicon(board))
        if request.single_stream:
            figures["single_stream"] = run_single_stream(device, inputs[0][1], request.single_stream,
                                                         figures["latency_ms"], session.journal, progress)
        if request.offline_s:
            figures["offline"] = run_offline(device, inputs[0][1], request.offline_s, figures["latency_ms"],
                                             session.journal)
    elif request.mode == "energy":
        monitor, spec = bench.monitor, plan.monitor
        assert monitor is not None and spec is not None
        inputs, dataset_note = perf_inputs(plan.entry, plan.samples)
        figures = run_energy(device, monitor, inputs, request.performance, session.journal, progress,
                             realtime_clock=real_silicon(board) and not spec.simulated)
        if request.duty_rate_hz:
            figures["duty_cycle"] = run_duty_cycle(device, monitor, inputs[0][1], request.duty_rate_hz,
                                                   request.duty_requests, request.duty_arrivals,
                                                   journal=session.journal)
        figures["monitor"] = monitor_figures(monitor, spec, board)
    else:
        assert plan.samples is not None
        several = len(bench.shards) > 1
        figures = run_accuracy_sharded(
            [Shard(d, c.recover, f"board {i} ({c.link.url})" if several else "")
             for i, (c, d, _, _) in enumerate(bench.shards)], plan.samples, plan.entry, session.journal, progress,
            done)
    figures["link"] = bench.link_figures()
    return figures, dataset_note
