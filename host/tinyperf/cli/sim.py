"""`tinyperf sim`: a simulated board, or a whole simulated bench, for any runner (ours or another)."""

from __future__ import annotations

import signal
import threading
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tinyperf.cli.choices import Benchmark, Decorator, Pacing, TimestampMode
from tinyperf.cli.common import EXIT_USER_ERROR


class ResultsFormat(str, Enum):
    reference = "reference"
    printf3 = "printf3"


def register(app: typer.Typer, console: Console, err_console: Console, user_errors: Decorator) -> None:
    """Adds `sim` to `app` (cli/app.py owns the consoles and error handling)."""

    @app.command()
    @user_errors
    def sim(
        board: Annotated[str, typer.Option(help="Simulated board id.")] = "sim-nucleo-l4r5zi",
        benchmark: Annotated[Benchmark, typer.Option(help="Model the simulated firmware runs.")] = Benchmark.kws01,
        model: Annotated[Path | None, typer.Option(help="A .tflite file instead of the official model.")] = None,
        pacing: Annotated[Pacing, typer.Option(
            help="virtual (instant: device time is modelled) or realtime (as slow as the board). A bench is "
            "always realtime.")] = Pacing.virtual,
        baud: Annotated[int | None, typer.Option(help="Baud rate the simulated UART paces at.")] = None,
        tcp_port: Annotated[int | None, typer.Option(
            help="Serve on socket://127.0.0.1:PORT instead of a pseudo-terminal.")] = None,
        bench: Annotated[bool, typer.Option(
            "--bench", help="A whole bench: the board, the enhanced interface board and the LPM01A, wired as on "
            "a real bench (energy: the board behind the interface board at 9600 baud, powered by the LPM01A), "
            "in real time, for the official runner or tinyperf. Prints each port.")] = False,
        mode: Annotated[TimestampMode, typer.Option(
            help="With --bench: the firmware's timestamp mode (performance also serves accuracy).")]
        = TimestampMode.energy,
        ports_file: Annotated[Path | None, typer.Option(
            help="With --bench: write the ports and each role's real USB identity here (JSON).")] = None,
        sd_card: Annotated[Path | None, typer.Option(
            help="Folder of WAV files the simulated interface board's SD card holds (ls, play).")] = None,
        legacy_only: Annotated[bool, typer.Option(
            "--legacy-only", help="Unmodified MLPerf Tiny firmware: no tinyperf protocol extension.")] = False,
        interface_baud: Annotated[int | None, typer.Option(
            help="Answer as an interface board relaying to the board at this baud (`dut <cmd>%`).")] = None,
        energy_wire: Annotated[Path | None, typer.Option(
            help="Energy mode: tell a simulated monitor started with --wire PATH about edges and power.")] = None,
        results_format: Annotated[ResultsFormat, typer.Option(
            help="reference: m-results as the benchmark's reference firmware prints them (KWS truncates each "
            "score, VWW ends with a comma); printf3: '%0.3f' (tinyperf's own firmware).")]
        = ResultsFormat.reference,
        max_baud: Annotated[int | None, typer.Option(
            help="Fastest rate the simulated link carries; faster switches garble every byte.")] = None,
        reuses_input_tensor: Annotated[bool, typer.Option(
            "--reuses-input-tensor", help="Firmware whose repeated inference changes its own input.")] = False,
        slowdown: Annotated[float, typer.Option(help="Inference time x this (a regression to catch).")] = 1.0,
        window_jitter: Annotated[float, typer.Option(help="Relative spread of inference time per command.")]
        = 0.0,
        jitter_seed: Annotated[int, typer.Option(help="Seed of the jitter.")] = 0,
        fault: Annotated[list[str] | None, typer.Option(
            help="With --bench: build the bench wrong on purpose, as `tinyperf doctor` must catch; repeatable. "
            "no-timestamp-wire, usb-powered, stopped-clock, slow-baud, monitor-drops, old-monitor-firmware.")]
        = None,
    ) -> None:
        """Start a simulated board (or with --bench a whole simulated bench) and print its port(s).

        Everything a run can ask of a simulated board is an option here, so other runners can drive the
        same board tinyperf does. Results are simulated: times and energy come from declared models.
        """
        from tinyperf.device.boards import get_board
        from tinyperf.errors import ConfigError
        from tinyperf.suite.models import resolve_model

        if not get_board(board).simulated:
            raise ConfigError(f"{board} is a hardware board; `tinyperf sim` needs a simulated one (sim-...)")
        resolved = resolve_model(benchmark.value, model)
        options: dict[str, Any] = {"slowdown": slowdown, "window_jitter": window_jitter, "jitter_seed": jitter_seed,
                                   "results_format": results_format.value, "reuses_input_tensor": reuses_input_tensor,
                                   "max_baud": max_baud}
        if fault and not bench:
            raise ConfigError("--fault needs --bench (faults are in the bench's wiring, firmware and monitor)")
        if bench:
            options["baud"] = baud
            options["faults"] = tuple(fault or ())
            _serve_bench(console, err_console, board, benchmark.value, resolved.path, mode.value, ports_file,
                         sd_card, options)
            return
        from tinyperf.sim.board.server import main as serve

        err_console.print(f"simulated {board} running {benchmark.value}; connect a runner to the path below "
                          f"(e.g. tinyperf run --board {board} --port PATH ...). Ctrl-C stops it.")
        argv = ["--board", board, "--benchmark", benchmark.value, "--model", str(resolved.path),
                "--pacing", pacing.value, "--results-format", results_format.value,
                "--slowdown", str(slowdown), "--window-jitter", str(window_jitter), "--jitter-seed", str(jitter_seed)]
        for flag, value in (("--baud", baud), ("--tcp-port", tcp_port), ("--interface-baud", interface_baud),
                            ("--energy-wire", energy_wire), ("--sd-card", sd_card), ("--max-baud", max_baud)):
            argv += [flag, str(value)] if value is not None else []
        argv += ["--legacy-only"] if legacy_only else []
        argv += ["--reuses-input-tensor"] if reuses_input_tensor else []
        raise typer.Exit(serve(argv))


def _serve_bench(console: Console, err_console: Console, board: str, benchmark: str, model: Path, mode: str,
                 ports_file: Path | None, sd_card: Path | None, options: dict[str, Any]) -> None:
    """Start the bench, print its ports, serve until Ctrl-C or SIGTERM, then stop every process."""
    from tinyperf.sim.bench import start_bench
    from tinyperf.sim.board.truth import simulated_truth
    from tinyperf.suite.models import get_entry

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with start_bench(board, benchmark, model, mode, sd_card=sd_card, **options) as sim_bench:
            for device in sim_bench.describe()["devices"]:
                console.print(f"{device['role']:<9} {device['name']:<14} {device['port']}  "
                              f"(on a real bench: USB {device['vid']}:{device['pid']})", highlight=False)
            if ports_file is not None:
                sim_bench.write_ports_file(ports_file)
            if get_entry(benchmark).streaming:
                told = "the x-cube-ai cycle model per 32 ms frame (`tinyperf run` results say how it was made)."
            else:
                truth = simulated_truth(board, model, mode)
                scale = options["slowdown"]
                told = f"{truth['latency_ms'] * scale:.3f} ms/inf."
                told += f", {truth['energy_uj'] * scale:.3f} uJ/inf." if "energy_uj" in truth else ""
            if sim_bench.faults:
                from tinyperf.sim.bench_faults import BENCH_FAULTS

                for name in sim_bench.faults:
                    err_console.print(f"fault {name}: {BENCH_FAULTS[name]}", soft_wrap=True, highlight=False)
            err_console.print(f"SIMULATED bench ({mode} mode, real time) of {board} running {benchmark}. "
                              f"Its truth by the declared models: {told} Ctrl-C stops it.", soft_wrap=True)
            while not stop.wait(0.5):
                dead = [p.url for p in sim_bench.processes if p.process.poll() is not None]
                if dead:
                    err_console.print(f"error: the simulated device on {dead[0]} exited; the bench is stopped")
                    raise typer.Exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
