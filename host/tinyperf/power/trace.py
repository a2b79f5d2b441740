"""What a monitor delivers: equal-period samples (joules per sample) and edge events on one timeline.

Samples arrive in chunks (a 100 kHz PPK2 sends ~100 k a second), so they are kept as numpy chunks
and joined on demand, not as a Python list of floats.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyperf.errors import MonitorError


@dataclass
class Trace:
    period_s: float
    edges: list[int] = field(default_factory=list)  # index of the sample during which each edge fell
    gaps: list[str] = field(default_factory=list)  # dropped-sample findings, kept with the data
    edge_source: str = "timestamp GPIO"  # or "current step" for monitors without a timestamp input
    _chunks: list[np.ndarray] = field(default_factory=list)
    _pending: list[float] = field(default_factory=list)  # single samples (LPM01A ascii lines) not yet chunked
    _count: int = 0
    _joined: np.ndarray | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)  # a reader thread appends while runs read

    @property
    def samples(self) -> int:
        return self._count

    def add_edges(self, samples: list[int], source: str = "monitor") -> None:
        """Record timestamp edges; each must fall at or after the previous one (a timeline does not run
        back), else the monitor's data is wrong and every window built on it would be too."""
        for sample in samples:
            last = self.edges[-1] if self.edges else 0
            if sample < last or sample < 0:
                raise MonitorError(f"the {source} reported an edge at sample {sample} after one at {last}: "
                                   "its edge times went backwards")
            self.edges.append(sample)

    def append(self, energy_j: float) -> None:
        with self._lock:
            self._pending.append(energy_j)
            self._count += 1

    def extend(self, energies_j: np.ndarray) -> None:
        if len(energies_j):
            with self._lock:
                self._flush()
                self._chunks.append(np.asarray(energies_j, dtype=np.float64))
                self._count += len(energies_j)

    def _flush(self) -> None:
        if self._pending:
            self._chunks.append(np.asarray(self._pending, dtype=np.float64))
            self._pending = []

    def array(self) -> np.ndarray:
        with self._lock:
            if self._joined is None or len(self._joined) != self._count:
                self._flush()
                self._joined = np.concatenate(self._chunks) if self._chunks else np.zeros(0)
                self._chunks = [self._joined]
            return self._joined

    @property
    def energies_j(self) -> np.ndarray:
        return self.array()

    def save(self, path: Path) -> None:
        """Compressed raw trace for the session folder (float32 keeps 7 digits, ample for noise-bound samples)."""
        np.savez_compressed(path, energies_j=self.array().astype(np.float32),
                            edges=np.asarray(self.edges, dtype=np.int64), period_s=np.float64(self.period_s),
                            edge_source=np.str_(self.edge_source))


def falling_edges(levels: np.ndarray, previous_high: bool, offset: int) -> list[int]:
    """Sample indices (from `offset`) where a digital input goes from high to low: the timestamp edges."""
    if not len(levels):
        return []
    high = np.asarray(levels, dtype=bool)
    before = np.concatenate([[previous_high], high[:-1]])
    return (np.flatnonzero(before & ~high) + offset).tolist()
