"""A simulated sww01 bench in one process: the device's UART and the enhanced interface board's UART,
each on its own pseudo-terminal, sharing what a bench wires between them (I2S audio, the WW_DETECTED
and PROCESSING lines). The official runner talks to both ports; so does tinyperf.

Run: python -m tinyperf.sim.board.sww_server --board sim-nucleo-l4r5zi --model M.tflite --sd-card DIR
It prints `<device pty> <interface pty>` on its first stdout line, then serves until stdin closes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
import time
import tty
from pathlib import Path

from tinyperf.device.boards import get_board
from tinyperf.errors import TinyperfError
from tinyperf.sim.board.interface_board import InterfaceBoard
from tinyperf.sim.board.pty_board import stdin_closed as _stdin_closed
from tinyperf.sim.board.pty_board import write_all as _write_all
from tinyperf.sim.board.sww_device import SwwDevice
from tinyperf.sim.board.uart_session import CommandFramer
from tinyperf.sim.wire import PowerWireSender

_READ_CHUNK = 4096
_TICK_S = 0.02


def _pty() -> tuple[int, str]:
    master, slave = os.openpty()
    tty.setraw(slave)  # a byte-exact wire, like a UART
    return master, os.ttyname(slave)


def serve(device: SwwDevice, interface: InterfaceBoard, baud: int, watch_stdin: bool) -> None:
    device_fd, device_path = _pty()
    interface_fd, interface_path = _pty()
    print(f"{device_path} {interface_path}", flush=True)
    handlers = {device_fd: device.handle, interface_fd: interface.handle}
    framers = {device_fd: CommandFramer(), interface_fd: CommandFramer()}
    seconds_per_byte = 10.0 / baud
    last = time.monotonic()
    while True:
        watched = [device_fd, interface_fd] + ([sys.stdin] if watch_stdin else [])
        ready, _, _ = select.select(watched, [], [], _TICK_S)
        now = time.monotonic()
        if device.power_wire is not None:  # the board's time goes on while the host thinks
            device.clock.idle(now - last)
            device.power_wire.now(device.now_s())
        last = now
        if watch_stdin and _stdin_closed(ready):
            return
        for fd in (device_fd, interface_fd):
            if fd not in ready:
                continue
            data = os.read(fd, _READ_CHUNK)
            device.clock.spend(len(data) * seconds_per_byte)
            for command in framers[fd].feed(data):
                reply = handlers[fd](command)
                device.clock.spend(len(reply) * seconds_per_byte)
                _write_all(fd, reply)
            if device.power_wire is not None:
                device.power_wire.now(device.now_s())
        last = time.monotonic()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyperf.sim.board.sww_server", description=__doc__)
    parser.add_argument("--board", required=True)
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--sd-card", required=True, type=Path, help="folder of the WAV files the interface plays")
    parser.add_argument("--pacing", choices=["virtual", "realtime"], default="virtual")
    parser.add_argument("--timing", default=None,
                        help="the board's cycle model for a frame (default: its streaming_timing profile)")
    parser.add_argument("--energy-wire", type=Path, default=None,
                        help="report timestamp edges and processing to a simulated monitor here")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    args = parser.parse_args(argv)
    try:
        board = get_board(args.board)
        wire = PowerWireSender(args.energy_wire) if args.energy_wire else None
        device = SwwDevice(board, args.model, args.pacing, args.timing, wire)
    except (TinyperfError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    interface = InterfaceBoard(relay=device.handle, wait=device.clock.spend, sd_card=args.sd_card,
                               player=device.play, now=device.now_s)
    with contextlib.suppress(KeyboardInterrupt):
        serve(device, interface, board.baud, args.watch_stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
