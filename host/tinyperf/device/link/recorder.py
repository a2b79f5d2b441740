"""Records every byte each way, timestamped, as the session's log.txt.

Why a file written as we go: a crashed run must still leave its transcript behind.
Each line: seconds since open, direction ('>' host to device, '<' device to host), and the
bytes with Python string escapes (so CR/LF and binary stay exact and reversible).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from tinyperf.deadline import Deadline
from tinyperf.device.link.base import Link


def escape(data: bytes) -> str:
    return data.decode("latin-1").encode("unicode_escape").decode("ascii")


def unescape(text: str) -> bytes:
    return text.encode("ascii").decode("unicode_escape").encode("latin-1")


class RecordingLink(Link):
    """Wraps a link and appends each transfer to a transcript file."""

    def __init__(self, inner: Link, log_path: Path) -> None:
        self._inner = inner
        self.url = inner.url
        self._t0 = time.monotonic()
        self._file: TextIO = log_path.open("a", encoding="ascii")
        self._file.write(f"# tinyperf transcript of {inner.url}; '>' host->device, '<' device->host\n")

    def _record(self, direction: str, data: bytes) -> None:
        self._file.write(f"{time.monotonic() - self._t0:12.6f} {direction} {escape(data)}\n")
        self._file.flush()

    def write(self, data: bytes) -> None:
        self._record(">", data)
        self._inner.write(data)

    def read_some(self, deadline: Deadline) -> bytes:
        data = self._inner.read_some(deadline)
        if data:
            self._record("<", data)
        return data

    def set_baud(self, baud: int) -> None:
        self._file.write(f"# baud {baud}\n")
        self._inner.set_baud(baud)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._file.close()


def read_transcript(path: Path) -> list[tuple[float, str, bytes]]:
    """Parse a transcript back into (seconds, direction, bytes) tuples."""
    entries = []
    for line in path.read_text(encoding="ascii").splitlines():
        if not line or line.startswith("#"):
            continue
        stamp, direction, payload = [*line.lstrip().split(" ", 2), ""][:3]
        entries.append((float(stamp), direction, unescape(payload)))
    return entries
