"""A whole simulated MLPerf Tiny bench: the board, the enhanced interface board and the LPM01A, wired as
on a real bench, each on its own pseudo-terminal, all paced in real time.

Energy mode (the board's firmware built for energy): the board's UART reaches the host only through the
interface board (`dut <cmd>%`, 9600 baud to the board), the LPM01A powers the board and sees its
timestamp GPIO. Performance/accuracy mode: the board's own UART is on the host at its board's baud rate,
as the official runner's device files expect; the LPM01A stays wired and streams as always.

sww01 (streaming wakeword): the device's UART and the interface board's are both on the host, as in the
open runner's devices_sww.yaml; the interface board plays WAV files from its SD card (default: the
packaged stream) into the device over I2S and times its detection and processing pulses.

A real bench is found by USB identity; a pty has none, so `ports` also says what a real bench's USB
identity of each role is (for a wrapper that shows the ptys to a runner that scans for VID:PID).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tinyperf.errors import ConfigError
from tinyperf.sim.bench_faults import BOARD_FAULTS, MONITOR_FAULTS, check_faults
from tinyperf.sim.board.interface_board import INTERFACE_DUT_BAUD
from tinyperf.sim.launcher import SimBoardProcess, start_sim_board, start_sim_monitor, start_sww_bench
from tinyperf.suite.models import get_entry
from tinyperf.suite.sww.inputs import packaged_stream

# what the roles are on a real bench (the official runner's device files match these)
USB_IDENTITY = {"dut": (0x0483, 0x374B), "interface": (0x0483, 0x374E), "power": (0x0483, 0x5740)}
ROLE_NAMES = {"dut": "l4r5zi", "interface": "stm32h573i-dk", "power": "lpm01a"}


@dataclass
class SimBench:
    mode: str
    ports: dict[str, str]  # role -> pty path
    faults: tuple[str, ...] = ()
    processes: list[SimBoardProcess] = field(default_factory=list)
    folder: tempfile.TemporaryDirectory | None = None

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        if self.folder is not None:
            self.folder.cleanup()

    def describe(self) -> dict:
        """Ports and the USB identity each role has on a real bench, as written by `--ports-file`."""
        return {"mode": self.mode, "simulated": True, "pacing": "realtime", "faults": list(self.faults),
                "devices": [{"role": role, "name": ROLE_NAMES[role], "port": port,
                             "vid": f"0x{USB_IDENTITY[role][0]:04X}", "pid": f"0x{USB_IDENTITY[role][1]:04X}"}
                            for role, port in self.ports.items()]}

    def write_ports_file(self, path: Path) -> None:
        path.write_text(json.dumps(self.describe(), indent=2) + "\n", encoding="utf-8")

    def __enter__(self) -> SimBench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_bench(board_id: str, benchmark: str, model: Path, mode: str, sd_card: Path | None = None,
                seed: int = 0, faults: tuple[str, ...] = (), **board_options: object) -> SimBench:
    """Start monitor, then board (energy: behind the interface board). Stops what started on failure.
    `faults` (sim/bench_faults.py) build the bench wrong on purpose, as `tinyperf doctor` must catch."""
    faults = check_faults(faults)
    folder = tempfile.TemporaryDirectory(prefix="tinyperf-bench-")
    wire = Path(folder.name) / "power.wire"
    bench = SimBench(mode, {}, faults, folder=folder)
    board_faults = tuple(f for f in faults if f in BOARD_FAULTS)
    try:
        streaming = get_entry(benchmark).streaming
        monitor = start_sim_monitor("lpm01a", board_id, wire, seed=seed, realtime=True,
                                    faults=tuple(f for f in faults if f in MONITOR_FAULTS),
                                    free_running=mode != "energy" and not streaming)
        bench.processes.append(monitor)
        bench.ports["power"] = monitor.url
        if streaming:  # sww01: the device and the interface board on ports of their own
            if board_faults:
                raise ConfigError(f"the simulated sww01 bench does not simulate {', '.join(board_faults)}")
            sww = start_sww_bench(board_id, model, sd_card or packaged_stream(), "realtime", wire)
            bench.processes.append(sww)
            bench.ports["dut"], bench.ports["interface"] = sww.url, sww.interface_url
            return bench
        energy = mode == "energy"
        board = start_sim_board(board_id, benchmark, model, pacing="realtime", legacy_only=True,
                                energy_wire=wire if energy else None,
                                interface_baud=INTERFACE_DUT_BAUD if energy else None,
                                sd_card=sd_card, faults=board_faults, **board_options)  # type: ignore[arg-type]
        bench.processes.append(board)
        bench.ports["interface" if energy else "dut"] = board.url
    except BaseException:
        bench.stop()
        raise
    return bench
