"""Test streams: a WAV file (16 kHz, 16-bit, 1 or 2 channels) and its ground truth in the official
JSON format, a list of {"wav_file", "sample_rate", "length_sec", "detection_windows": [[start, end], ...]}.
"""

from __future__ import annotations

import itertools
import json
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.errors import DatasetError
from tinyperf.suite.sww.frontend import SAMPLE_RATE

MAX_TRUTH_BYTES = 4 * 1024 * 1024
MAX_STREAM_SECONDS = 4 * 3600


@dataclass(frozen=True)
class StreamTruth:
    wav_file: str
    length_sec: float
    windows: tuple[tuple[float, float], ...]
    sample_rate: int = SAMPLE_RATE

    def as_json(self) -> dict:
        return {"wav_file": self.wav_file, "sample_rate": self.sample_rate, "length_sec": self.length_sec,
                "detection_windows": [list(w) for w in self.windows]}


def read_truth(path: Path) -> list[StreamTruth]:
    """Every entry of an official ground-truth file, checked; errors name the file and the entry."""
    try:
        if path.stat().st_size > MAX_TRUTH_BYTES:
            raise DatasetError(f"{path}: {path.stat().st_size} bytes; a ground-truth file is at most "
                               f"{MAX_TRUTH_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"{path}: not a readable ground-truth JSON file ({e})") from None
    if not isinstance(data, list) or not data:
        raise DatasetError(f"{path}: expected a list of streams, each with 'wav_file' and 'detection_windows'")
    return [_entry(path, i, item) for i, item in enumerate(data)]


def _entry(path: Path, index: int, item: object) -> StreamTruth:
    where = f"{path}: entry {index}"
    if not isinstance(item, dict) or "wav_file" not in item or "detection_windows" not in item:
        raise DatasetError(f"{where}: needs 'wav_file' and 'detection_windows'")
    try:
        windows = tuple((float(a), float(b)) for a, b in item["detection_windows"])
        rate = int(item.get("sample_rate", SAMPLE_RATE))
        length = float(item.get("length_sec", 0.0))
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: detection_windows must be [start, end] pairs of seconds") from None
    if rate != SAMPLE_RATE:
        raise DatasetError(f"{where}: sample_rate {rate}; sww01 streams are {SAMPLE_RATE} Hz")
    if any(not 0 <= a < b for a, b in windows) or any(b1 > a2 for (_, b1), (a2, _) in itertools.pairwise(windows)):
        raise DatasetError(f"{where}: detection windows must be increasing, non-overlapping [start, end] pairs")
    return StreamTruth(str(item["wav_file"]), length, windows, rate)


def write_truth(path: Path, streams: list[StreamTruth]) -> None:
    path.write_text(json.dumps([s.as_json() for s in streams], indent=2) + "\n", encoding="utf-8")


def read_wav(path: Path) -> np.ndarray:
    """The first channel as int16 (the device takes the left I2S channel), 16 kHz 16-bit only."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getframerate() != SAMPLE_RATE or w.getsampwidth() != 2:
                raise DatasetError(f"{path}: {w.getframerate()} Hz, {8 * w.getsampwidth()}-bit; sww01 streams are "
                                   f"{SAMPLE_RATE} Hz 16-bit")
            if w.getnframes() > MAX_STREAM_SECONDS * SAMPLE_RATE:
                raise DatasetError(f"{path}: longer than {MAX_STREAM_SECONDS} s")
            channels = w.getnchannels()
            data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    except (OSError, EOFError, wave.Error) as e:
        raise DatasetError(f"{path}: not a readable WAV file ({e})") from None
    return data[: len(data) // channels * channels].reshape(-1, channels)[:, 0].copy()
