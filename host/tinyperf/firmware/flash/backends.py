"""Flashers behind one contract: each builds the argument list its tool needs (never a shell line).

The command is data, so `--dry-run` shows exactly what would run and tests check it without a probe.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from tinyperf.device.boards import Board
from tinyperf.errors import ConfigError, ToolError
from tinyperf.firmware.named import Registry
from tinyperf.resources import data_dir
from tinyperf.tools import run_tool

FLASH_TIMEOUT_S = 180.0
PROBE_HINT = ("check the debug probe: the board's USB (ST-LINK) cable is in, the tool may use it (Linux: the "
              "stlink udev rules), and with several probes choose one with --probe SERIAL")


@dataclass(frozen=True)
class FlashJob:
    board: Board
    firmware: Path  # the ELF (st-flash uses the .bin beside it)
    probe: str | None  # debug probe serial number, when several are plugged in
    build_folder: Path | None  # PlatformIO uploads its own last build from there


class Flasher(ABC):
    name: str
    program: str

    @abstractmethod
    def argv(self, job: FlashJob) -> list[str]: ...

    def flash(self, job: FlashJob) -> str:
        try:
            return run_tool(self.argv(job), f"flashing {job.board.id} with {self.name}", FLASH_TIMEOUT_S)
        except ToolError as e:
            raise ToolError(f"{e}\n{PROBE_HINT}") from e


def _setting(board: Board, value: object, field: str, method: str) -> None:
    if value is None:
        raise ConfigError(f"boards/{board.id}.yaml sets no flash.{field}, which {method} needs")


class OpenOcdFlasher(Flasher):
    name = "openocd"
    program = "openocd"

    def argv(self, job: FlashJob) -> list[str]:
        _setting(job.board, job.board.flash.openocd_config, "openocd_config", self.name)
        argv = ["openocd", "-f", str(job.board.flash.openocd_config)]
        if job.probe:
            argv += ["-c", f"adapter serial {job.probe}"]
        # braces keep a path with spaces one Tcl word
        return [*argv, "-c", f"program {{{job.firmware}}} verify reset exit"]


class PyOcdFlasher(Flasher):
    name = "pyocd"
    program = "pyocd"

    def argv(self, job: FlashJob) -> list[str]:
        _setting(job.board, job.board.flash.pyocd_target, "pyocd_target", self.name)
        argv = ["pyocd", "load", "--target", str(job.board.flash.pyocd_target)]
        if job.probe:
            argv += ["--uid", job.probe]
        return [*argv, str(job.firmware)]


class StFlashFlasher(Flasher):
    name = "st-flash"
    program = "st-flash"

    def argv(self, job: FlashJob) -> list[str]:
        _setting(job.board, job.board.flash.st_flash_address, "st_flash_address", self.name)
        binary = job.firmware.with_suffix(".bin")
        if not binary.is_file():
            raise ConfigError(f"st-flash writes a raw image; {binary} is missing (`tinyperf build` makes it, or "
                              f"arm-none-eabi-objcopy -O binary {job.firmware} {binary})")
        argv = ["st-flash", "--reset"]
        if job.probe:
            argv += ["--serial", job.probe]
        return [*argv, "write", str(binary), hex(int(job.board.flash.st_flash_address or 0))]


class PlatformIOFlasher(Flasher):
    """Uploads PlatformIO's own last build of the board (made by `tinyperf build --builder platformio`)."""

    name = "platformio"
    program = "pio"

    def argv(self, job: FlashJob) -> list[str]:
        _setting(job.board, job.board.flash.platformio_env, "platformio_env", self.name)
        argv = ["pio", "run", "-d", str(data_dir("firmware")), "-e", str(job.board.flash.platformio_env),
                "-t", "nobuild", "-t", "upload"]
        if job.probe:
            argv += ["--upload-port", job.probe]
        return argv

    def flash(self, job: FlashJob) -> str:
        if job.build_folder is None:
            raise ConfigError("the platformio method uploads its own build; run `tinyperf build --builder platformio`")
        env = dict(os.environ, PLATFORMIO_BUILD_DIR=str(job.build_folder / "platformio"),
                   TINYPERF_GENERATED_DIR=str(job.build_folder / "generated"))
        return run_tool(self.argv(job), f"flashing {job.board.id} with PlatformIO", FLASH_TIMEOUT_S, env=env)


FLASHERS: Registry[type[Flasher]] = Registry("flash method")
for _flasher in (OpenOcdFlasher, PyOcdFlasher, StFlashFlasher, PlatformIOFlasher):
    FLASHERS.register(_flasher.name, _flasher)
