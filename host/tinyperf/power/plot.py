"""A trace as a PNG: power over time with the timestamp edges marked (for `tinyperf monitor trace`)."""

from __future__ import annotations

from pathlib import Path

from tinyperf.power.trace import Trace


def plot_trace(trace: Trace, out: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt
    import numpy as np

    energies = trace.array()
    times = np.arange(len(energies)) * trace.period_s
    figure, axis = plt.subplots(figsize=(10, 4), dpi=100)
    axis.plot(times, 1e3 * energies / trace.period_s, linewidth=0.7, color="tab:blue", label="power")
    for number, sample in enumerate(trace.edges):
        axis.axvline(sample * trace.period_s, color="tab:red", linewidth=0.8, alpha=0.7,
                     label="timestamp edge" if number == 0 else None)
    axis.set_xlabel("time since start of acquisition (s)")
    axis.set_ylabel("power (mW)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(out)
    plt.close(figure)
    return out
