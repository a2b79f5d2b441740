"""EEMBC dataset folders: y_labels.csv plus one .bin per row, checked before a run starts.

Row format (no header): file,num_classes,label   (ad01 adds ,window_bytes,stride_bytes).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tinyperf.errors import DatasetError
from tinyperf.suite.models import ModelEntry

LABEL_FILE = "y_labels.csv"


@dataclass(frozen=True)
class Sample:
    name: str
    path: Path
    label: int
    window_bytes: int | None = None
    stride_bytes: int | None = None

    def windows(self, data: bytes) -> list[bytes]:
        """The device-sized pieces of a sample (AD files slide a window; others are one piece)."""
        if self.window_bytes is None or self.stride_bytes is None:
            return [data]
        last = len(data) - self.window_bytes
        return [data[i : i + self.window_bytes] for i in range(0, last + 1, self.stride_bytes)]


def _int_field(value: str, where: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DatasetError(f"{where}: {what} must be an integer, got {value!r}") from None


def read_labels(folder: Path, entry: ModelEntry, label_file: str = LABEL_FILE) -> list[Sample]:
    """Parse and check every row; errors name the file and line and what was expected."""
    path = folder / label_file
    if not path.is_file():
        raise DatasetError(f"{path} not found: a dataset folder needs {label_file} beside its .bin files")
    with_windows = entry.window_bytes is not None
    samples = []
    first_seen: dict[str, int] = {}
    try:  # utf-8-sig: a label file saved by Excel starts with a BOM, which is not part of the first name
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        line = e.object[: e.start].count(b"\n") + 1
        raise DatasetError(f"{path}:{line}: not UTF-8 text (byte 0x{e.object[e.start]:02x}); save it as UTF-8 CSV"
                           ) from None
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror or e}") from None
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        where = f"{path}:{number}"
        if not row or all(not cell.strip() for cell in row):
            continue
        row = [cell.strip() for cell in row]
        expected = 5 if with_windows else 3
        if len(row) != expected:
            shape = "file,num_classes,label" + (",window_bytes,stride_bytes" if with_windows else "")
            raise DatasetError(f"{where}: expected {expected} fields ({shape}), got {len(row)}: {row}")
        classes = _int_field(row[1], where, "num_classes")
        label = _int_field(row[2], where, "label")
        if classes != len(entry.labels):
            raise DatasetError(f"{where}: num_classes is {classes}, the model has {len(entry.labels)}")
        if not 0 <= label < classes:
            raise DatasetError(f"{where}: label {label} is outside 0..{classes - 1}")
        window = stride = None
        if with_windows:
            window = _int_field(row[3], where, "window_bytes")
            stride = _int_field(row[4], where, "stride_bytes")
            if window != entry.input.bin_bytes or stride <= 0:
                raise DatasetError(
                    f"{where}: window/stride {window}/{stride} bytes; the model takes "
                    f"{entry.input.bin_bytes}-byte windows and the stride must be > 0"
                )
        if row[0] in first_seen:
            raise DatasetError(f"{where}: {row[0]} is listed twice (first on line {first_seen[row[0]]})")
        first_seen[row[0]] = number
        samples.append(Sample(row[0], folder / row[0], label, window, stride))
    if not samples:
        raise DatasetError(f"{path}: no rows")
    return samples


def check_files(samples: list[Sample], entry: ModelEntry) -> None:
    """Every .bin must exist and have the size the model takes, before any result is produced."""
    missing = [s for s in samples if not s.path.is_file()]
    if missing:
        raise DatasetError(
            f"{len(missing)} of {len(samples)} input files are missing, first: {missing[0].path}"
        )
    for sample in samples:
        size = sample.path.stat().st_size
        if sample.window_bytes is None:
            if size != entry.input.bin_bytes:
                raise DatasetError(
                    f"{sample.path}: {size} bytes, but the model input takes {entry.input.bin_bytes}"
                )
        elif size < sample.window_bytes or (size - sample.window_bytes) % sample.stride_bytes:
            raise DatasetError(
                f"{sample.path}: {size} bytes does not hold whole {sample.window_bytes}-byte windows "
                f"at a {sample.stride_bytes}-byte stride"
            )


def load_dataset(folder: Path, entry: ModelEntry) -> list[Sample]:
    if not folder.is_dir():
        raise DatasetError(f"dataset folder {folder} does not exist")
    samples = read_labels(folder, entry)
    check_files(samples, entry)
    return samples
