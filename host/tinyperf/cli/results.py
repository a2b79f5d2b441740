"""`tinyperf history`, `show`, `rerun`, `store index`: the results store from the command line."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tinyperf.cli.choices import Decorator
from tinyperf.cli.common import EXIT_INVALID

STORE_HELP = "The results store (default: $TINYPERF_STORE, else results.sqlite in the user data folder)."


def _headline(figures: dict) -> str:
    from tinyperf.results.headlines import headline_text

    return headline_text(figures, empty="")


def register(app: typer.Typer, console: Console, user_errors: Decorator) -> None:
    """Adds the commands to `app` (cli/app.py owns the console and error handling)."""
    store_app = typer.Typer(help="The results store: every session indexed in SQLite.", no_args_is_help=True)
    app.add_typer(store_app, name="store")

    @app.command("history")
    @user_errors
    def history_command(
        benchmark: Annotated[str | None, typer.Option(help="Only this benchmark (kws01, vww01, ad01, ic01).")] = None,
        board: Annotated[str | None, typer.Option(help="Only this board id.")] = None,
        mode: Annotated[str | None, typer.Option(help="Only performance, accuracy or energy runs.")] = None,
        limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
        store: Annotated[Path | None, typer.Option(help=STORE_HELP)] = None,
    ) -> None:
        """Past sessions, newest first, with their headline figures."""
        from rich import box

        from tinyperf.results.store import history, store_path

        rows = history(benchmark, board, mode, limit, store)
        if not rows:
            console.print("no sessions yet: `tinyperf run ...` adds them, `tinyperf store index sessions/` indexes "
                          "old ones")
            return
        table = Table(title=f"sessions in {store or store_path()}", box=box.SIMPLE_HEAD, pad_edge=False,
                      caption="`tinyperf show SESSION` shows one (SESSION: the start of its name is enough)")
        # the session's name repeats board, benchmark and mode: its start (the time) is its handle here
        table.add_column("session", no_wrap=True)
        table.add_column("board", no_wrap=True)
        table.add_column("benchmark", no_wrap=True)
        table.add_column("mode", no_wrap=True)
        table.add_column("figures")
        for row in rows:
            handle = row.id.replace(f"-{row.board}-{row.benchmark}-{row.mode}", "")
            board_name = row.board + (" [dim](sim)[/]" if row.simulated else "")
            figures = _headline(row.headline) or "-"
            table.add_row(handle, board_name, row.benchmark, row.mode,
                          figures if row.valid else f"[red]INVALID[/] {figures}")
        console.print(table)

    @app.command("show")
    @user_errors
    def show_command(
        session: Annotated[str, typer.Argument(help="Session folder, its name, or a unique start of it.")],
        store: Annotated[Path | None, typer.Option(help=STORE_HELP)] = None,
    ) -> None:
        """One session: where it is, what ran, and its figures."""
        from tinyperf.results.store import find

        row = find(session, store)
        table = Table(title=row.id, show_header=False)
        table.add_column("what", no_wrap=True)
        table.add_column("value", overflow="fold")
        finished = datetime.datetime.fromtimestamp(row.finished_at).strftime("%Y-%m-%d %H:%M:%S")
        for name, value in (("folder", str(row.path)), ("finished", finished),
                            ("board", row.board + (" (SIMULATED)" if row.simulated else "")),
                            ("benchmark / mode", f"{row.benchmark} / {row.mode}"),
                            ("valid", "yes" if row.valid else "INVALID: " + "; ".join(row.figures.get("problems", []))),
                            ("model sha256", str((row.figures.get("model") or {}).get("sha256"))),
                            ("figures", _headline(row.headline) or "-")):
            table.add_row(name, value)
        console.print(table)

    @app.command("rerun")
    @user_errors
    def rerun_command(
        session: Annotated[Path, typer.Argument(help="Session folder to repeat (it needs its provenance.json).")],
        sessions_dir: Annotated[Path | None, typer.Option(help="Where the new session goes (default: as before).")]
        = None,
    ) -> None:
        """Repeat a run exactly as it was asked for; refused if its model, dataset or firmware changed."""
        from tinyperf.run.rerun import rerun_request
        from tinyperf.run.runner import execute

        request, _ = rerun_request(session, sessions_dir)
        outcome = execute(request)
        console.print(f"rerun of {session.name}: {_headline(outcome.figures) or 'done'}", highlight=False)
        console.print(f"session folder: {outcome.session.root}", highlight=False)
        if not outcome.figures.get("valid", True):
            raise typer.Exit(EXIT_INVALID)

    @app.command("report")
    @user_errors
    def report_command(
        sessions: Annotated[list[Path], typer.Argument(help="Session folders (several: also compared).")],
        html_file: Annotated[Path | None, typer.Option("--html", help="Write the self-contained HTML page here.")]
        = None,
        markdown_file: Annotated[Path | None, typer.Option("--markdown", help="Write a Markdown summary here.")]
        = None,
    ) -> None:
        """Summary, per-window latency/energy plots, energy trace with its edges, confusion matrix, ROC curve,
        and a comparison, as one HTML file that needs no network to view (default: report.html)."""
        from tinyperf.results.report import html_report, load, markdown_report

        views = [load(session) for session in sessions]
        if markdown_file is not None:
            markdown_file.write_text(markdown_report(views), encoding="utf-8")
            console.print(f"wrote {markdown_file}", highlight=False)
        if html_file is not None or markdown_file is None:
            target = html_file or Path("report.html")
            target.write_text(html_report(views), encoding="utf-8")
            console.print(f"wrote {target}", highlight=False)

    @store_app.command("index")
    @user_errors
    def index_command(
        sessions_dir: Annotated[Path, typer.Argument(help="A folder of session folders (or one session).")],
        store: Annotated[Path | None, typer.Option(help=STORE_HELP)] = None,
    ) -> None:
        """Add existing session folders to the store (finished ones; others are listed and skipped)."""
        from tinyperf.results.store import index_session, store_path

        folders = [sessions_dir] if (sessions_dir / "results.json").is_file() else sorted(
            p for p in sessions_dir.iterdir() if p.is_dir()) if sessions_dir.is_dir() else []
        added = 0
        for folder in folders:
            if (folder / "results.json").is_file():
                index_session(folder, store)
                added += 1
            else:
                console.print(f"skipped {folder}: no results.json (unfinished or failed)", highlight=False)
        console.print(f"indexed {added} session(s) into {store or store_path()}", highlight=False)
