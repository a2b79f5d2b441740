"""The simulated board's microsecond counter.

virtual: advances only by modelled costs (inference cycles, UART wire time); instant to run.
realtime: the counter is wall time and modelled costs are slept, so a run takes as long as on a board.
"""

from __future__ import annotations

import time
from typing import Literal

Pacing = Literal["virtual", "realtime"]


class SimClock:
    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self._virtual_us = 0.0
        self._t0 = time.monotonic()

    def now_us(self) -> int:
        if self.pacing == "realtime":
            return int((time.monotonic() - self._t0) * 1e6)
        return int(self._virtual_us)

    def idle(self, seconds: float) -> None:
        """Wall time the board spent waiting for the host: virtual time moves on too (energy mode needs
        a clock that keeps going, or the monitor would stream nothing while the host thinks)."""
        if self.pacing == "virtual":
            self._virtual_us += seconds * 1e6

    def spend(self, seconds: float, already_elapsed: float = 0.0) -> None:
        """Account `seconds` of device time; in realtime, sleep what host work has not used up."""
        if self.pacing == "realtime":
            time.sleep(max(0.0, seconds - already_elapsed))
        else:
            self._virtual_us += seconds * 1e6
