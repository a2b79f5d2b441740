"""Audio plumbing shared by the KWS and AD front ends: wav reading, resampling, padding, noise."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from tinyperf.errors import DatasetError

SAMPLE_RATE = 16_000


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1) and the sample rate; multi-channel files are averaged."""
    try:
        with wave.open(str(path), "rb") as handle:
            width = handle.getsampwidth()
            channels = handle.getnchannels()
            rate = handle.getframerate()
            raw = handle.readframes(handle.getnframes())
    except (wave.Error, EOFError, OSError) as e:
        raise DatasetError(f"{path}: not a readable PCM wav file ({e})") from e
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    elif width == 4:
        samples = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0
    else:
        raise DatasetError(f"{path}: {8 * width}-bit wav samples are not supported (8, 16 or 32-bit PCM)")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE, channels: int = 1) -> None:
    """16-bit PCM; with `channels` > 1 the same audio on each (the sww01 interface board plays stereo)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    pcm = np.repeat(pcm[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())


def resample(samples: np.ndarray, rate_from: int, rate_to: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling by FFT (clips here are seconds long, so one FFT is cheap and exact)."""
    if rate_from == rate_to or not len(samples):
        return samples
    count = round(len(samples) * rate_to / rate_from)
    spectrum = np.fft.rfft(samples)
    keep = min(len(spectrum), count // 2 + 1)
    resized = np.zeros(count // 2 + 1, dtype=complex)
    resized[:keep] = spectrum[:keep]
    return np.fft.irfft(resized, n=count) * (count / len(samples))


def fit_length(samples: np.ndarray, length: int = SAMPLE_RATE, offset: int = 0) -> np.ndarray:
    """Zero-pad or cut to `length`, placing the clip `offset` samples in (as Speech Commands pads)."""
    out = np.zeros(length)
    clip = samples[: max(0, length - offset)]
    out[offset : offset + len(clip)] = clip
    return out


def trim_silence(samples: np.ndarray, threshold: float = 0.02, frame: int = 160) -> np.ndarray:
    """Cut leading and trailing frames whose peak is under `threshold` of the clip's peak."""
    peak = np.max(np.abs(samples)) if len(samples) else 0.0
    if peak == 0.0:
        return samples[:0]
    padded = np.zeros(-(-len(samples) // frame) * frame)
    padded[: len(samples)] = np.abs(samples)
    loud = np.nonzero(padded.reshape(-1, frame).max(axis=1) >= threshold * peak)[0] * frame
    return samples[loud[0] : loud[-1] + frame] if len(loud) else samples[:0]


def noise(kind: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS white, pink (1/f power) or brown (1/f^2 power) noise."""
    white = rng.standard_normal(length)
    if kind == "white":
        shaped = white
    elif kind in ("pink", "brown"):
        spectrum = np.fft.rfft(white)
        freqs = np.arange(len(spectrum), dtype=float)
        freqs[0] = 1.0
        shaped = np.fft.irfft(spectrum / (np.sqrt(freqs) if kind == "pink" else freqs), n=length)
    else:
        raise ValueError(f"unknown noise kind {kind!r} (white, pink or brown)")
    return shaped / np.sqrt(np.mean(shaped**2))


def add_noise(samples: np.ndarray, snr_db: float, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Mix in noise so that signal RMS / noise RMS is `snr_db` (signal RMS over its non-silent part)."""
    active = samples[np.abs(samples) > 1e-4]
    rms = float(np.sqrt(np.mean(active**2))) if len(active) else 1e-3
    return samples + noise(kind, len(samples), rng) * rms / (10.0 ** (snr_db / 20.0))
