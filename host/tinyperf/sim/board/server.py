"""Serves a SimDevice on a pseudo-terminal (or a TCP port), as a process of its own.

Run: python -m tinyperf.sim.board.server --board sim-nucleo-l4r5zi --benchmark kws01 --model M.tflite
It prints the path of its pty (or `socket://127.0.0.1:PORT`) on the first stdout line, then serves
until stdin closes (when started by a runner) or it is interrupted.
"""

from __future__ import annotations

import argparse
import hashlib
import select
import socket
import sys
from pathlib import Path

from tinyperf.device.boards import Board, get_board
from tinyperf.errors import TinyperfError
from tinyperf.sim.bench_faults import BOARD_FAULTS, SLOW_BAUD, SLOW_INTERFACE_BAUD
from tinyperf.sim.board.clock import Pacing, SimClock
from tinyperf.sim.board.device import SimDevice
from tinyperf.sim.board.engine import TflmEngine
from tinyperf.sim.board.extension import ExtendedDevice
from tinyperf.sim.board.pty_board import READ_CHUNK, serve_pty, stdin_closed
from tinyperf.sim.board.uart_session import DeviceSession
from tinyperf.sim.wire import PowerWireSender
from tinyperf.suite.models import BYTES_PER_ELEMENT, BinFormat, get_entry
from tinyperf.suite.tflite_info import read_model_info_file

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


def serve_tcp(device: SimDevice, baud: int, port: int, watch_stdin: bool) -> None:
    server = socket.create_server(("127.0.0.1", port))
    print(f"socket://127.0.0.1:{server.getsockname()[1]}", flush=True)
    watched: list = [server, sys.stdin] if watch_stdin else [server]
    client: socket.socket | None = None
    session = DeviceSession(device, baud)
    while True:
        ready, _, _ = select.select(watched + ([client] if client else []), [], [], 1.0)
        if watch_stdin and stdin_closed(ready):
            return
        if server in ready:
            if client:
                client.close()
            client, _ = server.accept()
            session = DeviceSession(device, baud)
        if client and client in ready:
            data = client.recv(READ_CHUNK)
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
    slow = "slow-baud" in faults  # the firmware's UART runs slower than the bench expects
    baud = SLOW_BAUD if slow and args.interface_baud is None else args.baud or board.baud
    device_baud = SLOW_INTERFACE_BAUD if slow and args.interface_baud else None
    supply_wire = args.energy_wire if args.energy_wire and "usb-powered" not in faults else None
    extension = None
    if not args.legacy_only and args.interface_baud is None:
        extension = ExtendedDevice(device, EXTENSION_BUFFER_BYTES, EXTENSION_BAUDS)
    try:
        if args.tcp_port is not None:
            serve_tcp(device, baud, args.tcp_port, args.watch_stdin)
        else:
            serve_pty(device, baud, args.watch_stdin, args.interface_baud, extension, args.max_baud, args.sd_card,
                      device_baud, slow, supply_wire)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
