"""The kws01 smoke set: TTS keywords and unknown words in white/pink noise, noise clips as silence.

Measured with the official model: clean TTS at 150-175 words/min with white or pink noise at
30-40 dB SNR is recognised; brown noise and digital silence are not, so they are not used.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tinyperf.frontends.audio import SAMPLE_RATE, add_noise, fit_length, noise, trim_silence
from tinyperf.smoke.speech import Voice, all_voices, synthesize

KEYWORDS = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes")
UNKNOWN_WORDS = ("bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
                 "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "forward", "backward", "follow", "learn", "visual")
SILENCE_LABEL = 10
UNKNOWN_LABEL = 11
UNKNOWN_PER_VOICE = 2
SILENCE_CLIPS = 40
SNR_RANGE_DB = (30.0, 40.0)


@dataclass(frozen=True)
class Clip:
    name: str
    label: int
    audio: np.ndarray  # 1 s at 16 kHz
    source: dict


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


def place_word(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Trim the engine's silence and put the word in a 1 s clip with a little random lead-in."""
    word = trim_silence(samples)[:SAMPLE_RATE]
    slack = SAMPLE_RATE - len(word)
    offset = int(rng.integers(slack // 4, 3 * slack // 4 + 1)) if slack > 0 else 0
    return fit_length(word, SAMPLE_RATE, offset)


def word_clip(word: str, label: int, voice: Voice) -> Clip:
    name = f"{word}_{voice.label}".replace(":", "-").replace("+", "-").replace("@", "-")
    rng = np.random.default_rng(_seed(name))
    samples, wav_sha = synthesize(voice, word)
    kind = "white" if rng.random() < 0.5 else "pink"
    snr = float(rng.uniform(*SNR_RANGE_DB))
    audio = add_noise(place_word(samples, rng), snr, kind, rng)
    source = {"kind": "tts", "engine": voice.engine, "voice": voice.label, "text": word,
              "engine_wav_sha256": wav_sha, "noise": kind, "snr_db": round(snr, 2)}
    return Clip(name, label, audio, source)


def silence_clip(index: int) -> Clip:
    name = f"silence_{index:03d}"
    rng = np.random.default_rng(_seed(name))
    kind = ("white", "pink")[index % 2]
    level = 10.0 ** rng.uniform(-3.0, -1.5)  # -60..-30 dBFS background
    audio = noise(kind, SAMPLE_RATE, rng) * level
    return Clip(name, SILENCE_LABEL, audio, {"kind": "noise", "noise": kind, "rms": round(level, 6)})


def kws_clips(voices: list[Voice] | None = None) -> Iterator[Clip]:
    """Every clip of the set, deterministic for a given engine version."""
    voices = voices or all_voices()
    for voice in voices:
        for label, word in enumerate(KEYWORDS):
            yield word_clip(word, label, voice)
    for i, voice in enumerate(voices):
        for j in range(UNKNOWN_PER_VOICE):
            word = UNKNOWN_WORDS[(i * UNKNOWN_PER_VOICE + j) % len(UNKNOWN_WORDS)]
            yield word_clip(word, UNKNOWN_LABEL, voice)
    for index in range(SILENCE_CLIPS):
        yield silence_clip(index)
