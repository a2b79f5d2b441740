"""Lists serial ports and says which known board or energy monitor each looks like (by USB id)."""

from __future__ import annotations

from dataclasses import dataclass

from serial.tools import list_ports

from tinyperf.device.boards import Board, load_boards
from tinyperf.errors import LinkError

# Energy monitors' USB ids (their driver profiles arrive with energy mode).
LPM01A_USB_ID = "0483:5740"
KNOWN_MONITORS = {LPM01A_USB_ID: "ST X-NUCLEO-LPM01A (PowerShield)", "16D0:10BA": "Joulescope JS220"}


@dataclass(frozen=True)
class PortInfo:
    device: str
    usb_id: str | None
    description: str
    looks_like: str | None


def identify(usb_id: str | None) -> str | None:
    if usb_id is None:
        return None
    matches = [f"board {b.id}" for b in load_boards().values() if usb_id in b.usb_ids]
    if usb_id in KNOWN_MONITORS:
        matches.append(f"monitor {KNOWN_MONITORS[usb_id]}")
    return ", ".join(matches) or None


def list_serial_ports() -> list[PortInfo]:
    ports = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        usb_id = f"{port.vid:04X}:{port.pid:04X}" if port.vid is not None and port.pid is not None else None
        ports.append(PortInfo(port.device, usb_id, port.description or "", identify(usb_id)))
    return ports


def find_board_ports(usb_ids: tuple[str, ...]) -> list[str]:
    return [p.device for p in list_serial_ports() if p.usb_id in usb_ids]


def board_port(board: Board) -> str:
    """The one connected serial port that looks like `board` (by USB id); an error says what to pass."""
    found = find_board_ports(board.usb_ids)
    if len(found) == 1:
        return found[0]
    if not found:
        raise LinkError(
            f"no --port given and no {board.name} (USB {', '.join(board.usb_ids) or 'id unknown'}) is "
            "connected; pass --port PATH (see `tinyperf ports`)"
        )
    raise LinkError(f"several {board.name} boards are connected ({', '.join(found)}); choose one with --port")
