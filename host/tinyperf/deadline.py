"""A monotonic deadline passed down instead of loose float timeouts."""

from __future__ import annotations

import time


class Deadline:
    """Remembers when a wait must end; `remaining()` never goes below zero."""

    def __init__(self, seconds: float) -> None:
        self.limit_s = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._end
