"""The headline figures a session is summarised by, with their labels and units.

One table for the results store (which figures it indexes), `tinyperf history` and the HTML report,
so a new headline figure or a unit is named once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Headline:
    key: str  # the results.json field
    label: str
    unit: str


HEADLINES = (
    Headline("median_throughput", "median throughput", "inf./s"),
    Headline("latency_ms", "latency", "ms"),
    Headline("median_energy_uj", "median energy", "uJ/inf."),
    Headline("top1_percent", "top-1", "%"),
    Headline("auc", "AUC", ""),
)
HEADLINE_KEYS = tuple(h.key for h in HEADLINES)
BY_KEY = {h.key: h for h in HEADLINES}


def headline_text(figures: dict, named_by: Literal["key", "label"] = "label", empty: str = "-") -> str:
    """'median throughput 12.3 inf./s, latency 81.2 ms' (or by results.json key); `empty` when none."""
    parts = [f"{h.key if named_by == 'key' else h.label} {figures[h.key]:.4g} {h.unit}".strip()
             for h in HEADLINES if figures.get(h.key) is not None]
    return ", ".join(parts) or empty
