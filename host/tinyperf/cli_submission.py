"""`tinyperf submission export` and `tinyperf submission check`: thin commands over tinyperf.submission."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tinyperf.submission import ExportRequest, check, export

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class DivisionChoice(str, Enum):
    closed = "closed"
    open = "open"


def register(app: typer.Typer, console: Console, user_errors: Decorator) -> None:
    """Adds `submission export|check` to `app` (cli.py owns the console and error handling)."""
    submission = typer.Typer(help="MLPerf Tiny submission tree: export sessions into it, check it strictly.",
                             no_args_is_help=True)
    app.add_typer(submission, name="submission")

    @submission.command("export")
    @user_errors
    def export_command(
        out: Annotated[Path, typer.Argument(help="Folder the tree is written into (closed/ or open/ below it).")],
        system: Annotated[str, typer.Option(help="System name: results/<system>/ and systems/<system>.json.")],
        division: Annotated[DivisionChoice, typer.Option(help="closed (accuracy targets apply) or open.")],
        submitter: Annotated[str, typer.Option(help="Submitting organisation.")] = "tinyperf",
        session: Annotated[list[Path] | None, typer.Option(
            help="A session folder to include (repeatable); default: the newest per benchmark and mode.")] = None,
        sessions_dir: Annotated[Path, typer.Option(help="Where sessions are looked for.")] = Path("sessions"),
        allow_simulated: Annotated[bool, typer.Option(
            "--allow-simulated", help="Export simulated-board runs too (the system file then says SIMULATED).")]
        = False,
    ) -> None:
        """Write results/<system>/<benchmark>/<mode>/{log.txt,results.txt,results.json} and systems/<system>.json."""
        written = export(ExportRequest(out, system, division.value, submitter, tuple(session or ()), sessions_dir,
                                       allow_simulated))
        for folder in written:
            console.print(f"wrote {folder}", highlight=False)
        console.print(f"check it with: tinyperf submission check {out}", highlight=False)

    @submission.command("check")
    @user_errors
    def check_command(
        out: Annotated[Path, typer.Argument(help="The submission tree (the folder holding closed/ or open/).")],
    ) -> None:
        """The official checker's results.txt lines, plus 5 windows of >= 10 s and >= 10 inferences, the
        closed-division accuracy targets, the files every run needs and the system description.
        Exit 0 when acceptable, 1 with every problem listed."""
        problems = check(out)
        for problem in problems:
            console.print(f"[red]FAIL[/] {problem}", highlight=False, soft_wrap=True)
        if problems:
            console.print(f"{len(problems)} problem(s) in {out}", highlight=False)
            raise typer.Exit(1)
        console.print(f"[green]OK[/] {out}: every run has its files, checker lines, windows and targets",
                      highlight=False)
