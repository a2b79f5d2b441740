"""`tinyperf build`: from (board, benchmark, model) to a firmware ELF and a build.json saying how.

Why a manifest: a binary built with the test engine (no TFLM on the machine) and one built with
TFLM answer the same protocol; build.json records which path produced which binary, and runs
copy that into their results so no CRC-derived number is ever mistaken for a model's output.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from tinyperf import __version__
from tinyperf.device.boards import Board, get_board
from tinyperf.errors import ConfigError, ModelError
from tinyperf.firmware.arena import arena_estimate_bytes
from tinyperf.firmware.builders import BUILDERS, BuildJob, copy_outputs
from tinyperf.firmware.engine_library import EngineLibrary, build_engine_library
from tinyperf.firmware.generated import firmware_config, write_generated
from tinyperf.firmware.memory import memory_use
from tinyperf.firmware.ref_plan import Plan, build_plan, write_plan
from tinyperf.firmware.sources import PINS, SourceTree, find_tree, resolve_trees, sources_cache
from tinyperf.firmware.tflm_files import Kernels, engine_sources, trees_needed
from tinyperf.resources import data_dir
from tinyperf.suite.models import cache_dir, get_entry, resolve_model, sha256_of
from tinyperf.suite.tflite_info import read_model_info_file

Engine = Literal["auto", "test", "ref", "tflm"]
TimestampMode = Literal["performance", "energy"]
MANIFEST = "build.json"
ENGINE_NOTES = {
    "test": "TEST ENGINE: no TensorFlow Lite Micro linked; results are CRC-32-derived from the input, "
            "not model outputs. Proves harness, protocol and port only.",
    "tflm": "TensorFlow Lite Micro model runner ({kernels} kernels).",
    "ref": "REF ENGINE: tinyperf's own int8 kernels (TFLM reference arithmetic, checked bit-exact against TFLM's "
           "interpreter) on a plan generated from the model; plain C loops, not CMSIS-NN, so times are a "
           "reference kernel's.",
}


@dataclass(frozen=True)
class BuildRequest:
    board: str
    benchmark: str
    model: Path | None = None
    builder: str | None = None  # None: the board's first
    engine: Engine = "auto"
    timestamp_mode: TimestampMode = "performance"
    builds_dir: Path = Path("builds")
    kernels: Kernels | None = None  # tflm: None picks CMSIS-NN on Cortex-M, reference on the host
    source_dirs: dict[str, Path | None] = field(default_factory=dict)  # "tflm", "cmsis_nn", "cmsis"
    download: bool = True  # fetch missing pinned sources into the user cache


@dataclass(frozen=True)
class BuildManifest:
    board: str
    benchmark: str
    engine: str
    engine_note: str
    builder: str
    toolchain: str
    timestamp_mode: str
    model_path: str
    model_sha256: str
    model_official: bool
    elf: str
    elf_sha256: str
    tflm: str | None
    built_at: str
    tinyperf_version: str
    kernels: str | None = None
    sources: dict[str, str] = field(default_factory=dict)  # tree -> where it came from
    memory: dict[str, int] | None = None  # firmware/flash/RAM use and the board's limits (Cortex-M)
    engine_library: str | None = None  # "reused" | "compiled" (tflm)
    build_seconds: float | None = None

    @property
    def path_summary(self) -> str:
        engine = {"test": "test engine (no TFLM)", "ref": "ref engine (tinyperf int8 kernels, no TFLM)"}.get(
            self.engine, f"TFLM {self.tflm}, {self.kernels or 'reference'} kernels")
        return f"{self.builder} + {self.toolchain or 'toolchain ?'}, {engine}"


def builds_folder(builds_dir: Path, board_id: str) -> Path:
    return builds_dir / board_id


def load_manifest(builds_dir: Path, board_id: str) -> BuildManifest | None:
    path = builds_folder(builds_dir, board_id) / MANIFEST
    if not path.is_file():
        return None
    try:
        return BuildManifest(**json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError) as e:
        raise ConfigError(f"{path}: not a tinyperf build manifest ({e}); rebuild with `tinyperf build`") from e


def built_for(builds_dir: Path, board_id: str, benchmark: str) -> BuildManifest:
    """The last firmware `tinyperf build` made for the board; it must run `benchmark`."""
    manifest = load_manifest(builds_dir, board_id)
    build_hint = f"`tinyperf build --board {board_id} --benchmark {benchmark}`"
    if manifest is None:
        raise ConfigError(f"no firmware built for {board_id} in {builds_dir}/; run {build_hint} first "
                          "(or pass --firmware ELF)")
    if manifest.benchmark != benchmark:
        raise ConfigError(f"{builds_folder(builds_dir, board_id)} holds {manifest.benchmark} firmware, "
                          f"not {benchmark}; run {build_hint}")
    return manifest


def _engine_and_plan(request: BuildRequest, builder: str, model: bytes, model_name: str) -> tuple[str, Plan | None]:
    """auto: TFLM where its sources are given (a folder or the verified cache), else the ref engine if it
    runs the model, else the test engine. An explicit --engine ref on a model it cannot run raises the
    plan's ModelError, which names the operator."""
    if request.engine == "auto" and (builder == "platformio" or tflm_available(request)):
        return "tflm", None
    if request.engine == "auto":
        try:
            return "ref", build_plan(model, model_name)
        except ModelError:
            return "test", None
    return request.engine, build_plan(model, model_name) if request.engine == "ref" else None


def tflm_available(request: BuildRequest) -> bool:
    """A TFLM tree is on this machine without downloading: given, in $TFLM_DIR, or verified in the cache."""
    return find_tree(PINS["tflm"], request.source_dirs.get("tflm"), None, sources_cache()) is not None


def _check_buildable(board: Board, request: BuildRequest) -> str:
    if board.simulated:
        raise ConfigError(f"{board.id} is a simulated board: it needs no firmware (`tinyperf run` starts it)")
    if board.firmware is None:
        raise ConfigError(f"tinyperf has no firmware port for {board.id} yet; build its firmware elsewhere and "
                          f"flash it with `tinyperf flash --board {board.id} --firmware ELF`")
    builder = request.builder or _first_installed(board.firmware.builders)
    if builder not in board.firmware.builders:
        raise ConfigError(f"{board.id} builds with {', '.join(board.firmware.builders)}, not {builder!r}")
    if request.timestamp_mode == "energy" and board.firmware.timestamp_pin is None:
        raise ConfigError(f"{board.id} has no timestamp GPIO for an energy monitor; build --timestamp-mode "
                          "performance")
    return builder


def _first_installed(builders: list[str]) -> str:
    """The board's first builder whose tool is here (PlatformIO needs `pio`), else its first."""
    for name in builders:
        if shutil.which("pio" if name == "platformio" else "cmake"):
            return name
    return builders[0]


def default_kernels(board: Board) -> Kernels:
    return "cmsis-nn" if board.firmware is not None and board.firmware.cross_compile else "reference"


def _prepare_tflm(request: BuildRequest, ops: list[str], generated: Path, kernels: Kernels) -> dict[str, SourceTree]:
    """Finds (or fetches) the source trees and writes the file list both builders compile."""
    trees = resolve_trees(trees_needed(kernels), request.source_dirs, request.download)
    engine_sources(trees, ops, kernels).write(generated)
    return trees


def build_firmware(request: BuildRequest) -> BuildManifest:
    started = time.monotonic()
    board = get_board(request.board)
    builder_name = _check_buildable(board, request)
    assert board.firmware is not None
    model = resolve_model(request.benchmark, request.model)
    model_bytes = model.path.read_bytes()
    engine, plan = _engine_and_plan(request, builder_name, model_bytes, model.path.name)
    kernels: Kernels | None = (request.kernels or default_kernels(board)) if engine == "tflm" else None
    if request.kernels is not None and engine != "tflm":
        raise ConfigError(f"--kernels {request.kernels} picks TFLM's kernels; the {engine} engine has none "
                          "(use --engine tflm)")
    entry = get_entry(request.benchmark)
    info = read_model_info_file(model.path)
    arena = arena_estimate_bytes(model.path) if engine == "tflm" else 0
    config = firmware_config(entry, info, request.benchmark, board.vendor_name,
                             request.timestamp_mode == "energy", arena, kernels or "reference", model.sha256)
    folder = builds_folder(request.builds_dir, board.id).resolve()
    generated = folder / "generated"
    write_generated(config, model_bytes, model.path.name, generated)
    if plan is not None:
        write_plan(plan, model.path.name, generated)
    trees: dict[str, SourceTree] = {}
    library: EngineLibrary | None = None
    if engine == "tflm":
        assert kernels is not None
        trees = _prepare_tflm(request, sorted({op.op_type for op in info.ops}), generated, kernels)
        if builder_name == "cmake":
            library = build_engine_library(board, generated, data_dir("firmware"), cache_dir().parent / "tflm-lib",
                                           kernels)
    job = BuildJob(board, engine, data_dir("firmware"), generated, folder / builder_name,
                   library.path if library else None)
    built = BUILDERS.get(builder_name)().build(job)
    elf = copy_outputs(built.elf, folder)
    memory = memory_use(elf, board) if board.firmware.cross_compile else None
    tflm_tree = trees.get("tflm")
    manifest = BuildManifest(
        board=board.id, benchmark=request.benchmark, engine=engine,
        engine_note=ENGINE_NOTES[engine].format(kernels=kernels), builder=builder_name, toolchain=built.toolchain,
        timestamp_mode=request.timestamp_mode, model_path=str(model.path), model_sha256=model.sha256,
        model_official=model.official, elf=elf.name, elf_sha256=sha256_of(elf.read_bytes()),
        tflm=None if tflm_tree is None else _tree_label(tflm_tree),
        built_at=datetime.now().isoformat(timespec="seconds"), tinyperf_version=__version__,
        kernels=kernels, sources={name: tree.describe for name, tree in trees.items()},
        memory=memory.as_dict() if memory else None,
        engine_library=None if library is None else ("reused" if library.reused else "compiled"),
        build_seconds=round(time.monotonic() - started, 1),
    )
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST)
    return manifest


def _tree_label(tree: SourceTree) -> str:
    pinned = PINS["tflm"].commit
    return f"{pinned[:12]} (pinned, verified)" if "verified" in tree.origin else f"user tree {tree.path}"
