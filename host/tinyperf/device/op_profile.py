"""Per-operator profile on the device, DeepBench-style: each operator's cycles as the device counts
them (`tp-profile`), its share of the inference, and cycles per MAC from the model's own op table.

The device answers `tp-profile` with one `m-tp-op-[index,OP_TYPE,ticks]` line per operator and the
rate of its timer: the simulated board from its cycle model, our firmware's ref engine from the
device's finest counter around each operator (DWT CYCCNT on the nucleo, SysTick in QEMU). The per-op
sum is checked against a whole inference timed by the device's own timer (`infer N 1`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tinyperf.device.boards import Board, get_board
from tinyperf.device.connection import Connection, ConnectionSettings
from tinyperf.device.dut import Device
from tinyperf.device.emulate import start_emulated_board
from tinyperf.device.link import open_link
from tinyperf.device.ports import board_port
from tinyperf.errors import ConfigError, DeviceError, ProtocolError
from tinyperf.firmware.build import builds_folder, built_for, load_manifest
from tinyperf.suite.models import get_entry, resolve_model
from tinyperf.suite.synthetic import synthetic_inputs
from tinyperf.suite.tflite_info import ModelInfo, read_model_info_file

_OP = re.compile(r"^m-tp-op-\[(\d+),([A-Z0-9_]+),(\d+)\]$")
_TOTAL = re.compile(r"^m-tp-profile-total-\[(\d+)\]$")
_CLOCK = re.compile(r"^m-tp-clock-hz-\[(\d+)\]$")
TIMED_INFERENCES = 10
PROFILE_TIMEOUT_S = 120.0  # one inference: seconds in QEMU for the largest model


@dataclass(frozen=True)
class OpProfile:
    index: int
    op_type: str
    cycles: int
    macs: int
    share: float  # of the per-op sum

    @property
    def cycles_per_mac(self) -> float | None:
        return self.cycles / self.macs if self.macs else None


@dataclass(frozen=True)
class Profile:
    ops: tuple[OpProfile, ...]
    op_sum_cycles: int
    timed_cycles: float  # one inference, from the device timer over TIMED_INFERENCES
    clock_hz: int  # the rate of the device timer the ticks were counted in
    simulated: bool
    timer_note: str | None = None  # what a tick is on an emulated board
    unit: str = "cycles"  # "ticks" where the device timer is not a silicon core's cycle counter

    @property
    def sum_over_timed(self) -> float:
        return self.op_sum_cycles / self.timed_cycles


@contextlib.contextmanager
def connected_device(board: Board, benchmark: str, port: str | None = None,
                     builds_dir: Path = Path("builds")) -> Iterator[Device]:
    """A negotiated Device on `board` running `benchmark`: a simulated board is started, an emulated one
    runs the firmware last built for it, when no port is given; a real one is found by its USB id."""
    from tinyperf.sim.launcher import start_sim_board

    with contextlib.ExitStack() as stack:
        url = port
        if url is None and board.simulated:
            url = stack.enter_context(start_sim_board(board.id, benchmark, resolve_model(benchmark).path)).url
        elif url is None and board.emulator is not None:
            elf = builds_folder(builds_dir, board.id) / built_for(builds_dir, board.id, benchmark).elf
            url = stack.enter_context(start_emulated_board(board, elf)).url
        elif url is None:
            url = board_port(board)
        link = stack.enter_context(open_link(url, board.baud))
        yield Connection(link, ConnectionSettings(board.baud)).open()


def parse_profile(lines: tuple[str, ...]) -> tuple[list[tuple[int, str, int]], int, int | None]:
    """(per-op (index, op, cycles), total cycles, clock Hz if the device said) from a tp-profile reply."""
    ops, total, clock = [], None, None
    for line in lines:
        if match := _OP.match(line):
            ops.append((int(match.group(1)), match.group(2), int(match.group(3))))
        elif match := _TOTAL.match(line):
            total = int(match.group(1))
        elif match := _CLOCK.match(line):
            clock = int(match.group(1))
    if not ops or total is None:
        raise ProtocolError(f"tp-profile reply has no m-tp-op / m-tp-profile-total lines: {list(lines)[:4]}")
    return ops, total, clock


def profile(device: Device, board: Board, benchmark: str, info: ModelInfo) -> Profile:
    if device.extended is None:
        raise ConfigError("the device does not offer the tinyperf extension, so it has no per-operator profile")
    device.load(synthetic_inputs(get_entry(benchmark), 1)[0][1])
    try:
        reply = device.client.command(device.on_loaded("tp-profile"), PROFILE_TIMEOUT_S)
    except DeviceError as e:
        raise ConfigError(f"the device cannot profile per operator ({e.line}); our firmware does when built "
                          f"with `tinyperf build --board {board.id} --benchmark {benchmark} --engine ref`") from None
    ops, total, clock = parse_profile(reply.lines)
    if [op for _, op, _ in ops] != [op.op_type for op in info.ops]:
        raise ProtocolError(f"the device profiled {len(ops)} operators that do not match the model's "
                            f"{len(info.ops)} ({[op for _, op, _ in ops][:5]}...): is it running this model?")
    timed = device.infer(TIMED_INFERENCES, 1, 120.0)
    clock_hz = clock or board.clock_hz
    seconds = ((timed.end_us - timed.start_us) % 2**32) / 1e6 / TIMED_INFERENCES
    rows = tuple(OpProfile(i, op, cycles, info.ops[i].macs, cycles / total) for i, op, cycles in ops)
    note = board.emulator.timing_note if board.emulator is not None else None
    unit = "ticks" if board.emulator is not None else "cycles"
    return Profile(rows, total, seconds * clock_hz, clock_hz, board.simulated, note, unit)


def run_profile(board_id: str, benchmark: str, port: str | None = None, builds_dir: Path = Path("builds")) -> Profile:
    board = get_board(board_id)
    info = read_model_info_file(_profiled_model(board, benchmark, port, builds_dir))
    with connected_device(board, benchmark, port, builds_dir) as device:
        identity = device.identify()
        if identity.model != benchmark:
            raise ProtocolError(f"the device runs {identity.model!r}, not {benchmark!r}")
        return profile(device, board, benchmark, info)


def _profiled_model(board: Board, benchmark: str, port: str | None, builds_dir: Path) -> Path:
    """An emulated board runs the firmware last built for it, with the model that build took (a custom one
    too); anything else runs the benchmark's model."""
    if board.emulator is not None and port is None:
        manifest = load_manifest(builds_dir, board.id)
        if manifest is not None and manifest.benchmark == benchmark and Path(manifest.model_path).is_file():
            return Path(manifest.model_path)
    return resolve_model(benchmark).path


def by_op_type(result: Profile) -> list[tuple[str, int, int, float]]:
    """(op type, cycles, MACs, share) summed per operator type, largest first."""
    totals: dict[str, list[int]] = {}
    for op in result.ops:
        entry = totals.setdefault(op.op_type, [0, 0])
        entry[0] += op.cycles
        entry[1] += op.macs
    rows = [(op, cycles, macs, cycles / result.op_sum_cycles) for op, (cycles, macs) in totals.items()]
    return sorted(rows, key=lambda row: -row[1])


def bar_chart(result: Profile, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(max(6, 0.35 * len(result.ops)), 3.2))
    axes.bar([f"{op.index} {op.op_type}" for op in result.ops], [op.cycles for op in result.ops], color="#4a7ab5")
    axes.set_ylabel(result.unit)
    axes.tick_params(axis="x", labelrotation=90, labelsize=7)
    label = " (SIMULATED board: cycle model)" if result.simulated else " (EMULATED)" if result.timer_note else ""
    axes.set_title(f"per-operator {result.unit}{label}")
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
