"""Option choices shared by the CLI modules."""

from __future__ import annotations

from enum import Enum


class Benchmark(str, Enum):
    kws01 = "kws01"
    vww01 = "vww01"
    ad01 = "ad01"
    ic01 = "ic01"


class Pacing(str, Enum):
    """A simulated board's clock: virtual (instant, modelled time) or realtime (as slow as the board)."""

    virtual = "virtual"
    realtime = "realtime"
