"""The process loop every simulated monitor runs: host port (pty or TCP) + the board's power wire.

An emulator offers `timeline` (fed from the wire), `feed(bytes) -> bytes` (what the host sent, and the
replies) and `produce() -> bytes` (stream data that board time has made available). Output is
buffered and written as the port accepts it, so a slow reader never blocks the wire.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import sys
import time
import tty
from pathlib import Path
from typing import Protocol

from tinyperf.sim.instruments.timeline import Timeline
from tinyperf.sim.wire import bind_receiver, parse_message


class Emulator(Protocol):
    timeline: Timeline

    def feed(self, data: bytes) -> bytes: ...

    def produce(self) -> bytes: ...


REALTIME_LAG_S = 0.010  # a real-time monitor streams board time up to this long ago (wire messages land first)
REALTIME_TICK_S = 0.002


class BoardClockFollower:
    """A real-time monitor's own clock: board time now, from the host's monotonic clock and the offset
    its wire messages show (the smallest seen: the message that came fastest). Until the board has
    said anything, there is no board time to stream, unless `free_running`: no board is on the wire
    (a performance-mode bench), and the monitor streams on its own clock from its start, as a real one."""

    def __init__(self, free_running: bool = False) -> None:
        self.offset_s: float | None = time.monotonic() if free_running else None

    def heard(self, board_t_s: float) -> None:
        offset = time.monotonic() - board_t_s
        self.offset_s = offset if self.offset_s is None else min(self.offset_s, offset)

    def board_now(self) -> float | None:
        return None if self.offset_s is None else time.monotonic() - self.offset_s - REALTIME_LAG_S


def serve(emulator: Emulator, wire_path: Path, transport: str, watch_stdin: bool, realtime: bool = False,
          free_running: bool = False) -> None:
    """`transport` "pty": print the pty path; "tcp": print `127.0.0.1:PORT`, serve one client at a time.

    `realtime`: the board runs on wall time, and so does the monitor: it streams samples as its own clock
    passes them (also while the board is busy and silent), not only as far as the board has reported."""
    receiver = bind_receiver(wire_path)
    follower = BoardClockFollower(free_running) if realtime else None
    listener: socket.socket | None = None
    if transport == "pty":
        master, slave = os.openpty()
        tty.setraw(slave)
        host_fd: int | None = master
        print(os.ttyname(slave), flush=True)
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        host_fd = None
        client: socket.socket | None = None
        print(f"127.0.0.1:{listener.getsockname()[1]}", flush=True)
    pending = bytearray()
    try:
        while True:
            watched: list = [receiver] + ([sys.stdin] if watch_stdin else [])
            watched += [host_fd] if host_fd is not None else [listener]
            writable_wanted = [host_fd] if pending and host_fd is not None else []
            ready, writable, _ = select.select(watched, writable_wanted, [], REALTIME_TICK_S if realtime else 1.0)
            if watch_stdin and sys.stdin in ready and not sys.stdin.buffer.read1(1):
                return
            if listener is not None and listener in ready:
                client, _ = listener.accept()
                client.setblocking(False)
                host_fd = client.fileno()
                pending.clear()
                pending.extend(getattr(emulator, "on_connect", lambda: b"")())  # e.g. a server's greeting
            if receiver in ready:
                while True:
                    try:
                        message = parse_message(receiver.recv(256, socket.MSG_DONTWAIT))
                    except BlockingIOError:
                        break
                    emulator.timeline.apply(*message)
                    if follower is not None:
                        follower.heard(message[1])
                pending.extend(emulator.produce())
            if follower is not None and (board_now := follower.board_now()) is not None:
                emulator.timeline.advance(board_now)
                pending.extend(emulator.produce())
            if host_fd is not None and host_fd in ready:
                try:
                    data = os.read(host_fd, 65536)
                except OSError:
                    data = b""
                if not data and listener is not None:  # TCP client went away: wait for the next one
                    assert client is not None
                    client.close()
                    host_fd, client = None, None
                    continue
                pending.extend(emulator.produce())
                pending.extend(emulator.feed(data))
            if host_fd is not None and host_fd in writable and pending:
                with contextlib.suppress(BlockingIOError):
                    del pending[: os.write(host_fd, pending[:65536])]
    finally:
        receiver.close()
        wire_path.unlink(missing_ok=True)


def emulator_main(prog: str, description: str, build, transport: str, argv: list[str] | None = None) -> int:
    """Shared command line of the simulated monitors: --board, --wire, --seed, --watch-stdin."""
    import argparse

    from tinyperf.errors import ConfigError, TinyperfError
    from tinyperf.power.profiles import board_power_model
    from tinyperf.sim.bench_faults import MONITOR_FAULTS

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--board", required=True, help="simulated board whose power model makes the current")
    parser.add_argument("--wire", required=True, type=Path, help="datagram socket path the board sends to")
    parser.add_argument("--seed", type=int, default=0, help="noise seed")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    parser.add_argument("--realtime", action="store_true",
                        help="stream on the monitor's own clock (for a board paced in real time)")
    parser.add_argument("--free-running", action="store_true",
                        help="with --realtime: no board reports on the wire; stream on the monitor's own clock")
    parser.add_argument("--fault", action="append", default=[], choices=sorted(MONITOR_FAULTS),
                        help="a bench fault on the monitor's side (see tinyperf.sim.bench_faults); repeatable")
    args = parser.parse_args(argv)
    try:
        emulator = build(board_power_model(args.board), args.seed)
        if args.fault:
            if not hasattr(emulator, "apply_faults"):
                raise ConfigError(f"{prog} does not simulate bench faults ({', '.join(args.fault)})")
            emulator.apply_faults(frozenset(args.fault))
        if hasattr(emulator, "tell_supply"):
            emulator.tell_supply(args.wire)  # the board learns whether this supply powers it
    except TinyperfError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    serve(emulator, args.wire, transport, args.watch_stdin, args.realtime, args.free_running)
    return 0
