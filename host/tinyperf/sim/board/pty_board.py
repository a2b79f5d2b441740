"""The simulated board's UART on a pseudo-terminal: a receiver paced at the baud rate, the board's CPU
loop, resets and hangs on signals, baud switches, and (with the slow-baud fault) a host at another rate
heard as noise."""

from __future__ import annotations

import os
import queue
import select
import signal
import sys
import termios
import threading
import time
import tty
from pathlib import Path

from tinyperf.device.protocol.extended import BAUD_CONFIRM_S
from tinyperf.device.protocol.frames import KIND_COMMAND, KIND_DATA, BadFrame, Piece, StreamDemux, TextPiece
from tinyperf.sim.board.device import SimDevice
from tinyperf.sim.board.extension import ExtendedDevice
from tinyperf.sim.board.uart_session import DeviceSession

READ_CHUNK = 4096
_TERMIOS_BAUDS = {getattr(termios, f"B{rate}"): rate for rate in (
    1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 2000000)
    if hasattr(termios, f"B{rate}")}
_IDLE_TICK_S = 0.02  # energy mode: how often idle board time is reported to the monitor


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        _, writable, _ = select.select([], [fd], [], 5.0)
        if not writable:
            raise TimeoutError("the runner stopped reading from the simulated board for 5 s")
        view = view[os.write(fd, view) :]


def stdin_closed(ready: list) -> bool:
    return sys.stdin in ready and not sys.stdin.buffer.read1(1)


def serve_pty(device: SimDevice, baud: int, watch_stdin: bool, interface_baud: int | None = None,
              extension: ExtendedDevice | None = None, max_baud: int | None = None,
              sd_card: Path | None = None, device_baud: int | None = None, strict_baud: bool = False,
              supply_wire: Path | None = None) -> None:
    """`device_baud`: the firmware's UART behind the interface board, when not `interface_baud`;
    `strict_baud`: a host at another rate than the UART's is heard as noise (the slow-baud fault)."""
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line discipline: a byte-exact wire like a UART
    session = DeviceSession(device, baud, interface_baud, extension, sd_card, device_baud, supply_wire)
    board = PtyBoard(master, session, extension, max_baud)
    board.strict_baud = strict_baud
    if interface_baud is None:
        # Booted before anyone connects, as a real board is: the banner is queued before the path is
        # announced, so opening the port (pyserial flushes input) always discards it. Written after,
        # it raced the host's open and sometimes arrived as the reply to the first command.
        write_all(master, device.boot_banner())  # behind an interface board the host never sees it
    print(os.ttyname(slave), flush=True)
    board.run(watch_stdin)


class PtyBoard:
    """The board's UART on a pty: a receiver thread takes bytes off the wire all the time (paced at
    the baud rate, as a UART with DMA), stores data frames as they complete and queues everything
    else for the main loop, the board's CPU, which runs commands and paces its replies.

    SIGUSR1 resets the board (boot banner, empty buffers, boot baud rate); SIGUSR2 hangs it (it
    ignores everything until reset). Fault-injection tests and the runner's recovery use them.
    """

    def __init__(self, master: int, session: DeviceSession, extension: ExtendedDevice | None,
                 max_baud: int | None) -> None:
        self.master = master
        self.session = session
        self.device = session.device
        self.extension = extension
        self.max_baud = max_baud
        self.boot_baud = self.baud = session.baud
        self.inbox: queue.Queue[tuple[str, object]] = queue.Queue()
        self.write_lock = threading.Lock()
        self.demux = StreamDemux(b"%", max_frame_bytes=4096)
        self.wire_done = 0.0
        self.hung = False
        self.reset_requested = False
        self.garbled = False  # running at a baud rate this link cannot carry: every byte is noise
        self.fallback: tuple[float, int] | None = None  # (deadline, old baud) until a frame confirms
        if extension is not None:
            extension.on_baud = self._switch_baud_after_reply
        self._pending_baud: int | None = None
        self.strict_baud = False

    def write(self, data: bytes) -> None:
        with self.write_lock:
            write_all(self.master, data)

    def run(self, watch_stdin: bool) -> None:
        signal.signal(signal.SIGUSR1, lambda *_: setattr(self, "reset_requested", True))
        signal.signal(signal.SIGUSR2, lambda *_: setattr(self, "hung", True))
        threading.Thread(target=self._receive, daemon=True).start()
        tick = _IDLE_TICK_S if self.device.energy_mode else 0.05
        last = time.monotonic()
        while True:
            try:
                item = self.inbox.get(timeout=tick)
            except queue.Empty:
                item = None
            now = time.monotonic()
            if self.device.energy_mode:
                self.session.on_idle(now - last)
            last = now
            if watch_stdin and stdin_closed(select.select([sys.stdin], [], [], 0)[0]):
                return
            if self.reset_requested:
                self._reset()
                continue
            if self.fallback is not None and now > self.fallback[0]:
                self._set_baud(self.fallback[1])  # nothing valid arrived at the new rate: fall back
                self.fallback = None
            if item is not None and not self.hung:
                self._execute(*item)

    def _execute(self, kind: str, payload: object) -> None:
        if kind == "text":
            reply = self.session.on_bytes(payload)  # type: ignore[arg-type]
        else:
            assert self.extension is not None
            reply = self.extension.on_command(payload)  # type: ignore[arg-type]
            self.device.clock.spend(len(reply) * self.session.seconds_per_byte)
        if reply:
            self.write(reply)
        if self._pending_baud is not None:
            rate, self._pending_baud = self._pending_baud, None
            self.fallback = (time.monotonic() + BAUD_CONFIRM_S, self.baud)
            self._set_baud(rate)

    def _switch_baud_after_reply(self, rate: int) -> None:
        self._pending_baud = rate

    def _set_baud(self, rate: int) -> None:
        self.baud = rate
        self.session.seconds_per_byte = 10.0 / rate
        self.garbled = self.max_baud is not None and rate > self.max_baud

    def _reset(self) -> None:
        self.reset_requested = self.hung = False
        self.fallback = self._pending_baud = None
        self._set_baud(self.boot_baud)
        while not self.inbox.empty():
            self.inbox.get_nowait()
        self.demux.reset()
        self.device.reset()
        if self.extension is not None:
            self.extension.reset()
        self.write(self.device.boot_banner())

    def _receive(self) -> None:
        """The UART receiver: paces each chunk at the wire's rate, then hands on what it completed."""
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(self.master, READ_CHUNK)
            except OSError:
                return
            self._pace(len(data))
            if self.hung or self.garbled or self.reset_requested or self._host_rate_differs():
                continue
            for piece in self.demux.feed(data):
                self._route(piece)

    def _host_rate_differs(self) -> bool:
        """With `strict_baud`: the host's line speed (a pty's settings are visible from its master side)
        against the firmware's UART rate; a mismatch turns every byte into noise, as on a real UART."""
        if not self.strict_baud:
            return False
        speed = _TERMIOS_BAUDS.get(termios.tcgetattr(self.master)[4])
        return speed is not None and speed != self.baud

    def _pace(self, nbytes: int) -> None:
        seconds = nbytes * self.session.seconds_per_byte
        if self.device.clock.pacing == "virtual":
            self.device.clock.spend(seconds)
            return
        self.wire_done = max(time.monotonic(), self.wire_done) + seconds
        time.sleep(max(0.0, self.wire_done - time.monotonic()))

    def _route(self, piece: Piece) -> None:
        if isinstance(piece, TextPiece):
            self.inbox.put(("text", piece.data))
            return
        if self.extension is None:
            return  # a legacy board: frames are noise to it
        if isinstance(piece, BadFrame):
            self.write(self.extension.nak())
            return
        self.fallback = None  # a valid frame at this rate confirms a baud switch
        if piece.kind == KIND_DATA:
            self.write(self.extension.on_data(piece))
        elif piece.kind == KIND_COMMAND:
            self.write(self.extension.accepted(piece))
            self.inbox.put(("command", piece))


