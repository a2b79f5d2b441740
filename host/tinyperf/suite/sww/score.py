"""Scoring a stream's detections: the MLPerf Tiny rule, and the open runner's variant for comparison.

Rule (v1.3+): a wakeword counts as found when a detection falls in [start, end + 1 s]; every other
detection is a false positive, and false positives closer than 1 s to the previous counted one are one.
TP + FN is the number of wakewords. The open runner (streaming_ww_utils.calc_detection_stats) adds the
1 s twice, so its window is [start, end + 2 s]; `--score-as-open-runner` reproduces that.
Detection times are seconds after the first detection, the device's t = 0 marker on its first frame.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

Rule = Literal["mlperf", "open-runner"]
WINDOW_EXTENSION_S: dict[Rule, float] = {"mlperf": 1.0, "open-runner": 2.0}
DEBOUNCE_S = 1.0


@dataclass(frozen=True)
class WakewordScore:
    rule: Rule
    true_positives: int
    false_negatives: int
    false_positives: int
    missed_s: tuple[float, ...]  # start of each wakeword that was not found
    false_positive_s: tuple[float, ...]  # each counted false positive

    @property
    def f1(self) -> float:
        denominator = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / denominator if denominator else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "f1": self.f1}


def score_detections(detections_s: list[float], windows: list[tuple[float, float]],
                     rule: Rule = "mlperf") -> WakewordScore:
    """`detections_s` without the t = 0 marker; `windows` the ground truth's (start, end) pairs."""
    remaining = np.array(sorted(detections_s), dtype=np.float64)
    extension = WINDOW_EXTENSION_S[rule]
    found = 0
    missed = []
    for start, end in windows:
        inside = (remaining >= start) & (remaining <= end + extension)
        if inside.any():
            found += 1
            remaining = remaining[~inside]
        else:
            missed.append(float(start))
    counted: list[float] = []
    for t in remaining:
        if not counted or t > counted[-1] + DEBOUNCE_S:
            counted.append(float(t))
    return WakewordScore(rule, found, len(missed), len(counted), tuple(missed), tuple(counted))


@dataclass(frozen=True)
class DutyCycle:
    """PROCESSING pulses: mean on-time over mean period (the open runner's figure), and what it implies."""

    frames: int
    duty_cycle: float
    period_s: float
    processing_s: float

    @property
    def throughput(self) -> float:
        """The checker's `Estimated throughput`: 1 / mean processing time per frame."""
        return 1.0 / self.processing_s if self.processing_s > 0 else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "throughput": self.throughput}


def duty_cycle(starts_s: list[float], stops_s: list[float]) -> DutyCycle:
    """From the rising and falling edges of PROCESSING (unequal counts are cut to the shorter, as the
    open runner does). Needs at least two pulses."""
    n = min(len(starts_s), len(stops_s))
    if n < 2:
        raise ValueError(f"{n} processing pulses recorded; a duty cycle needs at least 2")
    starts, stops = np.array(starts_s[:n]), np.array(stops_s[:n])
    processing = float(np.mean(stops - starts))
    period = float(np.mean(np.diff(starts)))
    return DutyCycle(n, processing / period, period, processing)
