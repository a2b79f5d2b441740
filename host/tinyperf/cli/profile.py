"""`tinyperf profile`: per-operator cycles from the device, as a table and a bar chart."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tinyperf.cli.choices import Benchmark, Decorator


def register(app: typer.Typer, console: Console, user_errors: Decorator) -> None:
    """Adds the command to `app` (cli/app.py owns the console and error handling)."""

    @app.command("profile")
    @user_errors
    def profile_command(
        board: Annotated[str, typer.Option(help="Board id (see `tinyperf boards`).")],
        benchmark: Annotated[Benchmark, typer.Option(help="The benchmark (model) the device runs.")],
        port: Annotated[str | None, typer.Option(
            help="Serial port or URL (simulated and emulated boards start their own).")]
        = None,
        plot: Annotated[Path | None, typer.Option(help="Write a bar chart of per-operator cycles (PNG).")] = None,
        json_file: Annotated[Path | None, typer.Option("--json", help="Write every operator's figures here.")]
        = None,
        builds_dir: Annotated[Path, typer.Option(help="Emulated boards run BUILDS_DIR/<board>/ from `tinyperf build "
                                                 "--engine ref`.")] = Path("builds"),
    ) -> None:
        """Each operator's cycles as the device counts them, its share, and cycles per MAC (DeepBench-style);
        the per-op sum is checked against a whole inference timed by the device's own timer.

        Simulated boards answer from their cycle model. Our firmware answers when built with the ref
        engine (the default without a TFLM tree) or with TFLM: e.g. `tinyperf build --board
        qemu-mps2-an386 --benchmark kws01`, then `tinyperf profile --board qemu-mps2-an386 --benchmark
        kws01` (an emulated board starts the firmware built for it; a real board needs --port or USB).
        """
        from tinyperf.device.op_profile import bar_chart, by_op_type, run_profile

        result = run_profile(board, benchmark.value, port, builds_dir)
        label = " (SIMULATED: cycle model)" if result.simulated else ""
        table = Table(title=f"{benchmark.value} on {board}, per operator{label}")
        unit = result.unit
        for column in ("#", "operator", unit, "share", "MACs", f"{unit}/MAC"):
            table.add_column(column, justify="left" if column == "operator" else "right")
        for op in result.ops:
            per_mac = f"{op.cycles_per_mac:.2f}" if op.cycles_per_mac is not None else "-"
            table.add_row(str(op.index), op.op_type, f"{op.cycles:,}", f"{100 * op.share:.1f} %", f"{op.macs:,}",
                          per_mac)
        console.print(table)
        kinds = Table(title="by operator type")
        for column in ("operator", unit, "share", "MACs", f"{unit}/MAC"):
            kinds.add_column(column, justify="left" if column == "operator" else "right")
        for op, cycles, macs, share in by_op_type(result):
            per_mac = f"{cycles / macs:.2f}" if macs else "-"
            kinds.add_row(op, f"{cycles:,}", f"{100 * share:.1f} %", f"{macs:,}", per_mac)
        console.print(kinds)
        console.print(f"per-op sum {result.op_sum_cycles:,} {unit}; one inference timed by the device timer "
                      f"{result.timed_cycles:,.0f} {unit} at {result.clock_hz / 1e6:g} MHz: sum / timed = "
                      f"{result.sum_over_timed:.4f}", highlight=False)
        if result.timer_note:
            console.print(f"[yellow]{result.timer_note}[/]", highlight=False)
        if plot is not None:
            bar_chart(result, plot)
            console.print(f"wrote {plot}", highlight=False)
        if json_file is not None:
            json_file.write_text(json.dumps({**asdict(result), "sum_over_timed": result.sum_over_timed}, indent=2))
            console.print(f"wrote {json_file}", highlight=False)
