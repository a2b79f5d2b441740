"""The `tinyperf` command: parses options, calls the library, renders with rich. No logic lives here.

Start-up stays fast (`tinyperf --help` imports no numpy, no model code): every command imports what it
needs when it runs."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from tinyperf import __version__
from tinyperf.cli import (
    compare,
    datasets,
    demo,
    doctor,
    firmware,
    models,
    monitor,
    profile,
    results,
    run,
    sim,
    sources,
    streaming,
    submission,
)
from tinyperf.cli.common import (
    EXIT_CODES_HELP,
    console,
    err_console,
    install_signal_handlers,
    set_debug,
    user_errors,
)

app = typer.Typer(
    help="Benchmark TinyML firmware over the MLPerf Tiny / EEMBC device protocol (real boards or the built-in "
    "simulated board). Start with `tinyperf demo`; `tinyperf COMMAND --help` explains each command.\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        console.print(f"tinyperf {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    set_debug(debug)
    install_signal_handlers()


@app.command()
@user_errors
def boards() -> None:
    """List the known boards (boards/*.yaml), real and simulated."""
    from rich import box

    from tinyperf.device.boards import load_boards

    found = list(load_boards().values())
    table = Table(title="boards", box=box.SIMPLE_HEAD)
    # the id is typed back into --board: never cut; the name below it wraps at words
    table.add_column("board (--board)", min_width=max(len(b.id) for b in found))
    table.add_column("kind", no_wrap=True)
    table.add_column("core", no_wrap=True)
    table.add_column("clock", justify="right", no_wrap=True)
    table.add_column("baud", justify="right", no_wrap=True)
    table.add_column("USB ids", no_wrap=True)
    for board in found:
        table.add_row(f"[bold]{board.id}[/]\n[dim]{board.name}[/]", board.kind, board.core,
                      f"{board.clock_hz / 1e6:g} MHz", str(board.baud), "\n".join(board.usb_ids) or "-")
    console.print(table)


@app.command()
@user_errors
def ports() -> None:
    """List serial ports with their USB VID:PID and the known board or monitor each looks like."""
    from tinyperf.device.ports import list_serial_ports

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



app.add_typer(run.app)
app.add_typer(demo.app)
app.add_typer(datasets.app, name="datasets")
app.add_typer(models.app, name="models")
app.add_typer(monitor.app, name="monitor")
firmware.register(app, console, user_errors)
sources.register(app, console, user_errors)
compare.register(app, console, user_errors)
submission.register(app, console, user_errors)
results.register(app, console, user_errors)
profile.register(app, console, user_errors)
sim.register(app, console, err_console, user_errors)
doctor.register(app)
streaming.register(datasets.app, console, user_errors)



def _reflow(text: str) -> str:
    """A docstring's paragraphs as single lines: rich help keeps line breaks, which would cut sentences."""
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in para.splitlines()) for para in paragraphs)


def _reflow_help(typer_app: typer.Typer) -> None:
    for command in typer_app.registered_commands:
        if command.help is None and command.callback is not None and command.callback.__doc__:
            command.help = _reflow(command.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


_reflow_help(app)

if __name__ == "__main__":
    sys.exit(app())
