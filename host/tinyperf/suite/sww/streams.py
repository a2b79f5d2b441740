"""Long test streams for sww01 from registry material: Debian's TTS engines (espeak-ng, flite) say
"marvin" and other words over generated noise and silence; the ground truth is written in the official
JSON format, each window from the first to the last voiced sample of a wakeword.

Not the official test stream (LibriSpeech/MUSAN backgrounds, Speech Commands "marvin" clips): a stream
built here measures a device on synthetic speech and says so wherever it is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.errors import DatasetError
from tinyperf.suite.frontends.audio import noise, trim_silence, write_wav
from tinyperf.suite.smoke.speech import Voice, synthesize
from tinyperf.suite.sww.frontend import SAMPLE_RATE
from tinyperf.suite.sww.truth import StreamTruth, write_truth

# espeak-ng variants (at espeak-ng's default 175 words/min) and flite's built-in voices, all in Debian
VOICES = (*(Voice("espeak-ng", name, 175) for name in ("en-us", "en", "en-gb-x-rp", "en-us+m3", "en-us+f2",
                                                       "en+m7")),
          *(Voice("flite", name) for name in ("kal16", "awb", "rms", "slt")))
OTHER_WORDS = ("hello", "seven", "banana", "computer", "good morning", "weather", "music", "tomorrow", "yes",
               "stop", "window", "coffee", "left", "kitchen", "ready")
MIN_GAP_S = 2.5  # silence or noise between any two spoken words
NOTE = "SYNTHETIC stream: TTS voices (espeak-ng, flite) over generated noise, NOT the official sww01 test stream"


@dataclass(frozen=True)
class Spoken:
    text: str
    voice: str
    start_s: float
    end_s: float
    wakeword: bool


def say(voice: Voice, text: str) -> np.ndarray:
    """One utterance at 16 kHz, cut to its voiced part (first to last sample above 2 % of the peak)."""
    return trim_silence(synthesize(voice, text)[0], frame=1)


def _background(rng: np.random.Generator, n: int) -> np.ndarray:
    """Segments of silence, white, pink and brown noise at varied levels (in 16-bit sample units)."""
    out = np.zeros(n)
    position = 0
    while position < n:
        length = min(n - position, int(rng.uniform(3, 20) * SAMPLE_RATE))
        kind = str(rng.choice(["silence", "white", "pink", "brown"]))
        shaped = noise("white" if kind == "silence" else kind, length, rng)
        level = 3.0 if kind == "silence" else rng.uniform(20, 300) if kind == "white" else rng.uniform(50, 800)
        out[position : position + length] = shaped * level
        position += length
    return out


def build_stream(seconds: float, wakewords: int, seed: int = 0, others: int | None = None,
                 say: Callable[[Voice, str], np.ndarray] = say) -> tuple[np.ndarray, list[Spoken]]:
    """int16 samples and what is said where. Words never overlap and keep MIN_GAP_S apart."""
    rng = np.random.default_rng(seed)
    others = wakewords if others is None else others
    n = int(seconds * SAMPLE_RATE)
    plan = [("marvin", True)] * wakewords + [(str(rng.choice(OTHER_WORDS)), False) for _ in range(others)]
    order = rng.permutation(len(plan))
    clips = []
    for index in order:
        text, wake = plan[index]
        voice = VOICES[int(rng.integers(len(VOICES)))]
        clip = say(voice, text)
        clip = clip / (np.abs(clip).max() + 1e-9) * rng.uniform(4000, 16000)
        clips.append((text, wake, f"{voice.engine}:{voice.name}", clip))
    speech_s = sum(len(c[3]) for c in clips) / SAMPLE_RATE
    slack = seconds - speech_s - MIN_GAP_S * (len(clips) + 1)
    if slack < 0:
        raise DatasetError(f"{len(clips)} words do not fit in {seconds:g} s with {MIN_GAP_S} s between them")
    gaps = rng.dirichlet(np.ones(len(clips) + 1)) * slack + MIN_GAP_S
    audio = _background(rng, n)
    spoken = []
    t = 0.0
    for (text, wake, voice, clip), gap in zip(clips, gaps[:-1], strict=True):
        t += gap
        start = int(t * SAMPLE_RATE)
        audio[start : start + len(clip)] += clip
        spoken.append(Spoken(text, voice, start / SAMPLE_RATE, (start + len(clip)) / SAMPLE_RATE, wake))
        t = (start + len(clip)) / SAMPLE_RATE
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16), spoken


def write_stream(out: Path, name: str, seconds: float, wakewords: int, seed: int = 0,
                 others: int | None = None) -> StreamTruth:
    """`<name>.wav` (2 channels, as the interface board plays), `<name>.json` (official ground truth) and
    `<name>.sources.json` (every word, voice and position)."""
    samples, spoken = build_stream(seconds, wakewords, seed, others)
    out.mkdir(parents=True, exist_ok=True)
    windows = tuple((round(s.start_s, 6), round(s.end_s, 6)) for s in spoken if s.wakeword)
    truth = StreamTruth(f"{name}.wav", len(samples) / SAMPLE_RATE, windows)
    write_wav(out / truth.wav_file, samples / 32767.0, channels=2)
    write_truth(out / f"{name}.json", [truth])
    (out / f"{name}.sources.json").write_text(json.dumps({
        "note": NOTE, "seed": seed, "seconds": seconds, "wakewords": wakewords,
        "words": [s.__dict__ for s in spoken]}, indent=1) + "\n", encoding="utf-8")
    return truth
