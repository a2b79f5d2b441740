"""Serves a SimDevice on a pseudo-terminal (or a TCP port), as a process of its own.

Run: python -m tinyperf.sim.server --board sim-nucleo-l4r5zi --benchmark kws01 --model M.tflite
It prints the path of its pty (or `socket://127.0.0.1:PORT`) on the first stdout line, then serves
until stdin closes (when started by a runner) or it is interrupted.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import sys
import time
import tty
from pathlib import Path

from tinyperf.boards import Board, get_board
from tinyperf.errors import TinyperfError
from tinyperf.models import BYTES_PER_ELEMENT, BinFormat, get_entry
from tinyperf.protocol.legacy import take_frames
from tinyperf.sim.clock import Pacing, SimClock
from tinyperf.sim.device import SimDevice
from tinyperf.sim.engine import TflmEngine
from tinyperf.sim.wire import PowerWireSender
from tinyperf.tflite_info import read_model_info_file

_READ_CHUNK = 4096
_IDLE_TICK_S = 0.02  # energy mode: how often idle board time is reported to the monitor


def build_device(board: Board, benchmark: str, model_path: Path, pacing: Pacing,
                 bin_format: BinFormat | None = None, energy_wire: Path | None = None) -> SimDevice:
    """Wire the timing model, the TFLM engine and the protocol state machine together."""
    assert board.timing is not None
    entry = get_entry(benchmark)
    engine = TflmEngine(model_path, bin_format or entry.input.bin_format)
    cycles = board.timing.inference_cycles(read_model_info_file(model_path))
    return SimDevice(
        vendor_name=board.vendor_name,
        model_id=benchmark,
        run_inference=engine.run,
        inference_seconds=cycles / board.clock_hz,
        max_input_bytes=max(board.max_input_bytes, engine.input_bytes),
        clock=SimClock(pacing),
        power_wire=PowerWireSender(energy_wire) if energy_wire else None,
    )


class CommandFramer:
    """Splits the incoming byte stream at '%' into commands."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._pending.extend(data)
        return [frame.decode("latin-1") for frame in take_frames(self._pending, b"%")]


INTERFACE_NAME = "tinyML Enhanced Interface Board"


class DeviceSession:
    """Feeds one byte stream to the device and paces replies at the board's baud rate.

    With `interface_baud`, the stream comes through a simulated energy-mode interface board: the host
    speaks to the board (`dut <cmd>%`, `name%`), which relays to the device at `interface_baud` and
    sends back `m-dut-passthrough(<cmd>)`, `m-ready`, the device's lines prefixed `[dut]: `, `m-ready`.
    """

    def __init__(self, device: SimDevice, baud: int, interface_baud: int | None = None) -> None:
        self.device = device
        self.seconds_per_byte = 10.0 / baud  # 8N1: start + 8 data + stop bits
        self.dut_seconds_per_byte = 10.0 / interface_baud if interface_baud else None
        self.framer = CommandFramer()

    def on_bytes(self, data: bytes) -> bytes:
        self.device.clock.spend(len(data) * self.seconds_per_byte)
        out = bytearray()
        for command in self.framer.feed(data):
            reply = self._interface(command) if self.dut_seconds_per_byte else self.device.handle(command)
            self.device.clock.spend(len(reply) * self.seconds_per_byte)
            out.extend(reply)
        self.device.tell_time()
        return bytes(out)

    def _interface(self, command: str) -> bytes:
        word, _, rest = command.partition(" ")
        if word == "name":
            return f"{INTERFACE_NAME}\r\nm-ready\r\n".encode()
        if word != "dut":
            return f"e-[Unknown command: {word}]\r\nm-ready\r\n".encode()
        assert self.dut_seconds_per_byte is not None
        self.device.clock.spend((len(rest) + 1) * self.dut_seconds_per_byte)
        reply = self.device.handle(rest)
        self.device.clock.spend(len(reply) * self.dut_seconds_per_byte)
        relayed = "".join(f"[dut]: {line}\r\n" for line in reply.decode("latin-1").split("\r\n")[:-1])
        return f"m-dut-passthrough({rest})\r\nm-ready\r\n{relayed}m-ready\r\n".encode("latin-1")

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


def serve_pty(device: SimDevice, baud: int, watch_stdin: bool, interface_baud: int | None = None) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line discipline: a byte-exact wire like a UART
    session = DeviceSession(device, baud, interface_baud)
    banner = device.boot_banner()  # behind an interface board the host never sees it
    if interface_baud is None:
        # Booted before anyone connects, as a real board is: the banner is queued before the path is
        # announced, so opening the port (pyserial flushes input) always discards it. Written after,
        # it raced the host's open and sometimes arrived as the reply to the first command.
        _write_all(master, banner)
    print(os.ttyname(slave), flush=True)
    watched = [master, sys.stdin] if watch_stdin else [master]
    tick = _IDLE_TICK_S if device.energy_mode else 1.0
    last = time.monotonic()
    while True:
        ready, _, _ = select.select(watched, [], [], tick)
        now = time.monotonic()
        if device.energy_mode:
            session.on_idle(now - last)
        last = now
        if watch_stdin and _stdin_closed(ready):
            return
        if master in ready:
            reply = session.on_bytes(os.read(master, _READ_CHUNK))
            if reply:
                _write_all(master, reply)


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
            reply = session.on_bytes(data)
            if reply:
                client.sendall(reply)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyperf.sim.server", description=__doc__)
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
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    args = parser.parse_args(argv)
    try:
        board = get_board(args.board)
        device = build_device(board, args.benchmark, args.model, args.pacing, args.bin_format, args.energy_wire)
    except TinyperfError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    baud = args.baud or board.baud
    try:
        if args.tcp_port is not None:
            serve_tcp(device, baud, args.tcp_port, args.watch_stdin)
        else:
            serve_pty(device, baud, args.watch_stdin, args.interface_baud)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
