"""AD front end of the MLPerf Tiny anomaly-detection (DCASE 2020 baseline) code, in numpy.

16 kHz audio -> centred STFT (n_fft 1024, hop 512, periodic Hann, reflect padding) -> power ->
128 Slaney mel bins (librosa's default filterbank) -> 10*log10(x + eps) -> frames 50..250 ->
200 x 128 float32, the EEMBC ad01 .bin layout the runner slides 5-frame (2560-byte) windows over.
"""

from __future__ import annotations

import sys

import numpy as np

from tinyperf.suite.frontends.audio import SAMPLE_RATE

FFT = 1024
HOP = 512
MEL_BINS = 128
FIRST_FRAME, LAST_FRAME = 50, 250
FILE_FRAMES = LAST_FRAME - FIRST_FRAME


def hertz_to_mel_slaney(hertz: np.ndarray) -> np.ndarray:
    """Slaney's scale: linear below 1 kHz, logarithmic above (librosa with htk=False)."""
    hertz = np.asarray(hertz, dtype=np.float64)
    linear = hertz / (200.0 / 3.0)
    log_part = 15.0 + np.log(np.maximum(hertz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hertz >= 1000.0, log_part, linear)


def mel_to_hertz_slaney(mels: np.ndarray) -> np.ndarray:
    mels = np.asarray(mels, dtype=np.float64)
    linear = mels * (200.0 / 3.0)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mels - 15.0))
    return np.where(mels >= 15.0, log_part, linear)


def slaney_mel_matrix(bins: int = MEL_BINS, fft: int = FFT, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Area-normalised triangular filters, shape (bins, fft // 2 + 1)."""
    fft_freqs = np.linspace(0.0, rate / 2.0, fft // 2 + 1)
    mel_freqs = mel_to_hertz_slaney(np.linspace(hertz_to_mel_slaney(0.0), hertz_to_mel_slaney(rate / 2.0), bins + 2))
    widths = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (mel_freqs[2:] - mel_freqs[:-2]))[:, None]


_WINDOW = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(FFT) / FFT)
_MEL = slaney_mel_matrix()


def log_mel(samples: np.ndarray) -> np.ndarray:
    """(frames, 128) log-mel energies in dB."""
    padded = np.pad(samples, FFT // 2, mode="reflect")
    count = 1 + (len(padded) - FFT) // HOP
    frames = padded[np.arange(count)[:, None] * HOP + np.arange(FFT)] * _WINDOW
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return 10.0 * np.log10(power @ _MEL.T + sys.float_info.epsilon)


def ad_file(samples: np.ndarray) -> bytes:
    """The 102400-byte EEMBC ad01 file for one clip (at least 8 s of 16 kHz audio)."""
    features = log_mel(samples)
    if len(features) < LAST_FRAME:
        seconds = (LAST_FRAME * HOP) / SAMPLE_RATE
        raise ValueError(f"clip gives {len(features)} frames; ad01 files need {LAST_FRAME} (~{seconds:.1f} s of audio)")
    return features[FIRST_FRAME:LAST_FRAME].astype("<f4").tobytes()
