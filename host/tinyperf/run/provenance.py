"""Where a run's data came from, and whether its result may go into an MLPerf Tiny submission.

"Rules followed" (windows, sample count, no failed samples) is not "submittable": a closed-division
accuracy figure counts only on the official test set, on a real board, with the official model.
A dataset is official when its y_labels.csv lists exactly the official files with their official
labels (fingerprinted below; the lists themselves stay out of the package) and every file is there.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from tinyperf.errors import TinyperfError
from tinyperf.suite.datasets import Sample
from tinyperf.suite.synthetic import REFERENCE_LABELLED

Kind = Literal["official", "custom", "smoke", "synthetic", "none"]

#: rows and sha256 of the sorted "file,label" lines of each official y_labels.csv (MLPerf Tiny, mlcommons/tiny)
OFFICIAL_LABEL_LISTS: dict[str, tuple[int, str]] = {
    "ad01": (248, "94d5d73b75e7c2014804dc4dac10818589ba6fe95e2c3d96321d31140ed1854c"),
    "ic01": (200, "5b5e0924040a01dcd59e82cfec847bc8a70ae42c82718619e78be466dc2488f1"),
    "kws01": (1000, "99868aab6cb248cbbf73d35df5f1e9f42a748cc9723b45332532139268b854bc"),
    "vww01": (1000, "3a3a3a6a5f593a3b81ae98e3f2d7513c18484b0c4ff4b415f3b91daefc235b39"),
}


@dataclass(frozen=True)
class Provenance:
    kind: Kind
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def label_list_fingerprint(samples: list[Sample]) -> str:
    text = "\n".join(sorted(f"{s.name},{s.label}" for s in samples))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dataset_provenance(benchmark: str, folder: Path | None, samples: list[Sample] | None, smoke: bool) -> Provenance:
    """official / custom / smoke / synthetic, with the reason a reader can check."""
    if folder is None or samples is None:
        return Provenance("none", "no dataset (performance inputs only)")
    if smoke:
        return Provenance("smoke", f"the packaged {benchmark} smoke set ({len(samples)} samples), not the official "
                          "test set")
    readme = folder / "README.txt"
    if readme.is_file() and REFERENCE_LABELLED in readme.read_text(encoding="utf-8", errors="replace"):
        return Provenance("synthetic", f"{len(samples)} synthetic inputs labelled by the host reference")
    official = OFFICIAL_LABEL_LISTS.get(_inputs_of(benchmark))
    if official is None:
        return Provenance("custom", f"tinyperf knows no official list for {benchmark}")
    rows, digest = official
    if len(samples) != rows:
        return Provenance("custom", f"{len(samples)} rows in y_labels.csv; the official {benchmark} list has {rows}")
    if label_list_fingerprint(samples) != digest:
        return Provenance("custom", f"y_labels.csv has {rows} rows but not the official files and labels")
    missing = [s.name for s in samples if not s.path.is_file()]
    if missing:
        return Provenance("custom", f"{len(missing)} official files missing (first: {missing[0]})")
    return Provenance("official", f"the official {benchmark} test set ({rows} files, list fingerprint matches)")


def _inputs_of(benchmark: str) -> str:
    """ic02 is scored on ic01's test set (the official runner's ic02 test reads the ic01 dataset folder)."""
    from tinyperf.suite.models import get_entry

    try:
        return get_entry(benchmark).inputs_of or benchmark
    except TinyperfError:
        return benchmark


def submittable_reasons(mode: str, valid: bool, board_kind: str, model_official: bool,
                        data: Provenance, division: str = "closed") -> list[str]:
    """Why a run cannot go into a submission (empty: it can)."""
    reasons = []
    if not valid:
        reasons.append("the run breaks the MLPerf Tiny rules")
    if board_kind != "hardware":
        reasons.append(f"the board is {board_kind}")
    if not model_official and division == "closed":
        reasons.append("the model is not the official one (closed division)")
    if mode == "accuracy" and data.kind != "official" and division == "closed":
        reasons.append(f"the accuracy data is {data.kind}, not the official test set ({data.reason})")
    return reasons
