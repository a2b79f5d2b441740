"""`tinyperf datasets sww-stream`: long sww01 test streams with ground truth, from Debian's TTS voices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tinyperf.cli.choices import Decorator
from tinyperf.cli.progress import status


def register(datasets_app: typer.Typer, console: Console, user_errors: Decorator) -> None:
    """Adds `sww-stream` to `datasets_app` (cli/app.py owns the consoles and error handling)."""

    @datasets_app.command("sww-stream")
    @user_errors
    def sww_stream(
        out: Annotated[Path, typer.Option(help="Folder to write <name>.wav, <name>.json and <name>.sources.json.")],
        seconds: Annotated[float, typer.Option(min=10.0, max=4 * 3600.0,
                                               help="Stream length (the official test stream: 1200).")] = 1200.0,
        wakewords: Annotated[int, typer.Option(min=1, help="How many times 'marvin' is said (official: 50).")] = 50,
        others: Annotated[int | None, typer.Option(
            min=0, help="How many other words are said (default: as many as wakewords).")] = None,
        seed: Annotated[int, typer.Option(help="Same seed, same stream (with the same TTS versions).")] = 0,
        name: Annotated[str, typer.Option(help="File name stem.")] = "tinyperf_sww",
    ) -> None:
        """Build a SYNTHETIC sww01 stream: espeak-ng and flite voices say "marvin" and other words over
        generated noise and silence; the ground truth is the official JSON format. Not the official stream:
        results on it say so. Play it with `tinyperf run --benchmark sww01 --dataset OUT/<name>.json`."""
        from tinyperf.suite.sww.streams import write_stream

        with status(f"saying {wakewords} wakewords and {others if others is not None else wakewords} "
                            "other words"):
            truth = write_stream(out, name, seconds, wakewords, seed, others)
        console.print(f"wrote {out / truth.wav_file} ({truth.length_sec:.0f} s, {len(truth.windows)} wakewords) and "
                      f"{out / (name + '.json')}", soft_wrap=True, highlight=False)
