"""Energy between two timestamp edges, with each edge placed inside its sample.

A monitor reports an edge only as "during sample k". The DUT's current steps at the edge (idle ->
active when a window starts, active -> idle when it ends), so sample k holds a mix of the two levels;
where its energy lies between the levels tells where in the sample the step happened. The window then
takes exactly the part of each boundary sample that lies inside it. The time uncertainty is the
sample noise over the step height (at most half a sample when the step cannot be seen); the energy
uncertainty adds the noise summed over the window.

For comparison, `naive_window_energy` is what today's runner does: sum whole samples between events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyperf.errors import MonitorError

LEVEL_SAMPLES = 8  # samples each side used to estimate the two levels


@dataclass(frozen=True)
class Edge:
    sample: int
    time_s: float  # from the start of the trace
    uncertainty_s: float
    fraction_after: float  # share of sample `sample` that lies after the edge
    level_before_j: float
    level_after_j: float
    resolved: bool  # False: no visible step, the edge was put mid-sample
    sample_noise_j: float  # spread of one sample around its level (robust estimate)


def _level(values: np.ndarray) -> tuple[float, float]:
    """Robust level and spread (median, scaled MAD) of a run of samples."""
    if not len(values):
        return float("nan"), float("nan")
    median = float(np.median(values))
    return median, float(1.4826 * np.median(np.abs(values - median)))


def locate_edge(energies: np.ndarray, sample: int, period_s: float) -> Edge:
    before, spread_before = _level(energies[max(0, sample - LEVEL_SAMPLES) : sample])
    after, spread_after = _level(energies[sample + 1 : sample + 1 + LEVEL_SAMPLES])
    step = after - before
    noise = max(np.nan_to_num(spread_before), np.nan_to_num(spread_after))
    if not np.isfinite(step) or abs(step) <= 3.0 * noise or step == 0.0:
        return Edge(sample, (sample + 0.5) * period_s, period_s / 2.0, 0.5,
                    np.nan_to_num(before, nan=energies[sample]), np.nan_to_num(after, nan=energies[sample]), False,
                    float(noise))
    fraction = float(np.clip((energies[sample] - before) / step, 0.0, 1.0))
    uncertainty = min(period_s / 2.0, period_s * noise / abs(step))
    return Edge(sample, (sample + 1.0 - fraction) * period_s, uncertainty, fraction, before, after, True,
                float(noise))


@dataclass(frozen=True)
class WindowEnergy:
    energy_j: float
    seconds: float
    start: Edge
    end: Edge
    period_s: float

    @property
    def uncertainty_j(self) -> float:
        """One standard uncertainty: energy the edge placements can move in or out of the window (power x
        time at each edge), and the sample noise summed over the window's samples, in quadrature."""
        start_power = abs(self.start.level_after_j) / self.period_s
        end_power = abs(self.end.level_before_j) / self.period_s
        samples = self.end.sample - self.start.sample + 1
        noise = max(self.start.sample_noise_j, self.end.sample_noise_j)
        # hypot, not the squares' sum: samples of 1e200 J (a broken instrument) must not overflow to an error
        return float(np.hypot(np.hypot(start_power * self.start.uncertainty_s, end_power * self.end.uncertainty_s),
                              np.sqrt(float(samples)) * noise))


class EdgesInOneSample(MonitorError):
    """Both timestamp edges of a window fell in one monitor sample: the window is shorter than a sample."""


def window_energy(energies: np.ndarray, start_sample: int, end_sample: int, period_s: float) -> WindowEnergy:
    """Energy strictly between the two edges: whole samples inside plus the inside share of each edge sample."""
    if end_sample == start_sample:
        raise EdgesInOneSample(f"both timestamp edges fell in monitor sample {start_sample}: the window lasted less "
                               f"than one sample ({1e3 * period_s:g} ms); run more inferences per window or "
                               "raise --monitor-rate")
    if end_sample < start_sample:
        raise MonitorError(f"the monitor reported the window's end edge (sample {end_sample}) before its start "
                           f"edge (sample {start_sample}): its edge times went backwards")
    if start_sample < 0 or end_sample >= len(energies):
        raise MonitorError(f"edge samples {start_sample}..{end_sample} lie outside the {len(energies)} samples "
                           "the monitor sent")
    start = locate_edge(energies, start_sample, period_s)
    end = locate_edge(energies, end_sample, period_s)
    inside = float(np.sum(energies[start_sample + 1 : end_sample]))
    # the start sample's part after its edge, the end sample's part before its edge
    inside += float(energies[start_sample]) - start.level_before_j * (1.0 - start.fraction_after)
    inside += float(energies[end_sample]) - end.level_after_j * end.fraction_after
    return WindowEnergy(inside, end.time_s - start.time_s, start, end, period_s)


def naive_window_energy(energies: np.ndarray, start_sample: int, end_sample: int) -> float:
    """Today's runner: the sum of the whole samples reported between the two event lines."""
    return float(np.sum(energies[start_sample + 1 : end_sample + 1]))
