"""Serves a SimDevice on a pseudo-terminal (or a TCP port), as a process of its own.

Run: python -m tinyperf.sim.board.server --board sim-nucleo-l4r5zi --benchmark kws01 --model M.tflite
It prints the path of its pty (or `socket://127.0.0.1:PORT`) on the first stdout line, then serves
until stdin closes (when started by a runner) or it is interrupted.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import queue
import select
import signal
import socket
import sys
import termios
import threading
import time
import tty
from pathlib import Path

from tinyperf.device.boards import Board, get_board
from tinyperf.device.protocol.extended import BAUD_CONFIRM_S
from tinyperf.device.protocol.frames import KIND_COMMAND, KIND_DATA, BadFrame, Piece, StreamDemux, TextPiece
from tinyperf.device.protocol.legacy import take_frames
from tinyperf.errors import TinyperfError
from tinyperf.sim.bench_faults import BOARD_FAULTS, SLOW_BAUD, SLOW_INTERFACE_BAUD, supply_off
from tinyperf.sim.board.clock import Pacing, SimClock
from tinyperf.sim.board.device import SimDevice
from tinyperf.sim.board.engine import TflmEngine
from tinyperf.sim.board.extension import ExtendedDevice
from tinyperf.sim.board.interface_board import InterfaceBoard
from tinyperf.sim.wire import PowerWireSender
from tinyperf.suite.models import BYTES_PER_ELEMENT, BinFormat, get_entry
from tinyperf.suite.tflite_info import read_model_info_file

_READ_CHUNK = 4096
_TERMIOS_BAUDS = {getattr(termios, f"B{rate}"): rate for rate in (
    1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 2000000)
    if hasattr(termios, f"B{rate}")}
_IDLE_TICK_S = 0.02  # energy mode: how often idle board time is reported to the monitor
EXTENSION_BUFFER_BYTES = 131072  # each of the two extension buffers: a whole 102400-byte ad01 file fits
EXTENSION_BAUDS = (9600, 115200, 230400, 460800, 921600, 1000000, 2000000)


def build_device(board: Board, benchmark: str, model_path: Path, pacing: Pacing,
                 bin_format: BinFormat | None = None, energy_wire: Path | None = None) -> SimDevice:
    """Wire the timing model, the TFLM engine and the protocol state machine together."""
    assert board.timing is not None
    entry = get_entry(benchmark)
    engine = TflmEngine(model_path, bin_format or entry.input.bin_format)
    info = read_model_info_file(model_path)
    cycles = board.timing.inference_cycles(info)
    device = SimDevice(
        vendor_name=board.vendor_name,
        model_id=benchmark,
        run_inference=engine.run,
        inference_seconds=cycles / board.clock_hz,
        max_input_bytes=max(board.max_input_bytes, engine.input_bytes),
        clock=SimClock(pacing),
        power_wire=PowerWireSender(energy_wire) if energy_wire else None,
    )
    # what a profiling build of the firmware reports per operator: the same cycle model, op by op
    device.op_cycles = [(op.op_type, board.timing.op_cycles(op.op_type, op.macs, op.output_elements))
                        for op in info.ops]
    device.clock_hz = board.clock_hz
    device.model_sha256 = hashlib.sha256(model_path.read_bytes()).hexdigest()
    return device


class CommandFramer:
    """Splits the incoming byte stream at '%' into commands."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._pending.extend(data)
        return [frame.decode("latin-1") for frame in take_frames(self._pending, b"%")]


class DeviceSession:
    """Feeds one byte stream to the device and paces replies at the board's baud rate.

    With `interface_baud`, the stream comes through a simulated enhanced interface board
    (sim/board/interface_board.py), which relays `dut <cmd>%` to a device whose UART runs at `interface_baud`.
    """

    def __init__(self, device: SimDevice, baud: int, interface_baud: int | None = None,
                 extension: ExtendedDevice | None = None, sd_card: Path | None = None,
                 device_baud: int | None = None, supply_wire: Path | None = None) -> None:
        self.device = device
        self.baud = baud
        self.seconds_per_byte = 10.0 / baud  # 8N1: start + 8 data + stop bits
        self.device_baud = device_baud or interface_baud  # the firmware's UART rate behind the interface board
        self.supply_wire = supply_wire  # energy mode: the monitor's supply powers the device
        self.unpowered = False
        self.interface = (InterfaceBoard(self._relay, device.clock.spend, sd_card, dut_baud=interface_baud)
                          if interface_baud else None)
        self.handle = extension.handle_text if extension is not None else device.handle
        self.framer = CommandFramer()

    def account_incoming(self, nbytes: int) -> None:
        """Wire time of bytes the host sent (the pty board paces them in its receiver instead)."""
        self.device.clock.spend(nbytes * self.seconds_per_byte)

    def on_bytes(self, data: bytes) -> bytes:
        out = bytearray()
        for command in self.framer.feed(data):
            reply = self.interface.handle(command) if self.interface else self.handle(command)
            self.device.clock.spend(len(reply) * self.seconds_per_byte)
            out.extend(reply)
        self.device.tell_time()
        return bytes(out)

    def _relay(self, command: str) -> bytes:
        """The interface board's UART to the device: at a rate the device does not run at, the device
        hears noise and never answers (the real board then waits for ever; we send nothing)."""
        assert self.interface is not None and self.device_baud is not None
        if self.supply_wire is not None and supply_off(self.supply_wire):
            self.unpowered = True  # a device without power hears nothing and says nothing
            return b""
        if self.unpowered:  # powered again: it boots afresh (the banner goes to the interface board)
            self.unpowered = False
            self.device.reset()
        if self.interface.dut_baud != self.device_baud:
            return b""
        seconds_per_byte = 10.0 / self.device_baud
        self.device.clock.spend((len(command) + 1) * seconds_per_byte)
        reply = self.device.handle(command)
        self.device.clock.spend(len(reply) * seconds_per_byte)
        return reply

    def on_idle(self, seconds: float) -> None:
        self.device.clock.idle(seconds)
        self.device.tell_time()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        _, writable, _ = select.select([], [fd], [], 5.0)
        if not writable:
            raise TimeoutError("the runner stopped reading from the simulated board for 5 s")
        view = view[os.write(fd, view) :]


def _stdin_closed(ready: list) -> bool:
    return sys.stdin in ready and not sys.stdin.buffer.read1(1)


def serve_pty(device: SimDevice, baud: int, watch_stdin: bool, interface_baud: int | None = None,
              extension: ExtendedDevice | None = None, max_baud: int | None = None,
              sd_card: Path | None = None, faults: frozenset[str] = frozenset(),
              supply_wire: Path | None = None) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line discipline: a byte-exact wire like a UART
    slow = "slow-baud" in faults
    device_baud = SLOW_INTERFACE_BAUD if slow and interface_baud else None
    session = DeviceSession(device, baud, interface_baud, extension, sd_card, device_baud, supply_wire)
    board = PtyBoard(master, session, extension, max_baud)
    board.strict_baud = slow  # a host at another rate than the firmware's UART is heard as noise
    if interface_baud is None:
        # Booted before anyone connects, as a real board is: the banner is queued before the path is
        # announced, so opening the port (pyserial flushes input) always discards it. Written after,
        # it raced the host's open and sometimes arrived as the reply to the first command.
        _write_all(master, device.boot_banner())  # behind an interface board the host never sees it
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
            _write_all(self.master, data)

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
            if watch_stdin and _stdin_closed(select.select([sys.stdin], [], [], 0)[0]):
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
                data = os.read(self.master, _READ_CHUNK)
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


def serve_tcp(device: SimDevice, baud: int, port: int, watch_stdin: bool) -> None:
    server = socket.create_server(("127.0.0.1", port))
    print(f"socket://127.0.0.1:{server.getsockname()[1]}", flush=True)
    watched: list = [server, sys.stdin] if watch_stdin else [server]
    client: socket.socket | None = None
    session = DeviceSession(device, baud)
    while True:
        ready, _, _ = select.select(watched + ([client] if client else []), [], [], 1.0)
        if watch_stdin and _stdin_closed(ready):
            return
        if server in ready:
            if client:
                client.close()
            client, _ = server.accept()
            session = DeviceSession(device, baud)
        if client and client in ready:
            data = client.recv(_READ_CHUNK)
            if not data:
                client.close()
                client = None
                continue
            session.account_incoming(len(data))
            reply = session.on_bytes(data)
            if reply:
                client.sendall(reply)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyperf.sim.board.server", description=__doc__)
    parser.add_argument("--board", required=True)
    parser.add_argument("--benchmark", required=True)
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--pacing", choices=["virtual", "realtime"], default="virtual")
    parser.add_argument("--baud", type=int, default=None)
    parser.add_argument("--tcp-port", type=int, default=None, help="serve on 127.0.0.1:PORT instead of a pty")
    parser.add_argument("--bin-format", choices=list(BYTES_PER_ELEMENT), default=None,
                        help="how the firmware turns loaded bytes into model input (default: the official model's)")
    parser.add_argument("--energy-wire", type=Path, default=None,
                        help="energy mode: report timestamp edges and active/idle to a simulated monitor here")
    parser.add_argument("--interface-baud", type=int, default=None,
                        help="answer as an energy-mode interface board relaying to the device at this baud")
    parser.add_argument("--legacy-only", action="store_true",
                        help="answer as unmodified MLPerf Tiny firmware: no tinyperf extension")
    parser.add_argument("--max-baud", type=int, default=None,
                        help="fastest rate the simulated link carries; a switch above it garbles every byte")
    parser.add_argument("--reuses-input-tensor", action="store_true",
                        help="model firmware whose repeated inference changes its own input (TFLM reuse)")
    parser.add_argument("--slowdown", type=float, default=1.0,
                        help="inference time x this (1.05: a board 5 %% slower than its cycle model)")
    parser.add_argument("--window-jitter", type=float, default=0.0,
                        help="relative spread of inference time from one command to the next (seeded)")
    parser.add_argument("--jitter-seed", type=int, default=0)
    parser.add_argument("--results-format", choices=["reference", "printf3"], default="reference",
                        help="m-results as the benchmark's reference firmware prints them (KWS truncates, VWW "
                        "ends with a comma) or plain %%0.3f (tinyperf's own firmware)")
    parser.add_argument("--sd-card", type=Path, default=None,
                        help="with --interface-baud: folder of WAV files on the interface board's SD card")
    parser.add_argument("--fault", action="append", default=[], choices=sorted(BOARD_FAULTS),
                        help="a bench fault on the board's side (see tinyperf.sim.bench_faults); repeatable")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    args = parser.parse_args(argv)
    try:
        board = get_board(args.board)
        device = build_device(board, args.benchmark, args.model, args.pacing, args.bin_format, args.energy_wire)
    except TinyperfError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    device.reuses_input_tensor = args.reuses_input_tensor
    device.result_style = args.results_format
    device.slowdown, device.window_jitter = args.slowdown, args.window_jitter
    device.rng.seed(args.jitter_seed)
    faults = frozenset(args.fault)
    device.clock_stopped = "stopped-clock" in faults
    if device.power_wire is not None:
        device.power_wire.edge_wired = "no-timestamp-wire" not in faults
    baud = SLOW_BAUD if "slow-baud" in faults and args.interface_baud is None else args.baud or board.baud
    supply_wire = args.energy_wire if args.energy_wire and "usb-powered" not in faults else None
    extension = None
    if not args.legacy_only and args.interface_baud is None:
        extension = ExtendedDevice(device, EXTENSION_BUFFER_BYTES, EXTENSION_BAUDS)
    try:
        if args.tcp_port is not None:
            serve_tcp(device, baud, args.tcp_port, args.watch_stdin)
        else:
            serve_pty(device, baud, args.watch_stdin, args.interface_baud, extension, args.max_baud, args.sd_card,
                      faults, supply_wire)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
