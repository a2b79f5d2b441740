"""Writing EEMBC folders with their provenance, and the packaged smoke sets (tar.xz in models_tflm/datasets).

The built smoke sets are committed (about 1-2 MB compressed) so that a fresh machine scores real
inputs with no TTS engine or photo package installed; `tinyperf datasets smoke` rebuilds them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from tinyperf.archives import extract_tar
from tinyperf.errors import DatasetError
from tinyperf.resources import data_dir
from tinyperf.suite.datasets import LABEL_FILE, load_dataset
from tinyperf.suite.models import get_entry

SOURCES_FILE = "sources.json"
NOTE_FILE = "README.txt"


@dataclass(frozen=True)
class Row:
    name: str
    label: int
    data: bytes
    source: dict


def write_eembc_folder(out: Path, benchmark: str, rows: list[Row], note: str, extra: dict | None = None) -> Path:
    """y_labels.csv + one .bin per row + sources.json (where each came from, with sha256) + README.txt."""
    entry = get_entry(benchmark)
    names = [row.name for row in rows]
    if len(set(names)) != len(names):
        raise DatasetError(f"{benchmark}: duplicate sample names in the build")
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    sources = {}
    for row in rows:
        file = f"{row.name}.bin"
        (out / file).write_bytes(row.data)
        fields = [file, str(len(entry.labels)), str(row.label)]
        if entry.window_bytes is not None:
            fields += [str(entry.window_bytes), str(entry.stride_bytes)]
        lines.append(",".join(fields))
        sources[file] = {**row.source, "label": entry.labels[row.label],
                         "bin_sha256": hashlib.sha256(row.data).hexdigest()}
    (out / LABEL_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / SOURCES_FILE).write_text(json.dumps({"benchmark": benchmark, **(extra or {}), "samples": sources},
                                               indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (out / NOTE_FILE).write_text(note + "\n", encoding="utf-8")
    load_dataset(out, entry)  # what we write must pass our own checks
    return out


def pack(folder: Path, tarball: Path) -> None:
    """A reproducible tar.xz: sorted names, no timestamps or owners."""
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "w:xz", preset=9) as archive:
        for path in sorted(folder.iterdir()):
            data = path.read_bytes()
            info = tarfile.TarInfo(path.name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))


def packaged_smoke(benchmark: str) -> Path:
    """The packaged set of `benchmark`, or of the benchmark whose inputs it takes (ic02: ic01's images)."""
    source = get_entry(benchmark).inputs_of or benchmark
    return data_dir("models_tflm") / "datasets" / f"{source}-smoke.tar.xz"


def datasets_cache() -> Path:
    override = os.environ.get("TINYPERF_CACHE")
    base = Path(override) if override else Path(platformdirs.user_cache_dir("tinyperf"))
    return base / "datasets"


def smoke_dataset(benchmark: str) -> Path:
    """The packaged smoke set as an EEMBC folder, unpacked once into the cache (keyed by its hash)."""
    tarball = packaged_smoke(benchmark)
    if not tarball.is_file():
        raise DatasetError(f"no packaged smoke set for {benchmark} ({tarball}); pass --dataset DIR "
                           "or build one with `tinyperf datasets smoke`")
    return unpacked_once(tarball, LABEL_FILE)


def unpacked_once(tarball: Path, marker: str) -> Path:
    """A packaged .tar.xz as a folder in the cache, keyed by its hash; unpacked once (a folder holding
    `marker` is complete: it is staged beside and renamed into place)."""
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()[:12]
    stem = tarball.name.removesuffix(".tar.xz")
    folder = datasets_cache() / f"{stem}-{digest}"
    if (folder / marker).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{stem}-"))
    try:
        with tarfile.open(tarball, "r:xz") as archive:
            extract_tar(archive, staging, str(tarball))
        staging.rename(folder)
    except FileExistsError:  # another process unpacked it first
        shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def smoke_subset(benchmark: str, rows: list[str] | int, folder: Path) -> Path:
    """A dataset folder of the packaged smoke set's first `rows` rows, or of the files named in `rows`
    (in the set's order): small, real inputs for tests and benchmarks."""
    source = smoke_dataset(benchmark)
    lines = (source / LABEL_FILE).read_text().splitlines()
    picked = lines[:rows] if isinstance(rows, int) else [line for line in lines if line.split(",")[0] in rows]
    folder.mkdir(parents=True)
    (folder / LABEL_FILE).write_text("\n".join(picked) + "\n")
    for line in picked:
        shutil.copy(source / line.split(",")[0], folder / line.split(",")[0])
    return folder
