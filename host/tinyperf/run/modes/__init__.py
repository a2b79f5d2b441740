"""Run modes (performance, accuracy), each enforcing the MLPerf Tiny run rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class ProgressSink(Protocol):
    """What a mode reports progress to (a rich progress bar in the CLI, nothing in tests)."""

    def start(self, description: str, total: int) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


class NoProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


Journal = Callable[[dict[str, Any]], None]
