"""Which stream a sww01 run plays: the packaged synthetic one, or the user's WAV + ground-truth JSON
(e.g. the official sww_long_test.json beside long_wav.wav)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyperf.errors import DatasetError
from tinyperf.resources import data_dir
from tinyperf.suite.smoke.store import unpacked_once
from tinyperf.suite.sww.truth import StreamTruth, read_truth

PACKAGED = "sww01-stream.tar.xz"
PACKAGED_TRUTH = "tinyperf_sww_60s.json"


@dataclass(frozen=True)
class StreamInput:
    folder: Path  # what the interface board's SD card holds (the WAV files)
    truth: StreamTruth
    truth_file: Path
    packaged: bool

    @property
    def wav(self) -> Path:
        return self.folder / self.truth.wav_file

    @property
    def note(self) -> str:
        kind = "the packaged SYNTHETIC stream (TTS voices over generated noise), not the official one" \
            if self.packaged else f"ground truth {self.truth_file.name}"
        return f"{self.wav} ({self.truth.length_sec:.0f} s, {len(self.truth.windows)} wakewords; {kind})"


def packaged_stream() -> Path:
    """The packaged stream's folder, unpacked once into the cache (keyed by the archive's hash)."""
    tarball = data_dir("models_tflm") / "datasets" / PACKAGED
    if not tarball.is_file():
        raise DatasetError(f"no packaged sww01 stream ({tarball}); pass --dataset with a WAV and its ground truth")
    return unpacked_once(tarball, PACKAGED_TRUTH)


def resolve_stream(dataset: Path | None) -> StreamInput:
    """`dataset`: None (packaged), a ground-truth .json, or a folder holding exactly one (besides
    *.sources.json). The first stream the file lists is played; its WAV must be beside it."""
    packaged = dataset is None
    where = packaged_stream() if dataset is None else dataset
    if where.is_file():
        truth_file = where
    elif where.is_dir():
        found = sorted(p for p in where.glob("*.json") if not p.name.endswith(".sources.json"))
        if len(found) != 1:
            raise DatasetError(f"{where}: expected one ground-truth .json (found {len(found)}); pass the file itself "
                               "as --dataset")
        truth_file = found[0]
    else:
        raise DatasetError(f"{where}: no such file or folder")
    truth = read_truth(truth_file)[0]
    stream = StreamInput(truth_file.parent, truth, truth_file, packaged)
    if not stream.wav.is_file():
        raise DatasetError(f"{truth_file}: its stream {truth.wav_file} is not in {truth_file.parent}")
    return stream
