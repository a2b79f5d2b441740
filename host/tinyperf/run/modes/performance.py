"""Performance mode: 5 windows of `infer N W`, each >= 10 s and >= 10 inferences on the device clock.

Throughput of a window = N / (difference of its two m-lap-us timestamps); the headline is the
median of the 5 windows; latency = 1000 / median throughput (ms).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol, TypeVar

from tinyperf.device.dut import Device
from tinyperf.run.modes import Journal, NoProgress, ProgressSink
from tinyperf.run.modes.clock import DeviceClockError, bounded_count, calibrate, check_device_clock, timed

MAX_ATTEMPTS_PER_WINDOW = 3
# MLPerf Tiny run rules; settings may ask for shorter runs (quick checks), which are then marked invalid
RULE_WINDOWS = 5
RULE_MIN_WINDOW_S = 10.0
RULE_MIN_INFERENCES = 10


@dataclass(frozen=True)
class PerformanceSettings:
    windows: int = RULE_WINDOWS
    min_window_s: float = RULE_MIN_WINDOW_S
    min_inferences: int = RULE_MIN_INFERENCES
    warmup: int = 1
    margin: float = 1.05  # aim a little above the minimum so clock jitter cannot fall short


@dataclass(frozen=True)
class Window:
    index: int
    input_name: str
    count: int
    warmup: int
    start_us: int
    end_us: int
    seconds: float
    throughput: float
    results: tuple[float, ...]


def choose_count(latency_s: float, settings: PerformanceSettings) -> int:
    count = max(settings.min_inferences, math.ceil(settings.min_window_s * settings.margin / max(latency_s, 1e-9)))
    return bounded_count(count, f"a {settings.min_window_s:g} s window at {1e6 * latency_s:.3f} us per inference")


def infer_timeout_s(count: int, latency_s: float) -> float:
    """Twice the expected device time plus slack for a slow host or a slow link."""
    return 2.0 * count * latency_s + 10.0


class TimedWindow(Protocol):
    index: int
    count: int
    seconds: float


def rule_problems(windows: Sequence[TimedWindow]) -> list[str]:
    """What breaks the MLPerf Tiny window rules (5 windows, each >= 10 s and >= 10 inferences)."""
    problems = []
    if len(windows) != RULE_WINDOWS:
        problems.append(f"{len(windows)} windows, the rules need {RULE_WINDOWS}")
    for w in windows:
        if w.seconds < RULE_MIN_WINDOW_S:
            problems.append(f"window {w.index} lasted {w.seconds:.2f} s < {RULE_MIN_WINDOW_S:g} s")
        if w.count < RULE_MIN_INFERENCES:
            problems.append(f"window {w.index} ran {w.count} < {RULE_MIN_INFERENCES} inferences")
    return problems


def summarize(windows: list[Window]) -> dict:
    throughputs = [w.throughput for w in windows]  # finite: a window the clock did not count is refused
    median = statistics.median(throughputs)
    mean = statistics.fmean(throughputs)
    problems = rule_problems(windows)
    return {
        "median_throughput": median,
        "latency_ms": 1000.0 / median,
        "min_throughput": min(throughputs),
        "max_throughput": max(throughputs),
        "cv_percent": 100.0 * statistics.pstdev(throughputs) / mean,
        "valid": not problems,
        "problems": problems,
        "windows": [asdict(w) for w in windows],
    }


TimedWindowT = TypeVar("TimedWindowT", bound=TimedWindow)


def measure_windows(
    device: Device,
    inputs: list[tuple[str, bytes]],
    settings: PerformanceSettings,
    latency_s: float,
    measure: Callable[[int, str, int, float], TimedWindowT],
    event: str,
    journal: Journal,
    progress: ProgressSink,
) -> list[TimedWindowT]:
    """One window per input: load it, run N inferences, and grow N (a few tries) until the window lasts
    min_window_s. `measure(index, name, count, latency_s)` runs and times one window; every try is journaled.
    Shared by performance and energy mode: the rules for windows are the same, only the clock differs."""
    windows = []
    for index, (name, data) in enumerate(inputs[: settings.windows]):
        device.load(data)
        count = choose_count(latency_s, settings)
        for _ in range(MAX_ATTEMPTS_PER_WINDOW):
            window = measure(index, name, count, latency_s)
            journal({"event": event, **asdict(window)})  # type: ignore[call-overload]  # windows are dataclasses
            if window.seconds >= settings.min_window_s:
                break
            latency_s = window.seconds / count  # > 0: measure() refuses a window its clock did not count
            count = choose_count(latency_s, settings)
        windows.append(window)
        progress.advance()
    return windows


def run_performance(
    device: Device,
    inputs: list[tuple[str, bytes]],
    settings: PerformanceSettings = PerformanceSettings(),
    journal: Journal = lambda record: None,
    progress: ProgressSink = NoProgress(),
    realtime_clock: bool = False,
) -> dict:
    """Calibrate (growing the count until the device clock has counted enough), then measure each
    window, growing N if one fell short. Every command's device time is held against the host clock;
    `realtime_clock`: the device is real silicon, whose clock cannot run ahead of the host's."""
    progress.start("calibration", 1)
    device.load(inputs[0][1])
    latency_s, calibrated_on = calibrate(
        lambda count: timed(lambda: device.infer(count, 0, timeout_s=60.0).elapsed_us / 1e6), realtime_clock)
    journal({"event": "calibration", "latency_s": latency_s, "count": calibrated_on})
    progress.advance()
    progress.start("performance windows", min(settings.windows, len(inputs)))

    def measure(index: int, name: str, count: int, latency_s: float) -> Window:
        result, host_s = timed(lambda: device.infer(count, settings.warmup,
                                                    infer_timeout_s(count + settings.warmup, latency_s)))
        seconds = result.elapsed_us / 1e6
        check_device_clock(seconds, host_s, f"window {index} ({count} inferences)", realtime_clock)
        if seconds <= 0:
            raise DeviceClockError(f"the device clock looks coarse or stopped: window {index} ({count} inferences) "
                                   "counted 0 us")
        return Window(index, name, count, settings.warmup, result.start_us, result.end_us, seconds,
                      count / seconds, result.values)

    windows = measure_windows(device, inputs, settings, latency_s, measure, "window", journal, progress)
    figures = summarize(windows)
    figures["consistency"] = check_consistency(device, inputs, windows, latency_s, journal)
    return figures


CONSISTENCY_TOLERANCE = 0.0011  # results print as %0.3f: one unit in the last place, and rounding


def check_consistency(device: Device, inputs: list[tuple[str, bytes]], windows: list[Window], latency_s: float,
                      journal: Journal) -> dict:
    """Reload each window's input and run `infer 1 0`: firmware whose repeated inference changes the
    answer (TFLM reusing the input tensor) gives other results after N inferences than after one."""
    mismatches = []
    for window, (name, data) in zip(windows, inputs, strict=False):
        device.load(data)
        single = device.infer(1, 0, infer_timeout_s(1, latency_s)).values
        differs = len(single) != len(window.results) or any(
            abs(a - b) > CONSISTENCY_TOLERANCE for a, b in zip(single, window.results, strict=True))
        journal({"event": "consistency", "window": window.index, "single": list(single), "differs": differs})
        if differs:
            mismatches.append({"window": window.index, "input": name, "after_window": list(window.results),
                               "single": list(single)})
    return {"checked": len(windows), "mismatches": mismatches, "consistent": not mismatches}
