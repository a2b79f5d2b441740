"""MLPerf Inference scenarios on a TinyML device, after the MLPerf Tiny windows (whose median
throughput stays the headline):

- single-stream: one inference per command, each timed by the device's own timestamps around it,
  reported as nearest-rank p50 / p90 / p99 with the number of inferences;
- offline: one long window of back-to-back inferences, its sustained throughput.

And `repeat_summary`: the spread of a figure across whole repeated runs, with outlier runs flagged.
"""

from __future__ import annotations

import math
import statistics

from tinyperf.device.dut import Device
from tinyperf.run.modes import Journal, NoProgress, ProgressSink

PERCENTILES = (50, 90, 99)
OUTLIER_MADS = 3.0  # a run further than this many scaled MADs from the median of the runs is an outlier


def nearest_rank(values: list[float], percentile: float) -> float:
    """The smallest value with at least `percentile` % of the values at or below it (MLPerf's rule)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percentile / 100 * len(ordered)) - 1)]


def _timeout_s(latency_ms: float, count: int) -> float:
    return 4.0 * latency_ms / 1000.0 * count + 2.0


def run_single_stream(device: Device, data: bytes, queries: int, latency_ms: float,
                      journal: Journal = lambda record: None, progress: ProgressSink = NoProgress()) -> dict:
    """`queries` x `infer 1 0` on one input; each latency from that command's two m-lap-us stamps."""
    device.load(data)
    progress.start("single-stream inferences", queries)
    latencies = []
    for _ in range(queries):
        result = device.infer(1, 0, _timeout_s(latency_ms, 1))
        latencies.append(((result.end_us - result.start_us) % 2**32) / 1000.0)
        progress.advance()
    figures = {f"p{p}_ms": nearest_rank(latencies, p) for p in PERCENTILES}
    figures.update(queries=queries, mean_ms=statistics.fmean(latencies), min_ms=min(latencies),
                   max_ms=max(latencies), latencies_ms=latencies)
    journal({"event": "single-stream", **{k: v for k, v in figures.items() if k != "latencies_ms"}})
    return figures


def run_offline(device: Device, data: bytes, seconds: float, latency_ms: float,
                journal: Journal = lambda record: None) -> dict:
    """One window of back-to-back inferences lasting at least `seconds` on the device clock."""
    count = max(10, math.ceil(seconds * 1.05 / (latency_ms / 1000.0)))
    device.load(data)
    result = device.infer(count, 1, _timeout_s(latency_ms, count + 1))
    elapsed = ((result.end_us - result.start_us) % 2**32) / 1e6
    figures = {"inferences": count, "seconds": elapsed, "throughput": count / elapsed}
    journal({"event": "offline", **figures})
    return figures


def repeat_summary(values: list[float]) -> dict:
    """Median, spread and coefficient of variation of one figure across K runs; outlier runs by MAD."""
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values) * 1.4826
    outliers = [i for i, v in enumerate(values) if mad > 0 and abs(v - median) > OUTLIER_MADS * mad]
    mean = statistics.fmean(values)
    return {"runs": len(values), "values": values, "median": median, "min": min(values), "max": max(values),
            "spread_percent": 100 * (max(values) - min(values)) / median if median else 0.0,
            "cv_percent": 100 * statistics.pstdev(values) / mean if mean else 0.0, "outlier_runs": outliers}
