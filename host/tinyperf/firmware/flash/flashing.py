"""`tinyperf flash`: put an ELF on the board, then prove it runs by asking `name%` and `profile%`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tinyperf.device.boards import Board, get_board
from tinyperf.device.dut import Device, Identity
from tinyperf.device.emulate import EmulatedBoard, start_emulated_board
from tinyperf.device.labgrid_place import LabgridPlace
from tinyperf.device.labgrid_place import acquired as labgrid_acquired
from tinyperf.device.link import open_link
from tinyperf.device.ports import find_board_ports
from tinyperf.device.protocol.client import LegacyClient
from tinyperf.errors import ConfigError, ProtocolError, ToolError
from tinyperf.firmware.build import BuildManifest, builds_folder, load_manifest
from tinyperf.firmware.flash.backends import FLASHERS, Flasher, FlashJob
from tinyperf.tools import INSTALL_HINTS

VERIFY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class FlashRequest:
    board: str
    firmware: Path | None = None  # default: the last `tinyperf build` for the board
    method: str | None = None  # default: the board's first method whose tool is installed
    probe: str | None = None
    port: str | None = None  # where to verify; default: the board's USB serial port
    builds_dir: Path = Path("builds")
    dry_run: bool = False
    labgrid_place: str | None = None  # flash through this place's bootstrap driver, verify on its serial port
    labgrid_coordinator: str | None = None


@dataclass
class FlashOutcome:
    board: Board
    method: str
    argv: list[str]
    firmware: Path
    manifest: BuildManifest | None
    identity: Identity | None = None  # None on a dry run
    emulated: EmulatedBoard | None = None  # emulated boards keep running until the caller stops them


def _firmware(board: Board, request: FlashRequest) -> tuple[Path, BuildManifest | None]:
    manifest = load_manifest(request.builds_dir, board.id)
    if request.firmware is not None:
        if not request.firmware.is_file():
            raise ConfigError(f"firmware {request.firmware} does not exist")
        return request.firmware, None
    if manifest is None:
        raise ConfigError(f"no firmware built for {board.id} in {request.builds_dir}/; run `tinyperf build --board "
                          f"{board.id} --benchmark BENCH` or pass --firmware ELF")
    return builds_folder(request.builds_dir, board.id) / manifest.elf, manifest


def _method(board: Board, request: FlashRequest) -> Flasher:
    if request.method is not None:
        if request.method not in board.flash_methods:
            raise ConfigError(f"{board.id} flashes with {', '.join(board.flash_methods)}, not {request.method!r}")
        return FLASHERS.get(request.method)()
    candidates = [FLASHERS.get(m)() for m in board.flash_methods]
    for flasher in candidates:
        if shutil.which(flasher.program):
            return flasher
    hints = "; ".join(f"{f.name}: {INSTALL_HINTS.get(f.program, f.program)}" for f in candidates)
    raise ToolError(f"no flashing tool for {board.id} is installed ({hints})")


def verify(url: str, baud: int, expected_model: str | None) -> Identity:
    """Ask the freshly flashed device who it is; a wrong model means the wrong firmware went on."""
    with open_link(url, baud) as link:
        client = LegacyClient(link, VERIFY_TIMEOUT_S)
        client.drain()
        identity = Device(client).identify()
    if expected_model is not None and identity.model != expected_model:
        raise ProtocolError(f"flashed firmware answers model {identity.model!r}, but the build was for "
                            f"{expected_model!r}")
    return identity


def _board_url(board: Board, request: FlashRequest) -> str:
    if request.port:
        return request.port
    found = find_board_ports(board.usb_ids)
    if len(found) != 1:
        where = "none" if not found else ", ".join(found)
        raise ConfigError(f"flashed, but cannot verify: {len(found)} serial ports look like {board.name} ({where}); "
                          "pass --port")
    return found[0]


def flash_board(request: FlashRequest) -> FlashOutcome:
    board = get_board(request.board)
    if board.simulated:
        raise ConfigError(f"{board.id} is a simulated board: nothing to flash (`tinyperf run` starts it)")
    firmware, manifest = _firmware(board, request)
    expected = manifest.benchmark if manifest else None
    if board.emulator is not None:
        method = board.emulator.kind
        if request.dry_run:
            return FlashOutcome(board, method, [], firmware, manifest)
        emulated = start_emulated_board(board, firmware)
        try:
            identity = verify(emulated.url, board.baud, expected)
        except Exception:
            emulated.stop()
            raise
        return FlashOutcome(board, method, emulated.argv, firmware, manifest, identity, emulated)
    if request.labgrid_place is not None:
        return _flash_through_labgrid(board, request, firmware, manifest, expected)
    flasher = _method(board, request)
    folder = builds_folder(request.builds_dir, board.id) if manifest else None
    job = FlashJob(board, firmware, request.probe, folder)
    argv = flasher.argv(job)
    outcome = FlashOutcome(board, flasher.name, argv, firmware, manifest)
    if request.dry_run:
        return outcome
    flasher.flash(job)
    outcome.identity = verify(_board_url(board, request), board.baud, expected)
    return outcome


def _flash_through_labgrid(board: Board, request: FlashRequest, firmware: Path, manifest: BuildManifest | None,
                           expected: str | None) -> FlashOutcome:
    """`labgrid-client bootstrap` (the place's driver: OpenOCD, pyOCD, ...), then `name%`/`profile%` on the
    place's serial port; the place is released whatever happens."""
    assert request.labgrid_place is not None
    place = LabgridPlace(request.labgrid_place, request.labgrid_coordinator)
    argv = ["labgrid-client", "-p", place.name, "bootstrap", str(firmware)]
    outcome = FlashOutcome(board, f"labgrid place {place.name}", argv, firmware, manifest)
    if request.dry_run:
        return outcome
    with labgrid_acquired([place]) as urls:
        place.bootstrap(firmware)
        outcome.identity = verify(urls[0], board.baud, expected)
    return outcome
