"""Energy mode: the performance windows again, timed and metered by the energy monitor.

Each window is `infer N 0`: the device pulls its timestamp GPIO at the start and at the end, the
monitor reports both edges on its sample timeline, and the window's energy is what flowed between
them (edges placed inside their samples, see power/energy.py). Energy per inference = window energy
/ N; the headline is the median of the 5 windows (MLPerf Tiny rules). No warmup inside the command:
with W > 0 the core is already busy before the first edge and that edge shows no current step.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass

from tinyperf.device.dut import Device
from tinyperf.errors import ProtocolError
from tinyperf.power.energy import naive_window_energy, window_energy
from tinyperf.power.monitor import Monitor
from tinyperf.run.modes import Journal, NoProgress, ProgressSink
from tinyperf.run.modes.clock import calibrate, check_device_clock, timed
from tinyperf.run.modes.performance import PerformanceSettings, infer_timeout_s, measure_windows, rule_problems

EDGE_WAIT_SLACK_S = 10.0


@dataclass(frozen=True)
class EnergyWindow:
    index: int
    input_name: str
    count: int
    start_s: float
    end_s: float
    edge_uncertainty_s: tuple[float, float]
    seconds: float
    energy_j: float
    uncertainty_j: float
    naive_energy_j: float  # "sum whole samples between the events", for comparison only

    @property
    def energy_per_inference_uj(self) -> float:
        return 1e6 * self.energy_j / self.count

    @property
    def power_mw(self) -> float:
        return 1e3 * self.energy_j / self.seconds if self.seconds > 0 else float("nan")


def monitor_name(monitor: Monitor) -> str:
    return str(getattr(monitor, "name", "monitor"))


def _edges(device: Device, monitor: Monitor, count: int, timeout_s: float) -> tuple[int, int, float]:
    """One window's (start edge sample, end edge sample, host seconds of the infer command alone: the
    edge wait after it includes the samples that must follow the end edge, no part of the window)."""
    trace = monitor.trace
    assert trace is not None, "start the monitor's acquisition first"
    before = len(trace.edges)
    _, host_s = timed(lambda: device.infer_energy(count, 0, timeout_s))
    edges = monitor.wait_for_edges(before + 2, EDGE_WAIT_SLACK_S)
    return edges[before], edges[before + 1], host_s


def _measure(device: Device, monitor: Monitor, count: int, timeout_s: float) -> tuple:
    """(window energy, naive energy, host seconds of the infer command)."""
    start, end, host_s = _edges(device, monitor, count, timeout_s)
    trace = monitor.trace
    assert trace is not None
    energies = trace.array()
    return window_energy(energies, start, end, trace.period_s), naive_window_energy(energies, start, end), host_s


def run_energy(
    device: Device,
    monitor: Monitor,
    inputs: list[tuple[str, bytes]],
    settings: PerformanceSettings = PerformanceSettings(),
    journal: Journal = lambda record: None,
    progress: ProgressSink = NoProgress(),
    realtime_clock: bool = False,
) -> dict:
    """The windows of performance mode timed by the monitor's edges. `realtime_clock`: a real monitor,
    whose timeline cannot run ahead of the host clock."""
    progress.start("calibration", 1)
    device.load(inputs[0][1])

    def calibration_window(count: int) -> tuple[float | None, float]:
        start, end, host_s = _edges(device, monitor, count, 60.0)
        trace = monitor.trace
        assert trace is not None
        if start == end:  # shorter than one monitor sample: calibrate() runs more inferences
            return None, host_s
        return window_energy(trace.array(), start, end, trace.period_s).seconds, host_s

    latency_s, calibrated_on = calibrate(calibration_window, realtime_clock, f"{monitor_name(monitor)} clock")
    journal({"event": "calibration", "latency_s": latency_s, "count": calibrated_on})
    progress.advance()
    progress.start("energy windows", min(settings.windows, len(inputs)))

    def measure(index: int, name: str, count: int, latency_s: float) -> EnergyWindow:
        measured, naive, host_s = _measure(device, monitor, count, infer_timeout_s(count, latency_s))
        check_device_clock(measured.seconds, host_s, f"window {index} ({count} inferences)", realtime_clock,
                           f"{monitor_name(monitor)} clock")
        return EnergyWindow(index, name, count, measured.start.time_s, measured.end.time_s,
                            (measured.start.uncertainty_s, measured.end.uncertainty_s), measured.seconds,
                            measured.energy_j, measured.uncertainty_j, naive)

    windows = measure_windows(device, inputs, settings, latency_s, measure, "energy_window", journal, progress)
    trace = monitor.trace
    return summarize(windows, trace.gaps if trace else [], trace.edge_source if trace else "timestamp GPIO")


def summarize(windows: list[EnergyWindow], gaps: list[str], edge_source: str = "timestamp GPIO") -> dict:
    per_inference = [w.energy_per_inference_uj for w in windows]
    median = statistics.median(per_inference)
    problems = rule_problems(windows)
    if gaps:
        problems.append(f"the monitor dropped samples ({len(gaps)} gaps: {gaps[0]})")
    if edge_source != "timestamp GPIO":
        problems.append(f"window edges came from the {edge_source}, not the timestamp GPIO that MLPerf Tiny "
                        "energy runs require (this monitor has no timestamp input)")
    return {
        "median_energy_uj": median,
        "median_power_mw": statistics.median(w.power_mw for w in windows),
        "uncertainty_uj": max(1e6 * w.uncertainty_j / w.count for w in windows),
        "naive_median_energy_uj": statistics.median(1e6 * w.naive_energy_j / w.count for w in windows),
        "latency_ms": 1e3 * statistics.median(w.seconds / w.count for w in windows),
        "valid": not problems,
        "problems": problems,
        "gaps": gaps,
        "edge_source": edge_source,
        "windows": [{**asdict(w), "energy_per_inference_uj": w.energy_per_inference_uj, "power_mw": w.power_mw}
                    for w in windows],
    }


SECONDS_PER_DAY = 86400.0
_DUTY = re.compile(r"^m-tp-duty-\[(\d+),(\d+\.\d+)\]$")
_DUTY_BUSY = re.compile(r"^m-tp-duty-busy-\[(\d+\.\d+)\]$")


@dataclass(frozen=True)
class DutyReport:
    """What the device says of a tp-duty run: requests served, the period by its clock, time awake."""

    requests: int
    period_s: float
    busy_s: float


def parse_duty_reply(lines: tuple[str, ...]) -> DutyReport:
    duty = next((m for line in lines if (m := _DUTY.match(line))), None)
    busy = next((m for line in lines if (m := _DUTY_BUSY.match(line))), None)
    if duty is None or busy is None:
        raise ProtocolError(f"tp-duty reply lacks m-tp-duty-[N,S] and m-tp-duty-busy-[S]: {list(lines)[-3:]}")
    return DutyReport(int(duty.group(1)), float(duty.group(2)), float(busy.group(1)))


def run_duty_cycle(device: Device, monitor: Monitor, data: bytes, rate_hz: float, count: int,
                   arrivals: str = "periodic", seed: int = 0, journal: Journal = lambda record: None) -> dict:
    """The always-on scenario (MLPerf's "server", the TinyML way): `count` requests at `rate_hz`, the
    device asleep between them (`tp-duty`), metered between its two timestamp edges. Average power
    and energy per day at that rate come from the whole period, sleep included."""
    trace = monitor.trace
    assert trace is not None, "start the monitor's acquisition first"
    device.load(data)
    before = len(trace.edges)
    span_s = count / rate_hz
    command = f"tp-duty {rate_hz:g} {count} {arrivals} {seed}"
    if device.extended is not None:  # the input went to buffer 0: the requests infer on it
        command += " " + device.loaded_ref("tp-duty")
    reply = device.client.command(command, 1.5 * span_s + 10.0)
    report = parse_duty_reply(reply.lines)
    edges = monitor.wait_for_edges(before + 2, EDGE_WAIT_SLACK_S)
    measured = window_energy(trace.array(), edges[before], edges[before + 1], trace.period_s)  # tp-duty spans seconds
    power_w = measured.energy_j / measured.seconds
    figures = {"rate_hz": rate_hz, "arrivals": arrivals, "requests": count, "seconds": measured.seconds,
               "energy_j": measured.energy_j, "uncertainty_j": measured.uncertainty_j,
               "average_power_mw": 1e3 * power_w, "energy_per_day_j": power_w * SECONDS_PER_DAY,
               "energy_per_request_uj": 1e6 * measured.energy_j / count,
               "device_period_s": report.period_s, "device_busy_s": report.busy_s,
               "duty_fraction": report.busy_s / report.period_s}
    journal({"event": "duty-cycle", **figures})
    return figures
