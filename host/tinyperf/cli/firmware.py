"""`tinyperf build` and `tinyperf flash`: thin commands over tinyperf.build and tinyperf.firmware.flash."""

from __future__ import annotations

import shlex
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tinyperf.cli.choices import Benchmark, Decorator, TimestampMode
from tinyperf.cli.progress import status


class EngineChoice(str, Enum):
    auto = "auto"
    test = "test"
    ref = "ref"
    tflm = "tflm"


class KernelsChoice(str, Enum):
    reference = "reference"
    cmsis_nn = "cmsis-nn"


def build_summary_lines(manifest: Any) -> list[str]:
    """What a user checks after a build: the sources, the engine library, memory against the board."""
    from tinyperf.firmware.memory import MemoryUse

    lines = [f"  {line}" for line in manifest.sources.values()]
    if manifest.engine_library:
        lines.append(f"  TFLM engine library: {manifest.engine_library} (cached per TFLM commit, kernels, board, ops)")
    if manifest.memory:
        lines.append(f"  {MemoryUse(**manifest.memory).summary()}")
    if manifest.engine in ("test", "ref"):
        lines.append(f"[yellow]{manifest.engine_note}[/]")
    return lines


def register(app: typer.Typer, console: Console, user_errors: Decorator) -> None:
    """Adds the commands to `app` (called by cli/app.py, which owns the console and error handling)."""
    @app.command()
    @user_errors
    def build(
        board: Annotated[str, typer.Option(help="Board id with a firmware port: qemu-mps2-an386, nucleo-l4r5zi, "
                                           "posix-host (see `tinyperf boards`).")],
        benchmark: Annotated[Benchmark, typer.Option(help="Benchmark (model) the firmware runs.")],
        model: Annotated[Path | None, typer.Option(help="A .tflite file instead of the official model.")] = None,
        builder: Annotated[str | None, typer.Option(
            help="cmake or platformio (default: the board's first; nucleo-l4r5zi: platformio).")] = None,
        engine: Annotated[EngineChoice, typer.Option(
            help="tflm: TensorFlow Lite Micro at the pinned commit (from --tflm-dir, else downloaded once into "
            "the user cache and verified); ref: tinyperf's own int8 kernels, bit-exact with TFLM's reference "
            "kernels, needing no TFLM tree (int8 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, "
            "RESHAPE, SOFTMAX, ADD); test: a CRC-32 stand-in that proves harness, protocol and port; auto: tflm "
            "when its sources are on this machine or PlatformIO builds, else ref if it runs the model, else test.")]
        = EngineChoice.auto,
        kernels: Annotated[KernelsChoice | None, typer.Option(
            help="TFLM's kernels: cmsis-nn (Arm's optimised int8 kernels; the default on Cortex-M) or reference "
            "(the default on posix-host).")] = None,
        timestamp_mode: Annotated[TimestampMode, typer.Option(
            help="performance: timestamps print m-lap-us; energy: they pulse the timestamp GPIO (D7).")]
        = TimestampMode.performance,
        tflm_dir: Annotated[Path | None, typer.Option(
            help="A tensorflow/tflite-micro checkout (default: $TFLM_DIR, else the pinned commit, downloaded).")]
        = None,
        cmsis_nn_dir: Annotated[Path | None, typer.Option(
            help="An ARM-software/CMSIS-NN checkout (default: $CMSIS_NN_DIR, else the pinned commit).")] = None,
        cmsis_dir: Annotated[Path | None, typer.Option(
            help="An ARM-software/CMSIS_6 checkout (default: $CMSIS_DIR, else the pinned commit).")] = None,
        offline: Annotated[bool, typer.Option(
            "--offline", help="Never download sources; use the folders given and the verified cache.")] = False,
        builds_dir: Annotated[Path, typer.Option(help="Output: BUILDS_DIR/<board>/ (firmware.elf, build.json).")]
        = Path("builds"),
    ) -> None:
        """Build the device harness for a board: generate its config from the model, then compile.

        The result, BUILDS_DIR/<board>/firmware.elf with build.json saying which toolchain and which
        engine (TFLM, ref or test engine) made it, is what `tinyperf flash` and `tinyperf run` use.
        """
        from tinyperf.firmware.build import BuildRequest, build_firmware, builds_folder

        request = BuildRequest(board=board, benchmark=benchmark.value, model=model, builder=builder,
                               engine=engine.value, timestamp_mode=timestamp_mode.value, builds_dir=builds_dir,
                               kernels=kernels.value if kernels else None, download=not offline,
                               source_dirs={"tflm": tflm_dir, "cmsis_nn": cmsis_nn_dir, "cmsis": cmsis_dir})
        with status(f"building {benchmark.value} firmware for {board} (TFLM's first build for a board and "
                            "kernel set takes minutes; later ones reuse it)"):
            started = time.monotonic()
            manifest = build_firmware(request)
        console.print(f"built {builds_folder(builds_dir, board) / manifest.elf} in {time.monotonic() - started:.1f} s "
                      f"({manifest.path_summary})", highlight=False, soft_wrap=True)
        for line in build_summary_lines(manifest):
            console.print(line, highlight=False, soft_wrap=True)

    @app.command()
    @user_errors
    def flash(
        board: Annotated[str, typer.Option(help="Board id (see `tinyperf boards`).")],
        firmware: Annotated[Path | None, typer.Option(
            help="ELF to flash (default: BUILDS_DIR/<board>/ from `tinyperf build`).")] = None,
        method: Annotated[str | None, typer.Option(
            help="openocd, pyocd, st-flash or platformio (default: the board's first installed one). "
            "Emulated boards use qemu / process.")] = None,
        probe: Annotated[str | None, typer.Option(help="Debug probe serial number, when several are connected.")]
        = None,
        port: Annotated[str | None, typer.Option(help="Serial port to verify on (default: found by USB id).")] = None,
        builds_dir: Annotated[Path, typer.Option(help="Where `tinyperf build` put the firmware.")] = Path("builds"),
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the flashing command; run nothing.")] = False,
        labgrid_place: Annotated[str | None, typer.Option(
            help="Flash a board in a labgrid farm: acquire the place, `labgrid-client bootstrap` through its "
            "driver, verify on its serial port, release it.")] = None,
        labgrid_coordinator: Annotated[str | None, typer.Option(
            help="labgrid coordinator host:port (default: $LG_COORDINATOR, else 127.0.0.1:20408).")] = None,
    ) -> None:
        """Flash a board, then check it answers `name%` and `profile%` with the model that was built.

        For an emulated board (qemu-mps2-an386) this starts QEMU with the firmware, verifies it and
        keeps it running, printing the URL a runner connects to, until Ctrl-C.
        """
        from tinyperf.firmware.flash.flashing import FlashRequest, flash_board

        request = FlashRequest(board=board, firmware=firmware, method=method, probe=probe, port=port,
                               builds_dir=builds_dir, dry_run=dry_run, labgrid_place=labgrid_place,
                               labgrid_coordinator=labgrid_coordinator)
        with status(f"flashing {board}"):
            outcome = flash_board(request)
        if dry_run:
            shown = shlex.join(outcome.argv) if outcome.argv else f"start {outcome.method} with {outcome.firmware}"
            console.print(f"would run: {shown}", highlight=False, soft_wrap=True)
            return
        table = Table(title=f"{board} flashed with {outcome.method}")
        table.add_column("check", no_wrap=True)
        table.add_column("answer", overflow="fold")
        assert outcome.identity is not None
        table.add_row("firmware", str(outcome.firmware))
        table.add_row("name%", outcome.identity.name)
        table.add_row("profile%", f"{outcome.identity.profile} / model {outcome.identity.model}")
        if outcome.manifest is not None:
            table.add_row("built with", outcome.manifest.path_summary)
        console.print(table)
        if outcome.emulated is not None:
            console.print(f"running at {outcome.emulated.url} (e.g. tinyperf run --board {board} --port "
                          f"{outcome.emulated.url} --mode performance); Ctrl-C stops it", highlight=False,
                          soft_wrap=True)
            try:
                outcome.emulated.process.wait()
            finally:
                outcome.emulated.stop()
