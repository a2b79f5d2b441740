"""Does a firmware's engine answer exactly as TFLM's own interpreter? Real inputs through the real firmware.

Why a module of its own: the claim "bit-exact with TFLM" is only worth the inputs it was checked on.
This runs the built firmware (posix process or QEMU), loads each input over the tinyperf extension,
reads the exact float32 outputs the device sends beside its printed ones, and compares them bit for
bit with the `tflite-micro` wheel's interpreter given the same input conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyperf.device.boards import Board
from tinyperf.device.connection import Connection, ConnectionSettings
from tinyperf.device.emulate import start_emulated_board
from tinyperf.device.link.serial_link import open_link
from tinyperf.errors import ProtocolError
from tinyperf.sim.board.engine import TflmEngine
from tinyperf.suite.models import get_entry

INFER_TIMEOUT_S = 120.0


@dataclass
class EngineCheck:
    engine: str  # as the device's tp-caps names it
    arena_used: int
    arena_bytes: int
    checked: int = 0
    exact: int = 0
    first_mismatch: str = ""
    mismatched: list[int] = field(default_factory=list)  # input indices
    elapsed_us: list[int] = field(default_factory=list)  # device timer per inference (QEMU: 1 us = 1000 instr.)

    @property
    def all_exact(self) -> bool:
        return self.checked > 0 and self.exact == self.checked


def _same_bits(got: tuple[float, ...], want: list[float]) -> bool:
    return len(got) == len(want) and bool(np.array_equal(np.asarray(got, np.float32).view(np.uint32),
                                                         np.asarray(want, np.float32).view(np.uint32)))


def check_firmware(board: Board, firmware: Path, benchmark: str, model: Path, inputs: list[bytes]) -> EngineCheck:
    """Every input through the device and through TFLM's interpreter; counts bit-identical answers."""
    reference = TflmEngine(model, get_entry(benchmark).input.bin_format)
    with start_emulated_board(board, firmware) as emulated, open_link(emulated.url, board.baud) as link:
        connection = Connection(link, ConnectionSettings(baud=board.baud, protocol="extended",
                                                         timeout_s=INFER_TIMEOUT_S))
        device = connection.open()
        caps = connection.caps
        assert caps is not None
        if "exact" not in caps.features:
            raise ProtocolError(f"{firmware} does not send exact outputs (tp-caps has no 'exact'); rebuild it")
        check = EngineCheck(caps.engine, caps.arena_used, caps.arena_bytes)
        for index, data in enumerate(inputs):
            device.load(data)
            result = device.infer(1, 0, INFER_TIMEOUT_S)
            want = reference.run(data)
            check.checked += 1
            check.elapsed_us.append(result.elapsed_us)
            if _same_bits(result.values, want):
                check.exact += 1
                continue
            check.mismatched.append(index)
            if not check.first_mismatch:
                check.first_mismatch = f"input {index}: device {list(result.values)[:4]}..., TFLM {want[:4]}..."
    return check


def smoke_inputs(benchmark: str, limit: int | None = None) -> list[bytes]:
    """The packaged smoke set's inputs, in file order; a sliding benchmark's (ad01) are the windows the
    device slides over its files, at the manifest's window and stride."""
    from tinyperf.suite.smoke.store import smoke_dataset

    files = sorted(p for p in smoke_dataset(benchmark).iterdir() if p.suffix == ".bin")
    entry = get_entry(benchmark)
    if entry.window_bytes is None or entry.stride_bytes is None:
        return [p.read_bytes() for p in files[:limit]]
    window, stride = entry.window_bytes, entry.stride_bytes
    windows = [data[i : i + window] for data in (p.read_bytes() for p in files)
               for i in range(0, len(data) - window + 1, stride)]
    return windows[:limit]
