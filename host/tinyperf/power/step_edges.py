"""Window edges found in the current itself, for monitors without a timestamp input (SCPI supplies).

The DUT idles between commands and computes without pause during `infer N 0`, so a window shows as
one run of high samples. The idle level and its noise come from the first samples of the trace (the
DUT is idle when the acquisition starts); a sample is "high" above idle + 8 sigma. A step's mixed
sample is the first high (or low) one, or the one before it when that one already left its level by
3 sigma; power/energy.py then places the edge inside it as for GPIO edges. Runs shorter than
`MIN_RUN` samples are ignored as glitches. This only works for firmware that sleeps between
commands; results say their edges came from the current step and are not MLPerf Tiny energy results.
"""

from __future__ import annotations

import numpy as np

CALIBRATION_SAMPLES = 64
MIN_RUN = 3
THRESHOLD_SIGMAS = 8.0
MIXED_SIGMAS = 3.0


class StepEdgeDetector:
    def __init__(self) -> None:
        self.idle: float | None = None
        self.noise = 0.0
        self.scanned = 0
        self.high = False
        self.run_start = 0
        self.pending_start: int | None = None

    def feed(self, energies: np.ndarray) -> list[int]:
        """New edges (sample indices) in `energies`, the whole trace so far."""
        if self.idle is None:
            if len(energies) < CALIBRATION_SAMPLES:
                return []
            head = energies[:CALIBRATION_SAMPLES]
            self.idle = float(np.median(head))
            self.noise = max(float(1.4826 * np.median(np.abs(head - self.idle))), 1e-12 * abs(self.idle) + 1e-30)
            self.scanned = CALIBRATION_SAMPLES
        threshold = self.idle + THRESHOLD_SIGMAS * self.noise
        edges: list[int] = []
        above = energies > threshold
        index = self.scanned
        end = len(energies) - MIN_RUN  # decide only when MIN_RUN samples follow
        while index < end:
            changes = np.flatnonzero(above[index:end] != self.high)  # jump to the next candidate step
            if not len(changes):
                break
            index += int(changes[0])
            if not self.high and above[index : index + MIN_RUN].all():
                self.high, self.run_start = True, index
                mixed = energies[index - 1] > self.idle + MIXED_SIGMAS * self.noise
                edges.append(index - 1 if mixed else index)
            elif self.high and not above[index : index + MIN_RUN].any():
                self.high = False
                run = energies[self.run_start + 1 : index - 1]
                active = float(np.median(run)) if len(run) else float(energies[index - 1])
                active_noise = float(1.4826 * np.median(np.abs(run - active))) if len(run) else self.noise
                mixed = energies[index - 1] < active - MIXED_SIGMAS * max(active_noise, self.noise)
                edges.append(index - 1 if mixed else index)
            index += 1
        self.scanned = max(self.scanned, end)
        return edges
