"""What a monitor delivers: equal-period samples (joules per sample) and edge events on one timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Trace:
    period_s: float
    energies_j: list[float] = field(default_factory=list)
    edges: list[int] = field(default_factory=list)  # index of the sample during which each edge fell
    gaps: list[str] = field(default_factory=list)  # dropped-sample findings, kept with the data

    @property
    def samples(self) -> int:
        return len(self.energies_j)

    def array(self) -> np.ndarray:
        return np.asarray(self.energies_j, dtype=np.float64)

    def save(self, path: Path) -> None:
        """Compressed raw trace for the session folder."""
        np.savez_compressed(path, energies_j=self.array(), edges=np.asarray(self.edges, dtype=np.int64),
                            period_s=np.float64(self.period_s))
