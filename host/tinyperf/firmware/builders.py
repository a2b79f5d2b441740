"""Builders behind one small contract: CMake (host gcc or arm-none-eabi-gcc) and PlatformIO.

Each turns (firmware sources, generated sources, board, engine) into an ELF in an output folder.
Commands are argument lists, run with timeouts; a missing tool names the package to install.
"""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from tinyperf.device.boards import Board
from tinyperf.errors import ConfigError, ToolError
from tinyperf.firmware.memory import does_not_fit
from tinyperf.firmware.named import Registry
from tinyperf.tools import require_tool, run_tool, tool_version

CONFIGURE_TIMEOUT_S = 120.0
COMPILE_TIMEOUT_S = 1800.0  # a full TFLM tree compiles for minutes on two cores


@dataclass(frozen=True)
class BuildJob:
    board: Board
    engine: str  # "test", "ref" or "tflm"
    sources: Path  # firmware/
    generated: Path  # tp_config.h, model_ops.inc, model_data.cc, engine_sources.* (tflm)
    work: Path  # the builder's own build tree
    engine_library: Path | None = None  # tflm: the cached TFLM library (CMake); else compiled in the build


@dataclass(frozen=True)
class Built:
    elf: Path
    toolchain: str


class Builder(ABC):
    name: str

    @abstractmethod
    def build(self, job: BuildJob) -> Built: ...


BUILDERS: Registry[type[Builder]] = Registry("builder")


class CMakeBuilder(Builder):
    """firmware/CMakeLists.txt; bare-metal ports through cmake/arm-none-eabi.cmake."""

    name = "cmake"

    def build(self, job: BuildJob) -> Built:
        assert job.board.firmware is not None
        compiler = "arm-none-eabi-gcc" if job.board.firmware.cross_compile else "gcc"
        require_tool("cmake")
        require_tool(compiler)
        argv = ["cmake", "-S", str(job.sources), "-B", str(job.work), f"-DTP_BOARD={job.board.firmware.port}",
                f"-DTP_ENGINE={job.engine}", f"-DTP_GENERATED_DIR={job.generated}"]
        if job.board.firmware.cross_compile:
            argv.append(f"-DCMAKE_TOOLCHAIN_FILE={job.sources / 'cmake' / 'arm-none-eabi.cmake'}")
        if job.engine_library is not None:
            argv.append(f"-DTP_ENGINE_LIBRARY={job.engine_library}")
        run_tool(argv, "configuring the firmware build (cmake)", CONFIGURE_TIMEOUT_S)
        jobs = str(os.cpu_count() or 2)
        try:
            run_tool(["cmake", "--build", str(job.work), "--parallel", jobs], "compiling the firmware",
                     COMPILE_TIMEOUT_S)
        except ToolError as e:
            overflow = does_not_fit(str(e), job.board, "the firmware")
            if overflow is not None:
                raise overflow from e
            raise
        elf = job.work / ("firmware" if job.board.firmware.port == "posix" else "firmware.elf")
        return Built(elf, tool_version(compiler))


class PlatformIOBuilder(Builder):
    """firmware/platformio.ini; PlatformIO fetches the toolchain (needs its registry); the TFLM file list is
    the one `tinyperf build` wrote for CMake (engine_sources.json), so both builders compile one tree."""

    name = "platformio"

    def build(self, job: BuildJob) -> Built:
        assert job.board.firmware is not None
        env_name = job.board.firmware.platformio_env
        if env_name is None:
            raise ConfigError(f"board {job.board.id} names no platformio_env in its firmware section")
        if job.engine != "tflm":
            raise ConfigError("the PlatformIO build always links TFLM; use --builder cmake for the test engine")
        require_tool("pio")
        env = dict(os.environ, TINYPERF_GENERATED_DIR=str(job.generated), PLATFORMIO_BUILD_DIR=str(job.work))
        run_tool(["pio", "run", "-d", str(job.sources), "-e", env_name], f"PlatformIO build of {env_name}",
                 COMPILE_TIMEOUT_S, env=env)
        return Built(job.work / env_name / "firmware.elf", tool_version("pio"))


BUILDERS.register("cmake", CMakeBuilder)
BUILDERS.register("platformio", PlatformIOBuilder)


def copy_outputs(elf: Path, folder: Path) -> Path:
    """The ELF (and .bin/.hex beside it, when made) into the build folder; returns the copied ELF."""
    target = folder / ("firmware.elf" if elf.suffix == ".elf" else elf.name)
    shutil.copy2(elf, target)
    for suffix in (".bin", ".hex"):
        sibling = elf.with_suffix(suffix)
        if sibling.is_file():
            shutil.copy2(sibling, folder / f"firmware{suffix}")
    return target
