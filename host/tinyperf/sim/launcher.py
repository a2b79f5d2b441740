"""Starts a simulated board process and hands back the URL a runner opens."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tinyperf.errors import LinkError
from tinyperf.tools import stop_process

START_TIMEOUT_S = 30.0


@dataclass
class SimBoardProcess:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        """Closing its stdin asks the sim process to exit cleanly (it watches stdin)."""
        stop_process(self.process, lambda: self.process.stdin.close() if self.process.stdin else None)

    def reset(self) -> None:
        """Press the simulated board's reset button (it reboots and prints its banner)."""
        self.process.send_signal(signal.SIGUSR1)

    def hang(self) -> None:
        """Make the simulated board stop answering until it is reset (a fault for tests)."""
        self.process.send_signal(signal.SIGUSR2)

    def __enter__(self) -> SimBoardProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sim_board(
    board_id: str,
    benchmark: str,
    model: Path,
    pacing: str = "virtual",
    baud: int | None = None,
    tcp_port: int | None = None,
    bin_format: str | None = None,
    energy_wire: Path | None = None,
    interface_baud: int | None = None,
    legacy_only: bool = False,
    max_baud: int | None = None,
    reuses_input_tensor: bool = False,
    slowdown: float | None = None,
    window_jitter: float | None = None,
    jitter_seed: int | None = None,
    sd_card: Path | None = None,
    results_format: str | None = None,
    faults: tuple[str, ...] = (),
) -> SimBoardProcess:
    """Spawn `python -m tinyperf.sim.board.server`; it exits when we close its stdin."""
    argv = [sys.executable, "-m", "tinyperf.sim.board.server", "--board", board_id, "--benchmark", benchmark,
            "--model", str(model), "--pacing", pacing, "--watch-stdin"]
    if baud is not None:
        argv += ["--baud", str(baud)]
    if tcp_port is not None:
        argv += ["--tcp-port", str(tcp_port)]
    if bin_format is not None:
        argv += ["--bin-format", bin_format]
    if energy_wire is not None:
        argv += ["--energy-wire", str(energy_wire)]
    if interface_baud is not None:
        argv += ["--interface-baud", str(interface_baud)]
    if max_baud is not None:
        argv += ["--max-baud", str(max_baud)]
    argv += ["--legacy-only"] if legacy_only else []
    argv += ["--reuses-input-tensor"] if reuses_input_tensor else []
    for flag, value in (("--slowdown", slowdown), ("--window-jitter", window_jitter), ("--jitter-seed", jitter_seed)):
        argv += [flag, str(value)] if value is not None else []
    argv += ["--sd-card", str(sd_card)] if sd_card is not None else []
    argv += ["--results-format", results_format] if results_format is not None else []
    argv += [word for fault in faults for word in ("--fault", fault)]
    return _spawn(argv, f"simulated board {board_id}")


@dataclass
class SwwBenchProcess(SimBoardProcess):
    """A simulated sww01 device and its interface board, one process, two ports (`url` is the device's)."""

    interface_url: str = ""


def start_sww_bench(board_id: str, model: Path, sd_card: Path, pacing: str = "virtual",
                    energy_wire: Path | None = None, timing: str | None = None) -> SwwBenchProcess:
    """Spawn `python -m tinyperf.sim.board.sww_server`; it exits when we close its stdin."""
    argv = [sys.executable, "-m", "tinyperf.sim.board.sww_server", "--board", board_id, "--model", str(model),
            "--sd-card", str(sd_card), "--pacing", pacing, "--watch-stdin"]
    argv += ["--energy-wire", str(energy_wire)] if energy_wire is not None else []
    argv += ["--timing", timing] if timing is not None else []
    started = _spawn(argv, f"simulated sww01 bench {board_id}")
    device, _, interface = started.url.partition(" ")
    return SwwBenchProcess(device, started.process, interface)


def start_sim_monitor(kind: str, board_id: str, wire: Path, seed: int = 0, realtime: bool = False,
                      faults: tuple[str, ...] = (), free_running: bool = False) -> SimBoardProcess:
    """Spawn a simulated monitor (`tinyperf.sim.instruments.<kind>`: lpm01a, ppk2, otii, scpi) fed by `board_id`'s
    power wire; its URL is the pty or host:port the driver opens. `realtime` for a board paced in real
    time: the monitor then streams on its own clock."""
    argv = [sys.executable, "-m", f"tinyperf.sim.instruments.{kind}", "--board", board_id, "--wire", str(wire),
            "--seed", str(seed), "--watch-stdin"] + (["--realtime"] if realtime else [])
    argv += [word for fault in faults for word in ("--fault", fault)]
    argv += ["--free-running"] if free_running else []
    return _spawn(argv, f"simulated {kind}")


def _spawn(argv: list[str], what: str) -> SimBoardProcess:
    """Start a sim process that prints its URL on its first stdout line and exits when stdin closes."""
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
    line = process.stdout.readline().decode().strip() if ready else ""
    if not line:
        exited = process.poll() is not None
        process.kill()
        _, err = process.communicate(timeout=5)
        lines = err.decode(errors="replace").strip().splitlines() or ["no output"]
        why = f"exited ({lines[-1]})" if exited else f"did not start within {START_TIMEOUT_S:.0f} s"
        raise LinkError(f"{what} {why}")
    return SimBoardProcess(line, process)
