"""The simulated board's power timeline, and the equal-period samples any simulated monitor makes of it.

The board tells the monitor (over sim/wire.py) when its core goes active, idle or to sleep, when its timestamp
GPIO falls, and how far its clock has got. `SampleMaker` turns that into what an instrument measures:
the exact mean current of each sample period (idle/active levels from power/boards/<board>.yaml) plus
white noise, the GPIO level at the end of each period (low for `timestamp_pulse_s` after each edge),
and which samples an edge fell in. Every simulated monitor shares this, so their truth is the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tinyperf.power.profiles import BoardPowerModel
from tinyperf.sim.wire import ACTIVE, IDLE, SLEEP


@dataclass
class Timeline:
    """The board's current level over time: state changes, GPIO edges, and how far board time has got."""

    changes: list[tuple[float, int]] = field(default_factory=lambda: [(0.0, IDLE)])  # (t, IDLE/ACTIVE/SLEEP)
    edges: list[float] = field(default_factory=list)
    now_s: float = 0.0

    def state(self, t: float, level: int) -> None:
        self.changes.append((t, int(level)))
        self.now_s = max(self.now_s, t)

    def edge(self, t: float) -> None:
        self.edges.append(t)
        self.now_s = max(self.now_s, t)

    def advance(self, t: float) -> None:
        self.now_s = max(self.now_s, t)

    def apply(self, kind: str, t: float, level: int, *pulses: float) -> None:
        """One wire message ("S", "E", "N", or "P" with its period, on-time and count)."""
        if kind == "P":
            period, on, count = pulses
            for i in range(int(count)):
                self.state(t + i * period, ACTIVE)
                self.state(t + i * period + on, IDLE)
        elif kind == "S":
            self.state(t, level)
        elif kind == "E":
            self.edge(t)
        else:
            self.advance(t)

    def seconds_at(self, level: int, starts: np.ndarray, period: float) -> np.ndarray:
        """Time spent at `level` inside each [start, start + period): cumulative time at both ends."""
        times = np.array([t for t, _ in self.changes])
        at = np.array([1.0 if value == level else 0.0 for _, value in self.changes])
        cumulative = np.concatenate([[0.0], np.cumsum(np.diff(times) * at[:-1])])

        def until(t: np.ndarray) -> np.ndarray:
            j = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
            return cumulative[j] + at[j] * (t - times[j])

        return until(starts + period) - until(starts)

    def pin_high(self, times: np.ndarray, pulse_s: float) -> np.ndarray:
        """The timestamp GPIO's level at `times`: low for `pulse_s` after each edge, high otherwise."""
        edges = np.asarray(self.edges)
        if not len(edges):
            return np.ones(len(times), dtype=bool)
        j = np.searchsorted(edges, times, side="right") - 1
        low = (j >= 0) & (times < edges[np.clip(j, 0, None)] + pulse_s)
        return ~low

    def forget_before(self, t: float, keep_edges_s: float = 0.0) -> None:
        """Drop history the stream has passed (keep the state in force at `t`, and edges still pulsing)."""
        keep = max(0, int(np.searchsorted([c[0] for c in self.changes], t, side="right")) - 1)
        del self.changes[:keep]
        self.edges = [e for e in self.edges if e >= t - keep_edges_s]


@dataclass(frozen=True)
class Samples:
    first: int  # index of the first sample since the acquisition started
    current_a: np.ndarray  # mean current over each sample period
    pin_high: np.ndarray  # GPIO level at the end of each period
    edge_samples: list[int]  # sample index of each edge, in order (one entry per edge)
    edge_times_s: list[float]  # each edge's time since the acquisition started


class SampleMaker:
    """Equal-period samples of a `Timeline` from the moment `start()` is called."""

    def __init__(self, timeline: Timeline, power: BoardPowerModel, rate_hz: float, seed: int = 0) -> None:
        self.timeline = timeline
        self.power = power
        self.rate_hz = rate_hz
        self.rng = np.random.default_rng(seed)
        self.start_s = 0.0
        self.made = 0
        self.powered = True
        self.reported_until_s = 0.0  # board time of the last edge reported

    @property
    def period_s(self) -> float:
        return 1.0 / self.rate_hz

    def start(self, rate_hz: float | None = None) -> None:
        if rate_hz is not None:
            self.rate_hz = rate_hz
        self.start_s = self.timeline.now_s
        self.timeline.forget_before(self.start_s)
        self.timeline.edges = [e for e in self.timeline.edges if e > self.start_s]  # only edges after start
        self.made = 0
        self.reported_until_s = self.start_s

    def make(self, limit: int | None = None) -> Samples | None:
        """Every sample that board time has completed since the last call (at most `limit`)."""
        period = self.period_s
        complete = int((self.timeline.now_s - self.start_s) / period + 1e-9)
        if limit is not None:
            complete = min(complete, self.made + limit)
        if complete <= self.made:
            return None
        indices = np.arange(self.made, complete)
        starts = self.start_s + indices * period
        active = self.timeline.seconds_at(ACTIVE, starts, period)
        asleep = self.timeline.seconds_at(SLEEP, starts, period)
        power = self.power
        sleep_a = power.sleep_current_a if power.sleep_current_a is not None else power.idle_current_a
        current = (power.idle_current_a * (period - active - asleep) + power.active_current_a * active
                   + sleep_a * asleep) / period
        noise = power.noise_a_rms_1khz * math.sqrt(self.rate_hz / 1000.0)
        current = current + noise * self.rng.standard_normal(len(indices))
        if not self.powered:
            current = np.zeros_like(current)
        pin = self.timeline.pin_high(starts + period, power.timestamp_pulse_s)
        edge_samples, edge_times = [], []
        for t in self.timeline.edges:
            k = int((t - self.start_s) / period)
            if t <= self.reported_until_s or k >= complete:
                continue  # reported already, or not yet streamed
            # an edge whose message came after its sample had gone out (the board process was held up
            # longer than the real-time lag, on a loaded machine) is reported with the next sample, late,
            # as an event line can only follow the samples already sent; dropped, a run waited for it forever
            edge_samples.append(max(k, self.made))
            edge_times.append(t - self.start_s)
            self.reported_until_s = t
        first = self.made
        self.made = complete
        self.timeline.forget_before(self.start_s + complete * period, power.timestamp_pulse_s)
        return Samples(first, current, pin, edge_samples, edge_times)
