"""Resetting a real board through its debug probe, so a hung device can be brought back mid-run."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from tinyperf.device.boards import Board
from tinyperf.tools import run_tool

RESET_TIMEOUT_S = 30.0


def reset_argv(board: Board) -> list[str] | None:
    """The first installed probe tool that can reset this board, as an argument list."""
    flash = board.flash
    if flash.openocd_config and shutil.which("openocd"):
        return ["openocd", "-f", str(flash.openocd_config), "-c", "init", "-c", "reset run", "-c", "shutdown"]
    if flash.st_flash_address is not None and shutil.which("st-flash"):
        return ["st-flash", "reset"]
    if flash.pyocd_target and shutil.which("pyocd"):
        return ["pyocd", "reset", "--target", str(flash.pyocd_target)]
    return None


def board_reset_action(board: Board) -> Callable[[], None] | None:
    """A callable that resets `board`, or None when no probe tool is installed (then runs re-sync only)."""
    argv = reset_argv(board)
    if argv is None:
        return None

    def reset() -> None:
        run_tool(argv, f"resetting {board.id}", RESET_TIMEOUT_S)

    return reset
