"""`tinyperf datasets build`: public raw datasets -> EEMBC folders (y_labels.csv + .bin) via the reference front ends.

Expected raw layouts (as the datasets are distributed):
  kws01  Speech Commands v2: <word>/<file>.wav, testing_list.txt, _background_noise_/*.wav
  vww01  person/ and non_person/ folders of images (the COCO-derived VWW split)
  ad01   ToyCar (ToyADMOS/DCASE 2020): test/normal_*.wav and test/anomaly_*.wav
  ic01   CIFAR-10 python version: test_batch (read by an allow-list unpickler, never plain pickle)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from tinyperf.archives import read_cifar_batch
from tinyperf.errors import DatasetError
from tinyperf.suite.frontends.ad import ad_file
from tinyperf.suite.frontends.audio import SAMPLE_RATE, read_wav, resample
from tinyperf.suite.frontends.image import image_bytes, load_rgb, pixels_to_bytes
from tinyperf.suite.frontends.kws import kws_input
from tinyperf.suite.models import get_entry
from tinyperf.suite.smoke.store import Row, write_eembc_folder

Progress = Callable[[str], None]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise DatasetError(f"{path} not found: expected {what}")
    return path


def _audio(path: Path) -> np.ndarray:
    samples, rate = read_wav(path)
    return resample(samples, rate)


def _kws_rows(raw: Path) -> Iterator[Row]:
    spec = get_entry("kws01").input
    keywords = [label.lower() for label in get_entry("kws01").labels[:10]]
    listing = _require(raw / "testing_list.txt", "Speech Commands v2's testing_list.txt")
    names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    for number, relative in enumerate(names, start=1):
        word = relative.split("/")[0]
        label = keywords.index(word) if word in keywords else 11
        wav = _require(raw / relative, f"the file on line {number} of {listing}")
        yield Row(relative.replace("/", "_").removesuffix(".wav"), label,
                  kws_input(_audio(wav), spec.scale, spec.zero_point), {"file": relative, "word": word})
    noise_files = sorted((raw / "_background_noise_").glob("*.wav"))
    silence_count = max(1, len(names) // 11) if noise_files else 0
    rng = np.random.default_rng(0)
    for index in range(silence_count):
        path = noise_files[index % len(noise_files)]
        audio = _audio(path)
        start = int(rng.integers(0, max(1, len(audio) - SAMPLE_RATE)))
        volume = float(rng.uniform(0.0, 1.0))
        clip = audio[start : start + SAMPLE_RATE] * volume
        yield Row(f"silence_{index:04d}", 10, kws_input(clip, spec.scale, spec.zero_point),
                  {"file": f"_background_noise_/{path.name}", "start": start, "volume": round(volume, 4)})


def _vww_rows(raw: Path) -> Iterator[Row]:
    size = get_entry("vww01").input.shape[1]
    for label, folder in ((1, "person"), (0, "non_person")):
        for path in sorted(_require(raw / folder, "person/ and non_person/ image folders").iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                data = image_bytes(load_rgb(path), size)
                yield Row(f"{folder}_{path.stem}", label, data, {"file": f"{folder}/{path.name}"})


def _ic_rows(raw: Path) -> Iterator[Row]:
    path = _require(raw / "test_batch", "CIFAR-10's python test_batch")
    data, labels = read_cifar_batch(path)  # the user's own file: read without running its pickle
    for index, (row, label) in enumerate(zip(data, labels, strict=True)):
        pixels = row.reshape(3, 32, 32).transpose(1, 2, 0)  # CHW planes -> HWC bytes
        yield Row(f"cifar10_test_{index:05d}", int(label), pixels_to_bytes(pixels), {"index": index})


def _ad_rows(raw: Path) -> Iterator[Row]:
    test = _require(raw / "test", "ToyCar's test/ folder of normal_*.wav and anomaly_*.wav")
    for path in sorted(test.glob("*.wav")):
        if path.name.startswith(("normal", "anomaly")):
            label = 1 if path.name.startswith("anomaly") else 0
            try:
                data = ad_file(_audio(path))
            except ValueError as e:
                raise DatasetError(f"{path}: {e}") from e
            yield Row(path.stem, label, data, {"file": f"test/{path.name}"})


BUILDERS = {"kws01": _kws_rows, "vww01": _vww_rows, "ad01": _ad_rows, "ic01": _ic_rows}


def build_dataset(benchmark: str, raw: Path, out: Path, limit: int | None = None,
                  progress: Progress = lambda name: None) -> Path:
    if not raw.is_dir():
        raise DatasetError(f"raw dataset folder {raw} does not exist")
    if (out / "y_labels.csv").exists():
        raise DatasetError(f"{out} already holds a dataset; choose a new --out (nothing is overwritten)")
    rows = []
    for row in BUILDERS[benchmark](raw):
        rows.append(row)
        progress(row.name)
        if limit is not None and len(rows) >= limit:
            break
    if not rows:
        raise DatasetError(f"{raw}: no samples found for {benchmark}")
    note = f"built by tinyperf from {raw} ({len(rows)} samples)"
    return write_eembc_folder(out, benchmark, rows, note, {"raw": str(raw)})
