"""`tinyperf sources`: the pinned TFLM, CMSIS-NN and header trees a TFLM build compiles, and where each is."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from tinyperf.cli.choices import Decorator


def register(app: typer.Typer, console: Console, user_errors: Decorator) -> None:
    sources_app = typer.Typer(help="Source trees of TFLM builds: pinned commits, verified downloads, the cache.",
                              no_args_is_help=True)
    app.add_typer(sources_app, name="sources")

    @sources_app.command("list")
    @user_errors
    def list_sources() -> None:
        """Each pinned tree: repository, commit, and where this machine has it (the verified cache, a folder
        from $TFLM_DIR/$CMSIS_NN_DIR/$CMSIS_DIR) or that it would be downloaded."""
        from tinyperf.firmware.sources import PINS, fetched_record, find_trees, sources_cache

        console.print(f"TFLM build sources; cache: {sources_cache()}", highlight=False, soft_wrap=True)
        for name, tree in find_trees().items():
            pin = PINS[name]
            record = fetched_record(tree) if tree else None
            console.print(f"{pin.name:12} {pin.repository} @ {pin.commit}", highlight=False, soft_wrap=True)
            where = f"{tree.path} ({tree.origin})" if tree else "not here: downloaded on the first TFLM build"
            console.print(f"{'':12} {where}", highlight=False, soft_wrap=True)
            if record and record.get("archive_sha256"):
                console.print(f"{'':12} archive sha256 {record['archive_sha256']}", highlight=False, soft_wrap=True)

    @sources_app.command("fetch")
    @user_errors
    def fetch(
        offline_check: Annotated[bool, typer.Option(
            "--check", help="Download nothing; exit 2 naming each pinned tree that is missing.")] = False,
    ) -> None:
        """Download every pinned tree once into the user cache and verify each folder's git tree id (so later
        builds work offline). A mirror laid out like GitHub can stand in: TINYPERF_SOURCES_URL=https://host."""
        from tinyperf.firmware.sources import PINS, fetched_record, resolve_trees

        trees = resolve_trees(list(PINS), {}, download=not offline_check)
        for tree in trees.values():
            record = fetched_record(tree) or {}
            sha = record.get("archive_sha256")
            console.print(f"{tree.describe}" + (f"; archive sha256 {sha}" if sha else ""), highlight=False,
                          soft_wrap=True)
