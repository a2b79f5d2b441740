"""The `tinyperf` command: parses options, calls the library, renders with rich. No logic lives here."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tinyperf import __version__
from tinyperf.boards import load_boards
from tinyperf.errors import TinyperfError
from tinyperf.modes.performance import PerformanceSettings
from tinyperf.runner import RunOutcome, RunRequest, execute

app = typer.Typer(
    help="Benchmark TinyML firmware over the MLPerf Tiny / EEMBC device protocol "
    "(real boards or the built-in simulated board).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="Make and inspect EEMBC-format dataset folders.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")
console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}


class Benchmark(str, Enum):
    kws01 = "kws01"
    vww01 = "vww01"
    ad01 = "ad01"
    ic01 = "ic01"


class ModeName(str, Enum):
    performance = "performance"
    accuracy = "accuracy"


class Pacing(str, Enum):
    virtual = "virtual"
    realtime = "realtime"


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show a TinyperfError as one line and exit 2; tracebacks only with --debug."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TinyperfError as e:
            if _state["debug"]:
                raise
            err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
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
        kind = "simulated" if board.simulated else "hardware"
        table.add_row(board.id, kind, board.name, board.core, f"{board.clock_hz / 1e6:g} MHz", str(board.baud),
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


def _render_outcome(outcome: RunOutcome, mode: str) -> None:
    f = outcome.figures
    sim = " [bold yellow](simulated)[/]" if outcome.board.simulated else ""
    table = Table(title=f"{outcome.identity.model} {mode} on {outcome.board.id}{sim}")
    table.add_column("figure", no_wrap=True)
    table.add_column("value", justify="right", overflow="fold")
    if mode == "performance":
        table.add_row("median throughput", f"{f['median_throughput']:.3f} inf./s")
        table.add_row("latency", f"{f['latency_ms']:.3f} ms")
        table.add_row("window min / max", f"{f['min_throughput']:.3f} / {f['max_throughput']:.3f} inf./s")
        table.add_row("window CV", f"{f['cv_percent']:.2f} %")
        table.add_row("windows x inferences", f"{len(f['windows'])} x {f['windows'][0]['count']}")
        table.add_row("valid (MLPerf rules)", "yes" if f["valid"] else "[red]NO: " + "; ".join(f["problems"]))
    elif "auc" in f:
        table.add_row("AUC", f"{f['auc']:.3f}")
        table.add_row("samples", str(len(f["samples"])))
    else:
        table.add_row("top-1", f"{f['top1_percent']:.2f} %")
        table.add_row("samples", str(len(f["samples"])))
    table.add_row("model", outcome.model.label)
    if mode == "accuracy":
        table.add_row("dataset", outcome.dataset_note)
    table.add_row("session", str(outcome.session.root))
    console.print(table)
    console.print(f"session folder: {outcome.session.root}", soft_wrap=True, highlight=False)


@app.command()
@user_errors
def run(
    board: Annotated[str, typer.Option(help="Board id (see `tinyperf boards`), e.g. sim-nucleo-l4r5zi.")],
    benchmark: Annotated[Benchmark, typer.Option(help="MLPerf Tiny benchmark the firmware runs.")],
    mode: Annotated[ModeName, typer.Option(help="performance: 5 timed windows; accuracy: every dataset row.")],
    port: Annotated[
        str | None,
        typer.Option(help="Serial port or URL (/dev/ttyACM0, a pty path, socket://host:port). "
                     "Simulated boards start their own; real boards are found by USB id."),
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="EEMBC dataset folder (y_labels.csv + .bin files).")
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
) -> None:
    """Run one benchmark in one mode and write a session folder (log.txt, results.txt, results.json)."""
    request = RunRequest(
        board=board, benchmark=benchmark.value, mode=mode.value, port=port, dataset=dataset, model=model,
        sessions_dir=sessions_dir, pacing=pacing.value, baud=baud, timeout_s=timeout,
        performance=PerformanceSettings(min_window_s=min_window),
    )
    with _progress() as progress:
        outcome = execute(request, RichProgress(progress, benchmark.value))
    _render_outcome(outcome, mode.value)
    if mode == ModeName.performance and not outcome.figures["valid"]:
        raise typer.Exit(1)


@app.command()
@user_errors
def sim(
    board: Annotated[str, typer.Option(help="Simulated board id.")] = "sim-nucleo-l4r5zi",
    benchmark: Annotated[Benchmark, typer.Option(help="Model the simulated firmware runs.")] = Benchmark.kws01,
    model: Annotated[Path | None, typer.Option(help="A .tflite file instead of the official model.")] = None,
    pacing: Annotated[Pacing, typer.Option(help="virtual (instant) or realtime.")] = Pacing.virtual,
    baud: Annotated[int | None, typer.Option(help="Baud rate the simulated UART paces at.")] = None,
    tcp_port: Annotated[
        int | None, typer.Option(help="Serve on socket://127.0.0.1:PORT instead of a pseudo-terminal.")
    ] = None,
) -> None:
    """Start a simulated board on a pseudo-terminal and print its path, for use with any runner."""
    from tinyperf.boards import get_board
    from tinyperf.errors import ConfigError
    from tinyperf.models import resolve_model
    from tinyperf.sim.server import main as serve

    if not get_board(board).simulated:
        raise ConfigError(f"{board} is a hardware board; `tinyperf sim` needs a simulated one (sim-...)")
    resolved = resolve_model(benchmark.value, model)
    err_console.print(f"simulated {board} running {benchmark.value}; connect a runner to the path below "
                      f"(e.g. tinyperf run --board {board} --port PATH ...). Ctrl-C stops it.")
    argv = ["--board", board, "--benchmark", benchmark.value, "--model", str(resolved.path),
            "--pacing", pacing.value]
    argv += ["--baud", str(baud)] if baud else []
    argv += ["--tcp-port", str(tcp_port)] if tcp_port is not None else []
    raise typer.Exit(serve(argv))


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


@app.command()
@user_errors
def demo(
    sessions_dir: Annotated[Path, typer.Option(help="Where session folders are written.")] = Path("sessions"),
    accuracy_samples: Annotated[int, typer.Option(help="Samples in the kws01 agreement set.")] = 100,
) -> None:
    """The whole job on the built-in simulated board: performance of kws01, ad01, vww01, ic01 and a
    kws01 accuracy run on a reference-labelled synthetic set, then a summary table."""
    from tinyperf.benchmarks.synthetic import write_reference_labelled_set
    from tinyperf.models import get_entry, resolve_model

    board = "sim-nucleo-l4r5zi"
    outcomes: list[tuple[str, RunOutcome]] = []
    with _progress() as progress:
        for bench in ("kws01", "ad01", "vww01", "ic01"):
            request = RunRequest(board=board, benchmark=bench, mode="performance", sessions_dir=sessions_dir)
            outcomes.append(("performance", execute(request, RichProgress(progress, bench))))
        synth = sessions_dir / "datasets" / "kws01-reference-labelled"
        if not (synth / "y_labels.csv").is_file():
            write_reference_labelled_set(get_entry("kws01"), resolve_model("kws01").path, synth, accuracy_samples)
        request = RunRequest(board=board, benchmark="kws01", mode="accuracy", dataset=synth,
                             sessions_dir=sessions_dir)
        outcomes.append(("accuracy", execute(request, RichProgress(progress, "kws01"))))
    table = Table(title=f"tinyperf demo on {board} [bold yellow](SIMULATED: cycle-model times)[/]")
    table.add_column("benchmark", no_wrap=True)
    table.add_column("mode", no_wrap=True)
    table.add_column("result")
    table.add_column("session", overflow="fold")  # a path to copy: folded, never cut
    for mode, outcome in outcomes:
        f = outcome.figures
        if mode == "performance":
            result = f"{f['latency_ms']:.2f} ms ({f['median_throughput']:.3f} inf./s)"
        else:
            result = f"top-1 {f['top1_percent']:.1f} % (agreement with TFLM on synthetic inputs)"
        table.add_row(outcome.identity.model, mode, result, str(outcome.session.root))
    console.print(table)


if __name__ == "__main__":
    sys.exit(app())
