"""A trace as a PNG: power over time with the timestamp edges marked (for `tinyperf monitor trace`, and
the first energy window of a submission)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyperf.power.trace import Trace


def _plot_power(times_s: np.ndarray, power_mw: np.ndarray, edges_s: list[float], out: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(10, 4), dpi=100)
    axis.plot(times_s, power_mw, linewidth=0.7, color="tab:blue", label="power")
    for number, edge_s in enumerate(edges_s):
        axis.axvline(edge_s, color="tab:red", linewidth=0.8, alpha=0.7, label="timestamp edge" if number == 0 else None)
    axis.set_xlabel("time since start of acquisition (s)")
    axis.set_ylabel("power (mW)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(out)
    plt.close(figure)
    return out


def plot_trace(trace: Trace, out: Path, title: str) -> Path:
    energies = trace.array()
    times = np.arange(len(energies)) * trace.period_s
    return _plot_power(times, 1e3 * energies / trace.period_s, [e * trace.period_s for e in trace.edges], out, title)


def plot_saved_window(trace_file: Path, start_s: float, end_s: float, out: Path, title: str) -> Path:
    """One window of a session's saved trace (trace.npz) with its two timestamp edges: the submission's
    energy_inf_000.png. The file is read without pickle (numbers and one string only)."""
    with np.load(trace_file, allow_pickle=False) as saved:
        energies = np.asarray(saved["energies_j"], dtype=np.float64)
        period = float(saved["period_s"])
    margin = 0.1 * (end_s - start_s) + 10 * period
    first = max(0, int((start_s - margin) / period))
    last = min(len(energies), int((end_s + margin) / period) + 1)
    times = np.arange(first, last) * period
    return _plot_power(times, 1e3 * energies[first:last] / period, [start_s, end_s], out, title)
