"""Loads boards/*.yaml into validated, immutable Board objects.

Why a schema: a typo in a board file must fail at load time naming the file and field, not as a
strange timeout halfway through a run.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tinyperf.errors import ConfigError
from tinyperf.resources import data_dir

if TYPE_CHECKING:
    from tinyperf.suite.tflite_info import ModelInfo

_USB_ID = re.compile(r"^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$")


class OpCost(BaseModel):
    """Cycles an operator type costs: per multiply-accumulate and per output element."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    cycles_per_mac: float = Field(ge=0)
    cycles_per_output: float = Field(ge=0)


class TimingModel(BaseModel):
    """A declared cycle model: op_overhead + MACs x cycles/MAC + outputs x cycles/output, per op."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    # benchmarks whose published silicon latencies the costs were fitted to; any other model's time is an
    # extrapolation from its operators and MACs, with nothing published to check it against
    fitted_to: tuple[str, ...] = ()
    op_overhead_cycles: float = Field(ge=0)
    default: OpCost
    ops: dict[str, OpCost] = Field(default_factory=dict)
    # streaming wakeword: cycles of one frame's feature extraction (FFT, mel, log), beside the model
    frontend_cycles: float = Field(default=0.0, ge=0)

    def op_cycles(self, op_type: str, macs: int, outputs: int) -> float:
        cost = self.ops.get(op_type, self.default)
        return self.op_overhead_cycles + macs * cost.cycles_per_mac + outputs * cost.cycles_per_output

    def inference_cycles(self, model: ModelInfo) -> float:
        return sum(self.op_cycles(op.op_type, op.macs, op.output_elements) for op in model.ops)


class FirmwareSpec(BaseModel):
    """How tinyperf builds the device harness for this board (firmware/ports/<port>)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    port: str
    builders: tuple[Literal["cmake", "platformio"], ...] = Field(min_length=1)  # the first is the default
    cross_compile: bool = True  # arm-none-eabi-gcc (False: the host's gcc)
    platformio_env: str | None = None
    timer: str  # what times inference on the device, as results report it
    timestamp_pin: str | None = None  # energy mode's GPIO; None: no energy-mode firmware


class EmulatorSpec(BaseModel):
    """A board that runs real firmware in an emulator (QEMU) or as a host process."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["qemu", "process"]
    machine: str | None = None  # qemu -M
    icount_shift: int | None = Field(default=None, ge=0, le=10)  # 2^shift ns per instruction
    timing_note: str


class FlashSpec(BaseModel):
    """Per-tool settings for putting an ELF on the board."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    openocd_config: str | None = None  # e.g. board/st_nucleo_l4.cfg
    pyocd_target: str | None = None  # e.g. stm32l4r5zitx
    st_flash_address: int | None = None  # where the .bin goes, e.g. 0x08000000
    platformio_env: str | None = None


class Board(BaseModel):
    """What a board is: chip, clock, link settings, USB ids, flashing methods, timing model."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    name: str
    mcu: str
    core: str
    clock_hz: int = Field(gt=0)
    flash_kb: int = Field(gt=0)
    ram_kb: int = Field(gt=0)
    baud: int = Field(gt=0)
    usb_ids: tuple[str, ...] = ()
    flash_methods: tuple[str, ...] = ()
    max_input_bytes: int = Field(gt=0)
    simulated: bool = False
    simulates: str | None = None
    vendor_name: str = "tinyperf"
    timing: TimingModel | None = None
    # other software stacks' cycle models, by name (e.g. x-cube-ai); `streaming_timing` names the one a
    # simulated board uses for sww01, whose reference submission runs on that stack
    timing_profiles: dict[str, TimingModel] = Field(default_factory=dict)
    streaming_timing: str | None = None
    baud_rates: tuple[int, ...] = ()  # rates the board's firmware and link are known to run
    uart: str | None = None  # which UART the protocol uses, for people wiring a bench
    firmware: FirmwareSpec | None = None
    emulator: EmulatorSpec | None = None
    flash: FlashSpec = FlashSpec()

    def timing_named(self, name: str | None) -> TimingModel:
        """The default cycle model (None or "default"), or one of `timing_profiles`."""
        if name in (None, "default"):
            assert self.timing is not None, f"{self.id} has no timing model"
            return self.timing
        if name not in self.timing_profiles:
            raise ConfigError(f"{self.id} has no timing profile {name!r}; it has: default, "
                              + ", ".join(self.timing_profiles))
        return self.timing_profiles[name]

    @property
    def kind(self) -> str:
        return "simulated" if self.simulated else "emulated" if self.emulator else "hardware"

    @field_validator("usb_ids")
    @classmethod
    def _usb_ids_are_vid_pid(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not _USB_ID.match(item):
                raise ValueError(f"USB id {item!r} is not VID:PID in hex, e.g. '0483:374B'")
        return tuple(v.upper() for v in value)


def _format_validation(path: Path, error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{path}: field '{where}': {first['msg']} ({len(error.errors())} problem(s) in this file)"


def load_board_file(path: Path) -> Board:
    """Parse one board YAML; every problem names the file (and line for YAML syntax errors)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); save the board file as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{line} is not valid YAML: {getattr(e, 'problem', e)}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of board fields at the top level")
    try:
        board = Board.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_format_validation(path, e)) from e
    if board.id != path.stem:
        raise ConfigError(f"{path}: field 'id' is {board.id!r} but the file name says {path.stem!r}")
    if board.emulator is not None and board.firmware is None:
        raise ConfigError(f"{path}: an emulated board needs a 'firmware' section (the port it runs)")
    if board.simulated and board.timing is None:
        raise ConfigError(f"{path}: a simulated board needs a 'timing' model")
    if board.streaming_timing is not None and board.streaming_timing not in board.timing_profiles:
        raise ConfigError(f"{path}: streaming_timing {board.streaming_timing!r} is not one of its timing_profiles")
    return board


@cache
def load_boards(folder: Path | None = None) -> dict[str, Board]:
    """All boards of a folder (default: the built-in boards/), keyed by id."""
    folder = folder or data_dir("boards")
    boards = {}
    for path in sorted(folder.glob("*.yaml")):
        board = load_board_file(path)
        boards[board.id] = board
    return boards


def get_board(board_id: str, folder: Path | None = None) -> Board:
    boards = load_boards(folder)
    if board_id not in boards:
        known = ", ".join(sorted(boards))
        raise ConfigError(f"unknown board {board_id!r}; known boards: {known} (see `tinyperf boards`)")
    return boards[board_id]
