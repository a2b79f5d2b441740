"""Starts a board that runs real firmware without hardware: QEMU (Cortex-M) or the posix host build.

QEMU serves the firmware's UART on a local TCP port and waits for the runner to connect before the
guest starts (`server=on,wait=on`), so the boot banner can never race the first command. The posix
build opens its own pseudo-terminal and announces it after queueing its banner.
"""

from __future__ import annotations

import re
import select
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tinyperf.device.boards import Board
from tinyperf.errors import ConfigError, LinkError, ToolError
from tinyperf.tools import bound_to_parent, require_tool, stop_process

START_TIMEOUT_S = 20.0
_QEMU_LISTENING = re.compile(r"waiting for connection on.*tcp:([\d.]+):(\d+)")


@dataclass
class EmulatedBoard:
    url: str
    process: subprocess.Popen
    argv: list[str]

    def stop(self) -> None:
        stop_process(self.process, self.process.terminate)

    def __enter__(self) -> EmulatedBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def qemu_argv(board: Board, elf: Path, tcp_port: int) -> list[str]:
    assert board.emulator is not None and board.emulator.machine is not None
    argv = ["qemu-system-arm", "-M", board.emulator.machine, "-display", "none", "-monitor", "none",
            "-nodefaults", "-serial", f"tcp:127.0.0.1:{tcp_port},server=on,wait=on", "-kernel", str(elf)]
    if board.emulator.icount_shift is not None:
        argv += ["-icount", f"shift={board.emulator.icount_shift}"]
    return argv


def _first_line(process: subprocess.Popen, stream: str, pattern: re.Pattern[str] | None, what: str) -> str:
    """Wait (bounded) for the process to print its address; explain its death if it dies instead."""
    pipe = process.stdout if stream == "stdout" else process.stderr
    assert pipe is not None
    seen: list[str] = []
    ready, _, _ = select.select([pipe], [], [], START_TIMEOUT_S)
    while ready:
        line = pipe.readline().decode(errors="replace")
        if not line:
            break
        seen.append(line.strip())
        if pattern is None or pattern.search(line):
            return line.strip()
        ready, _, _ = select.select([pipe], [], [], START_TIMEOUT_S)
    process.kill()
    _, rest = process.communicate(timeout=5)
    tail = " | ".join([*seen, *(rest or b"").decode(errors="replace").strip().splitlines()][-4:]) or "no output"
    raise LinkError(f"{what} did not start within {START_TIMEOUT_S:.0f} s: {tail}")


def start_emulated_board(board: Board, firmware: Path) -> EmulatedBoard:
    """Run `firmware` on the emulated board; `url` is what the runner opens."""
    if board.emulator is None:
        raise ConfigError(f"{board.id} is not an emulated board")
    if not firmware.is_file():
        raise ConfigError(f"firmware {firmware} does not exist; build it with "
                          f"`tinyperf build --board {board.id} --benchmark BENCH`")
    if board.emulator.kind == "qemu":
        require_tool("qemu-system-arm")
        port = _free_tcp_port()
        argv = qemu_argv(board, firmware, port)
        process = subprocess.Popen(bound_to_parent(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        _first_line(process, "stderr", _QEMU_LISTENING, f"QEMU ({board.emulator.machine})")
        return EmulatedBoard(f"socket://127.0.0.1:{port}", process, argv)
    argv = [str(firmware)]
    process = subprocess.Popen(bound_to_parent(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    return EmulatedBoard(_first_line(process, "stdout", None, f"the host build {firmware}"), process, argv)


def run_stdio(firmware: Path, commands: list[str], timeout_s: float = 300.0) -> str:
    """The posix build's `--stdio` mode: `commands` (each ended by `%`) in, every reply out, for scripts
    that check what the firmware answers without a pty (the core drops text sent while it is busy, so
    the commands must be ones it runs without reading more: legacy db/infer)."""
    script = "".join(f"{command}%" for command in commands).encode("ascii")
    try:
        done = subprocess.run([str(firmware), "--stdio"], input=script, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as e:
        raise ToolError(f"{firmware} --stdio did not finish {len(commands)} commands in {timeout_s:.0f} s") from e
    if done.returncode != 0:
        raise ToolError(f"{firmware} --stdio exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
    return done.stdout.decode("ascii", "backslashreplace")
