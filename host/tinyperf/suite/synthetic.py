"""Deterministic generated inputs, for when no real dataset is at hand.

Two uses, both labelled as what they are wherever they appear:
- performance windows without a dataset (throughput does not depend on the input values);
- a *reference-labelled* set: labels are what TFLM's host interpreter predicts, so its "accuracy"
  measures device-vs-reference agreement, never the model's accuracy on real data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyperf.suite.models import ModelEntry
from tinyperf.suite.scoring import argmax

REFERENCE_LABELLED = "synthetic inputs labelled by the host TFLM reference (measures device/reference agreement)"


def synthetic_input(entry: ModelEntry, rng: np.random.Generator, nbytes: int | None = None) -> bytes:
    nbytes = nbytes or entry.input.bin_bytes
    if entry.input.bin_format == "float32_quantize":  # log-mel dB values in the model's input range
        return rng.uniform(-60.0, 10.0, nbytes // 4).astype("<f4").tobytes()
    if entry.input.bin_format == "float32":  # finite features (random bytes would hold NaN and inf patterns)
        return rng.uniform(0.0, 1.0, nbytes // 4).astype("<f4").tobytes()
    smooth = np.cumsum(rng.normal(0.0, 12.0, nbytes)) % 256  # varied, not white noise
    return smooth.astype(np.uint8).tobytes()


def synthetic_inputs(entry: ModelEntry, count: int, seed: int = 0) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    return [(f"synthetic-{seed}-{i}", synthetic_input(entry, rng)) for i in range(count)]


def write_reference_labelled_set(
    entry: ModelEntry, model_path: Path, out_dir: Path, count: int, seed: int = 0
) -> Path:
    """Write an EEMBC folder whose labels are the host reference's own answers."""
    from tinyperf.sim.board.engine import TflmEngine

    engine = TflmEngine(model_path, entry.input.bin_format)
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        if entry.window_bytes is not None:
            data = synthetic_input(entry, rng, entry.file_bytes)
            windows = [data[k : k + entry.window_bytes]
                       for k in range(0, len(data) - entry.window_bytes + 1, entry.stride_bytes or 1)]
            rows.append((f"synth_{i:05d}.bin", float(np.mean([engine.run(w)[0] for w in windows])), data))
        else:
            data = synthetic_input(entry, rng)
            rows.append((f"synth_{i:05d}.bin", argmax(engine.run(data)), data))
    threshold = float(np.median([r[1] for r in rows])) if entry.scoring == "auc" else 0.0
    lines = []
    for name, answer, data in rows:
        (out_dir / name).write_bytes(data)
        if entry.scoring == "auc":
            lines.append(f"{name},2,{int(answer > threshold)},{entry.window_bytes},{entry.stride_bytes}")
        else:
            lines.append(f"{name},{len(entry.labels)},{answer}")
    (out_dir / "y_labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out_dir / "README.txt").write_text(REFERENCE_LABELLED + "\n", encoding="utf-8")
    return out_dir
