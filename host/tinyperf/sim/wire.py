"""The wire between the simulated board and the simulated monitor: a Unix datagram socket.

Why a socket of our own: on a bench the monitor sees the DUT's supply current and its timestamp GPIO;
here the board process tells the monitor process the same facts, on the board's clock:
  "S <t_ns> 1|0|2" the core went active/idle/asleep   "E <t_ns>"  timestamp edge (GPIO falls) at t
  "N <t_ns>"      board time has reached t (lets the monitor stream samples up to t)
  "P <t_ns> <period_ns> <on_ns> <count>"  count pulses of activity, one per period from t (a streaming
                  device's frames: one message instead of two per frame, which a datagram queue can hold)
"""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path


class PowerWireSender:
    """Board side. A monitor that is not listening yet just misses the message, as a scope would. A busy
    one (making a long stretch of samples) gets every state, edge and pulse message, waited for up to
    FACT_WAIT_S; "N" messages are dropped when its queue is full, since the next one says more."""

    FACT_WAIT_S = 30.0

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.settimeout(self.FACT_WAIT_S)  # a hung monitor must not hang the board for ever
        self.edge_wired = True  # False: the timestamp pin is not connected to the monitor (a bench fault)

    def _send(self, message: str, droppable: bool = False) -> None:
        with contextlib.suppress(FileNotFoundError, ConnectionRefusedError, TimeoutError, BlockingIOError):
            if droppable:
                self.socket.sendto(message.encode("ascii"), socket.MSG_DONTWAIT, self.path)
            else:
                self.socket.sendto(message.encode("ascii"), self.path)

    def state(self, t_s: float, level: int) -> None:
        """IDLE, ACTIVE or SLEEP (ints, so True/False still mean active/idle)."""
        self._send(f"S {round(t_s * 1e9)} {int(level)}")

    def edge(self, t_s: float) -> None:
        if not self.edge_wired:
            return
        self._send(f"E {round(t_s * 1e9)}")

    def pulses(self, t_s: float, period_s: float, on_s: float, count: int) -> None:
        self._send(f"P {round(t_s * 1e9)} {round(period_s * 1e9)} {round(on_s * 1e9)} {count}")

    def now(self, t_s: float) -> None:
        self._send(f"N {round(t_s * 1e9)}", droppable=True)


def bind_receiver(path: Path) -> socket.socket:
    """Monitor side: a datagram socket bound at `path` (a stale file from a crashed run is replaced)."""
    path.unlink(missing_ok=True)
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    return receiver


IDLE, ACTIVE, SLEEP = 0, 1, 2


def parse_message(data: bytes) -> tuple:
    """(kind, t_s, level) for S, E, N; (kind, t_s, IDLE, period_s, on_s, count) for P."""
    kind, *fields = data.decode("ascii").split()
    if kind == "P":
        return kind, int(fields[0]) / 1e9, IDLE, int(fields[1]) / 1e9, int(fields[2]) / 1e9, int(fields[3])
    return kind, int(fields[0]) / 1e9, int(fields[1]) if len(fields) > 1 else IDLE
