"""`tinyperf build`: from (board, benchmark, model) to a firmware ELF and a build.json saying how.

Why a manifest: a binary built with the test engine (no TFLM on the machine) and one built with
TFLM answer the same protocol; build.json records which path produced which binary, and runs
copy that into their results so no CRC-derived number is ever mistaken for a model's output.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from tinyperf import __version__
from tinyperf.arena import arena_estimate_bytes
from tinyperf.boards import Board, get_board
from tinyperf.build.builders import BUILDERS, BuildJob, copy_outputs
from tinyperf.build.generated import firmware_config, write_generated
from tinyperf.build.ref_plan import Plan, build_plan, write_plan
from tinyperf.errors import ConfigError, ModelError
from tinyperf.models import get_entry, resolve_model, sha256_of
from tinyperf.resources import data_dir
from tinyperf.tflite_info import read_model_info_file

Engine = Literal["auto", "test", "ref", "tflm"]
TimestampMode = Literal["performance", "energy"]
MANIFEST = "build.json"
# The TFLM commit the PlatformIO build pins: the one the host's tflite-micro wheel (the bit-exact
# reference interpreter) was built from, so device and host run the same kernels.
TFLM_PINNED_COMMIT = "8f6596d"
ENGINE_NOTES = {
    "test": "TEST ENGINE: no TensorFlow Lite Micro linked; results are CRC-32-derived from the input, "
            "not model outputs. Proves harness, protocol and port only.",
    "tflm": "TensorFlow Lite Micro model runner (reference kernels).",
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
    tflm_dir: Path | None = None


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

    @property
    def path_summary(self) -> str:
        engine = {"test": "test engine (no TFLM)", "ref": "ref engine (tinyperf int8 kernels, no TFLM)"}.get(
            self.engine, f"TFLM ({self.tflm})")
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


def _engine_and_plan(request: BuildRequest, builder: str, tflm_dir: Path | None, model: bytes,
                     model_name: str) -> tuple[str, Plan | None]:
    """auto: TFLM where there is one, else the ref engine if it runs the model, else the test engine.
    The ref engine's plan comes with it, made once (an explicit --engine ref on a model it cannot run
    raises the plan's ModelError, which names the operator)."""
    if request.engine == "auto" and (tflm_dir is not None or builder == "platformio"):
        return "tflm", None
    if request.engine == "auto":
        try:
            return "ref", build_plan(model, model_name)
        except ModelError:
            return "test", None
    return request.engine, build_plan(model, model_name) if request.engine == "ref" else None


def _check_buildable(board: Board, request: BuildRequest) -> str:
    if board.simulated:
        raise ConfigError(f"{board.id} is a simulated board: it needs no firmware (`tinyperf run` starts it)")
    if board.firmware is None:
        raise ConfigError(f"tinyperf has no firmware port for {board.id} yet; build its firmware elsewhere and "
                          f"flash it with `tinyperf flash --board {board.id} --firmware ELF`")
    builder = request.builder or board.firmware.builders[0]
    if builder not in board.firmware.builders:
        raise ConfigError(f"{board.id} builds with {', '.join(board.firmware.builders)}, not {builder!r}")
    if request.timestamp_mode == "energy" and board.firmware.timestamp_pin is None:
        raise ConfigError(f"{board.id} has no timestamp GPIO for an energy monitor; build --timestamp-mode "
                          "performance")
    return builder


def build_firmware(request: BuildRequest) -> BuildManifest:
    board = get_board(request.board)
    builder_name = _check_buildable(board, request)
    assert board.firmware is not None
    env_tflm = os.environ.get("TFLM_DIR")
    tflm_dir = request.tflm_dir or (Path(env_tflm) if env_tflm else None)
    model = resolve_model(request.benchmark, request.model)
    model_bytes = model.path.read_bytes()
    engine, plan = _engine_and_plan(request, builder_name, tflm_dir, model_bytes, model.path.name)
    if engine == "tflm" and builder_name == "cmake" and tflm_dir is None:
        raise ConfigError("--engine tflm with CMake needs a TFLM tree: --tflm-dir DIR or TFLM_DIR (made by TFLM's "
                          "create_tflm_tree.py at commit " + TFLM_PINNED_COMMIT + "); or --engine test")
    entry = get_entry(request.benchmark)
    info = read_model_info_file(model.path)
    arena = arena_estimate_bytes(model.path) if engine == "tflm" else 0
    config = firmware_config(entry, info, request.benchmark, board.vendor_name,
                             request.timestamp_mode == "energy", arena)
    folder = builds_folder(request.builds_dir, board.id).resolve()
    write_generated(config, model_bytes, model.path.name, folder / "generated")
    if plan is not None:
        write_plan(plan, model.path.name, folder / "generated")
    job = BuildJob(board, engine, data_dir("firmware"), folder / "generated", folder / builder_name, tflm_dir)
    built = BUILDERS.get(builder_name)().build(job)
    elf = copy_outputs(built.elf, folder)
    manifest = BuildManifest(
        board=board.id, benchmark=request.benchmark, engine=engine, engine_note=ENGINE_NOTES[engine],
        builder=builder_name, toolchain=built.toolchain, timestamp_mode=request.timestamp_mode,
        model_path=str(model.path), model_sha256=model.sha256, model_official=model.official,
        elf=elf.name, elf_sha256=sha256_of(elf.read_bytes()),
        tflm=None if engine in ("test", "ref") else str(tflm_dir or f"pinned commit {TFLM_PINNED_COMMIT}"),
        built_at=datetime.now().isoformat(timespec="seconds"), tinyperf_version=__version__,
    )
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST)
    return manifest
