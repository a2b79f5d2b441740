"""The link contract: bytes in, bytes out, every read bounded by a deadline."""

from __future__ import annotations

from abc import ABC, abstractmethod

from tinyperf.deadline import Deadline
from tinyperf.errors import LinkError


class Link(ABC):
    """A byte pipe to a device. Reads never block past their deadline."""

    url: str

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def read_some(self, deadline: Deadline) -> bytes:
        """Return whatever arrived (at least one byte) or b'' once the deadline has passed."""

    @abstractmethod
    def close(self) -> None: ...

    def set_baud(self, baud: int) -> None:
        """Change the line rate (a baud switch the device agreed to); links without one refuse."""
        raise LinkError(f"{self.url} has no baud rate to change")

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
