"""`tinyperf submission export` and `tinyperf submission check`: thin commands over tinyperf.results.submission."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from tinyperf.cli.choices import Decorator
from tinyperf.cli.common import EXIT_INVALID


class DivisionChoice(str, Enum):
    closed = "closed"
    open = "open"


def register(app: typer.Typer, console: Console, user_errors: Decorator) -> None:
    """Adds `submission export|check` to `app` (cli/app.py owns the console and error handling)."""
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
            help="A session folder to include (repeatable); default: the newest valid one per benchmark and mode.")]
        = None,
        sessions_dir: Annotated[Path, typer.Option(help="Where sessions are looked for.")] = Path("sessions"),
        system_field: Annotated[list[str] | None, typer.Option(
            help="Set a field of systems/<system>.json, e.g. 'Status=preview' or 'Software Notes=...' "
            "(repeatable; the published field names).")] = None,
        allow_simulated: Annotated[bool, typer.Option(
            "--allow-simulated", help="Export simulated-board runs too (the system notes then say SIMULATED).")]
        = False,
        allow_unofficial_data: Annotated[bool, typer.Option(
            "--allow-unofficial-data", help="Export closed-division accuracy measured on other than the official "
            "test set (smoke, synthetic, custom); results.txt and the system notes then say so.")] = False,
    ) -> None:
        """Write results/<system>/<kws|vww|ad|ic|ic2|sww>/<mode>/ (readable log.txt, results.txt, results.json,
        energy_inf_000.png for energy) and systems/<system>.json, as the official v1.4 checker reads them."""
        from tinyperf.results.submission import ExportRequest, export

        report = export(ExportRequest(out, system, division.value, submitter, tuple(session or ()), sessions_dir,
                                      allow_simulated, allow_unofficial_data, tuple(system_field or ())))
        for session, what in report.taken:
            console.print(f"took    {what}: {session}", highlight=False, soft_wrap=True)
        for session, why in report.skipped:
            console.print(f"skipped {session}: {why}", highlight=False, soft_wrap=True)
        console.print(f"wrote {len(report.written)} run folders under {out}; check it with: "
                      f"tinyperf submission check {out}", highlight=False, soft_wrap=True)

    @submission.command("check")
    @user_errors
    def check_command(
        out: Annotated[Path, typer.Argument(help="The submission tree (the folder holding closed/ or open/).")],
    ) -> None:
        """Every rule of the official v1.4 checker that applies (file lists, system description, the lines it
        reads, accuracy targets) plus tinyperf's own (5 windows of >= 10 s, official data, no simulated runs,
        readable logs). Each finding names its rule and file. Exit 0 when acceptable, 1 otherwise."""
        from tinyperf.results.submission_rules import check

        findings = check(out)
        for finding in findings:
            console.print(f"[red]FAIL[/] {escape(str(finding))}", highlight=False, soft_wrap=True)
        if findings:
            official = sum(f.official for f in findings)
            console.print(f"{len(findings)} problem(s) in {out} ({official} the official checker reports too)",
                          highlight=False)
            raise typer.Exit(EXIT_INVALID)
        console.print(f"[green]OK[/] {out}: the official checker's rules and tinyperf's all pass", highlight=False)
