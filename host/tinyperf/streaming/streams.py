"""Long test streams for sww01 from registry material: Debian's TTS engines (espeak-ng, flite) say
"marvin" and other words over generated noise and silence; the ground truth is written in the official
JSON format, each window from the first to the last voiced sample of a wakeword.

Not the official test stream (LibriSpeech/MUSAN backgrounds, Speech Commands "marvin" clips): a stream
built here measures a device on synthetic speech and says so wherever it is used.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.errors import DatasetError
from tinyperf.streaming.frontend import SAMPLE_RATE
from tinyperf.streaming.truth import StreamTruth, write_truth, write_wav

TTS_TIMEOUT_S = 30.0
# (engine, voice): espeak-ng variants and flite's built-in voices, all in Debian
VOICES = (("espeak-ng", "en-us"), ("espeak-ng", "en"), ("espeak-ng", "en-gb-x-rp"), ("espeak-ng", "en-us+m3"),
          ("espeak-ng", "en-us+f2"), ("espeak-ng", "en+m7"), ("flite", "kal16"), ("flite", "awb"),
          ("flite", "rms"), ("flite", "slt"))
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


def resample(x: np.ndarray, rate: int) -> np.ndarray:
    """Band-limited resampling to 16 kHz (FFT: a clip is a second or two)."""
    if rate == SAMPLE_RATE:
        return x.astype(np.float64)
    n = round(len(x) * SAMPLE_RATE / rate)
    spectrum = np.fft.rfft(x.astype(np.float64))
    out = np.zeros(n // 2 + 1, complex)
    k = min(len(spectrum), len(out))
    out[:k] = spectrum[:k]
    return np.fft.irfft(out, n) * n / len(x)


def synthesize(engine: str, voice: str, text: str) -> np.ndarray:
    """One utterance as float samples at 16 kHz, trimmed to its voiced part."""
    if shutil.which(engine) is None:
        raise DatasetError(f"{engine} is not installed; `apt install espeak-ng flite` provides the TTS voices")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "say.wav"
        argv = [engine, "-v", voice, "-w", str(out), text] if engine == "espeak-ng" else \
            [engine, "-voice", voice, "-t", text, "-o", str(out)]
        try:
            subprocess.run(argv, check=True, capture_output=True, timeout=TTS_TIMEOUT_S)
            with wave.open(str(out), "rb") as w:
                rate = w.getframerate()
                x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        except (subprocess.SubprocessError, OSError, wave.Error, EOFError) as e:
            raise DatasetError(f"{engine} -v {voice} could not say {text!r}: {e}") from None
    return _trim(resample(x, rate))


def _trim(x: np.ndarray) -> np.ndarray:
    """Cut leading and trailing near-silence (below 2 % of the peak)."""
    loud = np.nonzero(np.abs(x) > 0.02 * (np.abs(x).max() + 1e-9))[0]
    return x[loud[0] : loud[-1] + 1] if len(loud) else x


def _background(rng: np.random.Generator, n: int) -> np.ndarray:
    """Segments of silence, white, pink and brown noise at varied levels."""
    out = np.zeros(n)
    position = 0
    while position < n:
        length = min(n - position, int(rng.uniform(3, 20) * SAMPLE_RATE))
        kind = rng.choice(["silence", "white", "pink", "brown"])
        white = rng.normal(0, 1, length)
        if kind == "silence":
            noise = white * 3.0
        elif kind == "white":
            noise = white * rng.uniform(20, 300)
        else:
            spectrum = np.fft.rfft(white)
            f = np.maximum(np.arange(len(spectrum)), 1)
            spectrum /= np.sqrt(f) if kind == "pink" else f
            noise = np.fft.irfft(spectrum, length)
            noise *= rng.uniform(50, 800) / (noise.std() + 1e-9)
        out[position : position + length] = noise
        position += length
    return out


def build_stream(seconds: float, wakewords: int, seed: int = 0, others: int | None = None,
                 say: Callable[[str, str, str], np.ndarray] = synthesize) -> tuple[np.ndarray, list[Spoken]]:
    """int16 samples and what is said where. Words never overlap and keep MIN_GAP_S apart."""
    rng = np.random.default_rng(seed)
    others = wakewords if others is None else others
    n = int(seconds * SAMPLE_RATE)
    plan = [("marvin", True)] * wakewords + [(str(rng.choice(OTHER_WORDS)), False) for _ in range(others)]
    order = rng.permutation(len(plan))
    clips = []
    for index in order:
        text, wake = plan[index]
        engine, voice = VOICES[int(rng.integers(len(VOICES)))]
        clip = say(engine, voice, text)
        clip = clip / (np.abs(clip).max() + 1e-9) * rng.uniform(4000, 16000)
        clips.append((text, wake, f"{engine}:{voice}", clip))
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
    write_wav(out / truth.wav_file, samples)
    write_truth(out / f"{name}.json", [truth])
    (out / f"{name}.sources.json").write_text(json.dumps({
        "note": NOTE, "seed": seed, "seconds": seconds, "wakewords": wakewords,
        "words": [s.__dict__ for s in spoken]}, indent=1) + "\n", encoding="utf-8")
    return truth
