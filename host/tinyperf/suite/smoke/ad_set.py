"""The ad01 smoke set: a labelled PIPELINE CHECK, not a measure of the model's quality.

No realistic machine audio ships in any package registry, so the clips are synthetic: "normal" is a
motor-like hum (a fundamental with harmonics, slow wobble, broadband noise); "anomaly" adds what a
failing machine does (bearing clicks and a high whine). It proves that audio -> log-mel -> 196
windows -> device -> mean-MSE -> AUC works end to end on real bytes; its AUC says little about ToyCar.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from tinyperf.suite.frontends.ad import ad_file
from tinyperf.suite.frontends.audio import SAMPLE_RATE

SECONDS = 10
PER_CLASS = 6


@dataclass(frozen=True)
class MachineClip:
    name: str
    label: int  # 0 normal, 1 anomaly
    data: bytes
    source: dict


def _hum(rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    t = np.arange(SECONDS * SAMPLE_RATE) / SAMPLE_RATE
    f0 = float(rng.uniform(80.0, 140.0))
    wobble = 1.0 + 0.01 * np.sin(2 * np.pi * rng.uniform(0.2, 1.0) * t)
    phase = 2 * np.pi * f0 * np.cumsum(wobble) / SAMPLE_RATE
    signal = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 12))
    signal = signal + 0.3 * rng.standard_normal(len(t))
    return signal / np.max(np.abs(signal)) * 0.3, {"f0_hz": round(f0, 2)}


def _faults(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(len(samples)) / SAMPLE_RATE
    out = samples + 0.05 * np.sin(2 * np.pi * rng.uniform(3000.0, 6000.0) * t)
    period = int(SAMPLE_RATE / rng.uniform(5.0, 15.0))
    click = np.exp(-np.arange(200) / 30.0) * rng.standard_normal(200) * 0.6
    for start in range(int(rng.integers(0, period)), len(out) - 200, period):
        out[start : start + 200] += click
    return out


def machine_clips() -> list[MachineClip]:
    clips = []
    for label, kind in ((0, "normal"), (1, "anomaly")):
        for index in range(PER_CLASS):
            name = f"{kind}_{index:02d}"
            rng = np.random.default_rng(zlib.crc32(name.encode()))
            samples, params = _hum(rng)
            if label:
                samples = _faults(samples, rng)
            source = {"kind": "synthetic machine sound (pipeline check)", "class": kind, **params}
            clips.append(MachineClip(name, label, ad_file(samples), source))
    return clips
