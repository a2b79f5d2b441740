"""Option choices and types shared by the CLI modules."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

# what cli/app.py hands each module to wrap its commands in (one-line errors, exit codes)
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class Benchmark(str, Enum):
    kws01 = "kws01"
    vww01 = "vww01"
    ad01 = "ad01"
    ic01 = "ic01"
    ic02 = "ic02"
    sww01 = "sww01"


class Pacing(str, Enum):
    """A simulated board's clock: virtual (instant, modelled time) or realtime (as slow as the board)."""

    virtual = "virtual"
    realtime = "realtime"


class TimestampMode(str, Enum):
    """The firmware's timestamp mode: performance prints m-lap-us; energy pulses the timestamp GPIO."""

    performance = "performance"
    energy = "energy"


class ModelChoice(str, Enum):
    """Which models a run (or doctor) uses: the official ones, or the labelled registry reproductions."""

    official = "official"
    fallback = "fallback"


INTERFACE_PORT_HELP = ("sww01 on a bench: the enhanced interface board's port (it plays the stream from its SD card "
                       "and times the device's detections); --port is then the device's own UART.")
ALL_BENCHMARKS = [b.value for b in Benchmark]
