"""The kws01 smoke set: TTS keywords and unknown words in white/pink noise, noise clips as silence.

Measured with the official model: clean TTS at 150-175 words/min with white or pink noise at
30-40 dB SNR is recognised; brown noise and digital silence are not, so they are not used.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.suite.frontends.audio import SAMPLE_RATE, add_noise, fit_length, noise, read_wav, resample, trim_silence
from tinyperf.suite.smoke.speech import Voice, all_voices, synthesize

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
    yield from human_clips()


ALSA_SOUNDS = Path("/usr/share/sounds/alsa")  # Debian alsa-utils: a human voice saying "Front Left" etc.
ALSA_WORDS = {"Front_Left": 2, "Rear_Left": 2, "Side_Left": 2, "Front_Right": 6, "Rear_Right": 6,
              "Side_Right": 6, "Front_Center": UNKNOWN_LABEL, "Rear_Center": UNKNOWN_LABEL}
FRAME = 320  # 20 ms at 16 kHz


def last_word(samples: np.ndarray) -> np.ndarray:
    """The word after the longest pause ("Front | Left" -> "Left"), with 60 ms of lead-in."""
    energy = np.array([np.sqrt(np.mean(samples[i : i + FRAME] ** 2)) for i in range(0, len(samples), FRAME)])
    loud = np.flatnonzero(energy > 0.1 * energy.max())
    gaps = np.diff(loud)
    cut = loud[int(np.argmax(gaps)) + 1] if len(gaps) else loud[0]
    return samples[max(0, (cut - 3) * FRAME) :]


def human_clips() -> Iterator[Clip]:
    """Real human speech: the second word of alsa-utils' channel test recordings, and its noise file."""
    for stem, label in ALSA_WORDS.items():
        path = ALSA_SOUNDS / f"{stem}.wav"
        samples, rate = read_wav(path)
        rng = np.random.default_rng(_seed(stem))
        word = last_word(resample(samples, rate))[:SAMPLE_RATE]
        audio = fit_length(word, SAMPLE_RATE, int(rng.integers(0, max(1, (SAMPLE_RATE - len(word)) // 2))))
        yield Clip(f"human_{stem}", label, audio, {"kind": "human speech", "file": str(path),
                                                  "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                                  "package": "alsa-utils", "cut": "word after the longest pause"})
    path = ALSA_SOUNDS / "Noise.wav"
    samples, rate = read_wav(path)
    audio = fit_length(resample(samples, rate) * 0.1, SAMPLE_RATE)
    yield Clip("human_Noise", SILENCE_LABEL, audio, {"kind": "noise recording", "file": str(path), "volume": 0.1,
                                                     "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                                     "package": "alsa-utils"})
