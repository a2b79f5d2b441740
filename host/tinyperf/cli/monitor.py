"""`tinyperf monitor`: check that an energy monitor answers; record and plot a raw trace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tinyperf.cli.choices import Benchmark
from tinyperf.cli.common import console, user_errors
from tinyperf.cli.progress import status

TRACE_GRACE_S = 10.0  # how much longer than --seconds a trace may take to arrive

app = typer.Typer(help="Energy monitors: check one, record a raw trace.", no_args_is_help=True)

MONITOR_HELP = ("sim (simulated LPM01A metering a simulated board); lpm01a:PORT; ppk2[:PORT[@D<n>]]; "
                "otii[:HOST[:PORT]]; scpi:VISA-RESOURCE; js220[:SERIAL]; js110[:SERIAL]. KIND:sim simulates that "
                "instrument (e.g. ppk2:sim).")


@app.command("probe")
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


@app.command("trace")
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

    from tinyperf.device.link import open_link
    from tinyperf.device.protocol.client import LegacyClient
    from tinyperf.power.monitor import default_rate_hz, open_monitor, parse_monitor, sim_wire_path
    from tinyperf.power.plot import plot_trace
    from tinyperf.sim.launcher import start_sim_board
    from tinyperf.suite.models import resolve_model

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
        wanted = round(seconds * rate)
        with status(f"recording {seconds:g} s at {rate} Hz"):
            # the instrument's own clock decides: `seconds` of samples, not of host time (a simulated
            # monitor's timeline starts with its board); bounded in case it stops streaming
            deadline = started + seconds + TRACE_GRACE_S
            while trace.samples < wanted and time.monotonic() < deadline:
                time.sleep(0.02)
        opened.stop()
    if trace.samples < wanted:
        console.print(f"[yellow]warning:[/] the monitor sent {trace.samples} of {wanted} samples in "
                      f"{seconds + TRACE_GRACE_S:g} s", highlight=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    trace.save(out.with_suffix(".npz"))
    plot_trace(trace, out, f"{spec.label}: {trace.samples} samples at {rate} Hz, {len(trace.edges)} edges")
    console.print(f"{trace.samples} samples ({trace.samples / rate:.2f} s), {len(trace.edges)} edges, "
                  f"{len(trace.gaps)} gaps -> {out} "
                  f"(+ {out.with_suffix('.npz').name})", soft_wrap=True, highlight=False)


