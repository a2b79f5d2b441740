"""Spoken words from the Debian text-to-speech engines (espeak-ng, flite, festival)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.errors import TinyperfError
from tinyperf.suite.frontends.audio import read_wav, resample

SYNTH_TIMEOUT_S = 30.0
ESPEAK_LANGUAGES = ("en-us", "en-gb", "en-gb-x-rp")  # Speech Commands speakers are mostly US/UK English
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f2", "f3", "f4")
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")
DEBIAN_PACKAGES = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "festival"}


@dataclass(frozen=True)
class Voice:
    engine: str  # espeak-ng | flite | festival
    name: str
    words_per_minute: int | None = None  # only espeak-ng takes a speed

    @property
    def label(self) -> str:
        speed = f"@{self.words_per_minute}wpm" if self.words_per_minute else ""
        return f"{self.engine}:{self.name}{speed}"


def all_voices() -> list[Voice]:
    """Every voice configuration the smoke set uses; speeds spread over 150-175 words/min."""
    voices = []
    speeds = (150, 158, 166, 175)
    for i, (language, variant) in enumerate((lang, var) for lang in ESPEAK_LANGUAGES for var in ESPEAK_VARIANTS):
        voices.append(Voice("espeak-ng", f"{language}+{variant}", speeds[i % len(speeds)]))
    voices += [Voice("flite", name) for name in FLITE_VOICES]
    voices += [Voice("festival", name) for name in FESTIVAL_VOICES]
    return voices


def missing_engines() -> list[str]:
    needed = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}
    return [engine for engine, program in needed.items() if shutil.which(program) is None]


def _command(voice: Voice, text: str, out: Path) -> list[str]:
    if voice.engine == "espeak-ng":
        return ["espeak-ng", "-v", voice.name, "-s", str(voice.words_per_minute), "-w", str(out), text]
    if voice.engine == "flite":
        return ["flite", "-voice", voice.name, "-t", text, "-o", str(out)]
    if voice.engine == "festival":
        return ["text2wave", "-eval", f"(voice_{voice.name})", "-o", str(out)]
    raise ValueError(f"unknown engine {voice.engine}")


def synthesize(voice: Voice, text: str) -> tuple[np.ndarray, str]:
    """16 kHz samples of `text` spoken by `voice`, and the sha256 of the engine's wav output."""
    with tempfile.TemporaryDirectory(prefix="tinyperf-tts-") as tmp:
        out = Path(tmp) / "speech.wav"
        command = _command(voice, text, out)
        try:
            subprocess.run(command, input=text.encode() if voice.engine == "festival" else None,
                           capture_output=True, timeout=SYNTH_TIMEOUT_S, check=True)
        except FileNotFoundError as e:
            package = DEBIAN_PACKAGES[voice.engine]
            raise TinyperfError(f"{command[0]} is not installed; apt-get install {package}") from e
        except subprocess.CalledProcessError as e:
            raise TinyperfError(f"{voice.label} failed on {text!r}: {e.stderr.decode(errors='replace')[-300:]}") from e
        except subprocess.TimeoutExpired as e:
            raise TinyperfError(f"{voice.label} took over {SYNTH_TIMEOUT_S:.0f} s on {text!r}") from e
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        samples, rate = read_wav(out)
    return resample(samples, rate), digest
