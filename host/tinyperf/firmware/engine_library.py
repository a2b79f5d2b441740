"""The TFLM engine library, compiled once per (sources, kernels, board, operator set) into the user cache.

Why cached apart from the firmware: the harness and the model data change with every build, TFLM and
CMSIS-NN do not; a second model with the same operators, or a rebuild, links the library already made.
The key hashes the file list itself (which names the TFLM commit, kernels and kernel files), the board's
port and the compiler, so a different TFLM tree or toolchain never reuses a stale library.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from tinyperf.device.boards import Board
from tinyperf.firmware.tflm_files import ENGINE_SOURCES_CMAKE
from tinyperf.tools import run_tool, tool_version

CONFIGURE_TIMEOUT_S = 120.0
COMPILE_TIMEOUT_S = 3600.0
LIBRARY = "libtflm_engine.a"


@dataclass(frozen=True)
class EngineLibrary:
    path: Path
    reused: bool  # True: taken from the cache, nothing compiled


def library_key(board: Board, engine_list: Path, compiler: str, firmware_sources: Path) -> str:
    digest = hashlib.sha256()
    for part in (board.firmware.port if board.firmware else "", tool_version(compiler)):
        digest.update(part.encode() + b"\0")
    for recipe in (engine_list, firmware_sources / "engine" / "CMakeLists.txt",
                   firmware_sources / "cmake" / "tflm_engine.cmake"):
        digest.update(recipe.read_bytes())
    return digest.hexdigest()[:16]


def build_engine_library(board: Board, generated: Path, firmware_sources: Path, cache: Path,
                         kernels: str) -> EngineLibrary:
    assert board.firmware is not None
    compiler = "arm-none-eabi-gcc" if board.firmware.cross_compile else "gcc"
    engine_list = generated / ENGINE_SOURCES_CMAKE
    key = library_key(board, engine_list, compiler, firmware_sources)
    work = cache / f"{board.firmware.port}-{kernels}-{key}"
    library = work / LIBRARY
    if library.is_file():
        return EngineLibrary(library, reused=True)
    argv = ["cmake", "-S", str(firmware_sources / "engine"), "-B", str(work), f"-DTP_BOARD={board.firmware.port}",
            f"-DTP_ENGINE_LIST={engine_list}"]
    if board.firmware.cross_compile:
        argv.append(f"-DCMAKE_TOOLCHAIN_FILE={firmware_sources / 'cmake' / 'arm-none-eabi.cmake'}")
    run_tool(argv, "configuring the TFLM engine library (cmake)", CONFIGURE_TIMEOUT_S)
    run_tool(["cmake", "--build", str(work), "--parallel", str(os.cpu_count() or 2)],
             f"compiling TFLM ({kernels} kernels) for {board.id}", COMPILE_TIMEOUT_S)
    return EngineLibrary(library, reused=False)
