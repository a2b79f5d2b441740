"""`tinyperf compare` and `tinyperf gate`: thin commands over tinyperf.results.compare for CI jobs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tinyperf.cli.choices import Decorator
from tinyperf.cli.common import EXIT_INCONCLUSIVE, EXIT_INVALID, EXIT_OK
from tinyperf.errors import ConfigError

if TYPE_CHECKING:
    from tinyperf.results.compare import Comparison

EXIT = {"pass": EXIT_OK, "regression": EXIT_INVALID, "inconclusive": EXIT_INCONCLUSIVE}


def parse_percent(text: str) -> float:
    """`3%`, `3` or `0.5%` -> 0.03 / 0.03 / 0.005."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise ConfigError(f"--max-slowdown {text!r}: expected a percentage such as 3% or 0.5%") from None
    if value < 0:
        raise ConfigError(f"--max-slowdown {text!r}: must be >= 0")
    return value / 100.0


def _report(result: Comparison, console: Console, markdown_file: Path | None) -> None:
    """The file first: a place that cannot be written ends the command before a verdict is shown."""
    from rich.markdown import Markdown

    from tinyperf.results.compare import markdown

    text = markdown(result)
    if markdown_file is not None:
        markdown_file.write_text(text, encoding="utf-8")
    console.print(Markdown(text))


def register(app: typer.Typer, console: Console, user_errors: Decorator) -> None:
    """Adds the commands to `app` (cli/app.py owns the console and error handling)."""

    @app.command("compare")
    @user_errors
    def compare_command(
        baseline: Annotated[Path, typer.Argument(help="Session folder (or results.json) of the baseline run.")],
        new: Annotated[Path, typer.Argument(help="Session folder (or results.json) of the run to judge.")],
        max_slowdown: Annotated[str, typer.Option(help="Allowed slowdown (latency or energy), e.g. 3%.")] = "0%",
        markdown_file: Annotated[Path | None, typer.Option("--markdown", help="Also write the summary here.")] = None,
    ) -> None:
        """Compare two performance, energy or accuracy runs: change, 95 % bootstrap CI of the median, verdict.

        Always exits 0 when both runs could be read: use `tinyperf gate` to fail a CI job."""
        from tinyperf.results.compare import compare, load_run

        _report(compare(load_run(baseline), load_run(new), parse_percent(max_slowdown)), console, markdown_file)

    @app.command()
    @user_errors
    def gate(
        new: Annotated[Path, typer.Argument(help="Session folder (or results.json) of the run to judge.")],
        baseline: Annotated[Path, typer.Option(help="Session folder (or results.json) to compare against.")],
        max_slowdown: Annotated[str, typer.Option(help="Allowed slowdown (latency or energy), e.g. 3%.")] = "3%",
        max_accuracy_drop: Annotated[float, typer.Option(help="Allowed loss, top-1 points or AUC.")] = 0.0,
        markdown_file: Annotated[Path | None, typer.Option("--markdown", help="Also write the summary here.")] = None,
    ) -> None:
        """Fail a CI job on a regression. Exit 0: the whole 95 % CI of the change is within the allowance;
        1: it is wholly beyond it, or the new run is INVALID; 3: inconclusive (the CI straddles the
        allowance: run more windows); 2: unreadable input."""
        from tinyperf.results.compare import compare, load_run

        base, candidate = load_run(baseline), load_run(new)
        result = compare(base, candidate, parse_percent(max_slowdown), max_accuracy_drop)
        _report(result, console, markdown_file)
        if not candidate.valid:
            console.print(f"[bold red]gate: the new run is INVALID[/] ({candidate.path})")
            raise typer.Exit(EXIT_INVALID)
        raise typer.Exit(EXIT[result.verdict])
