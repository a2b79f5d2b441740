"""KWS front end of the MLPerf Tiny keyword-spotting training code, in numpy.

1 s of 16 kHz audio, peak-normalised -> 49 frames of 480 samples at hop 320 -> periodic Hann ->
|rfft 512| -> 40 HTK mel bins over 20-4000 Hz (TF's linear_to_mel_weight_matrix) -> log(x + 1e-6)
-> DCT-II with TF's 1/sqrt(2N) scaling -> first 10 coefficients -> int8 with the model's scale and
zero point. Checked against tf.signal by benchmarks/kws_frontend_vs_tf.py.
"""

from __future__ import annotations

import numpy as np

from tinyperf.suite.frontends.audio import SAMPLE_RATE

FRAME = 480
HOP = 320
FFT = 512
MEL_BINS = 40
LOW_HZ, HIGH_HZ = 20.0, 4000.0
COEFFICIENTS = 10
FRAMES = 1 + (SAMPLE_RATE - FRAME) // HOP  # 49
LOG_FLOOR = 1e-6
DITHER = 1.0 / 32768.0  # one 16-bit LSB


def hertz_to_mel_htk(hertz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hertz, dtype=np.float64) / 700.0)


def mel_matrix(bins: int = MEL_BINS, spectrum_bins: int = FFT // 2 + 1, rate: int = SAMPLE_RATE,
               low: float = LOW_HZ, high: float = HIGH_HZ) -> np.ndarray:
    """Triangular HTK-mel weights, shape (spectrum_bins, bins); the DC bin gets no weight, as in TF."""
    linear_mel = hertz_to_mel_htk(np.linspace(0.0, rate / 2.0, spectrum_bins)[1:])[:, None]
    edges = np.linspace(hertz_to_mel_htk(low), hertz_to_mel_htk(high), bins + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (linear_mel - lower) / (center - lower)
    falling = (upper - linear_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, bins)), weights])


def dct_matrix(size: int = MEL_BINS) -> np.ndarray:
    """Unnormalised DCT-II (2 * sum x_n cos(...)) times 1/sqrt(2N): TF's mfccs_from_log_mel_spectrograms."""
    n = np.arange(size)
    basis = 2.0 * np.cos(np.pi * np.outer(n, 2 * n + 1) / (2.0 * size))  # [k, n]
    return basis.T / np.sqrt(2.0 * size)


_WINDOW = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(FRAME) / FRAME)  # periodic Hann
_MEL = mel_matrix()
_DCT = dct_matrix()


def normalise(samples: np.ndarray, seed: int = 0) -> np.ndarray:
    """Pad/cut to 1 s, dither exactly-silent stretches, divide by the peak as the training code does."""
    audio = np.zeros(SAMPLE_RATE)
    audio[: min(len(samples), SAMPLE_RATE)] = samples[:SAMPLE_RATE]
    silent = audio == 0.0
    if silent.any():  # log(0 + 1e-6) of digital silence is unstable even in the reference
        rng = np.random.default_rng(seed)
        audio[silent] = rng.uniform(-DITHER, DITHER, int(silent.sum()))
    peak = audio.max()
    return audio / peak if peak > 0 else audio


def mfcc(samples: np.ndarray) -> np.ndarray:
    """(49, 10) MFCCs of 1 s of 16 kHz audio already normalised (see `normalise`)."""
    starts = np.arange(FRAMES) * HOP
    frames = samples[starts[:, None] + np.arange(FRAME)] * _WINDOW
    magnitude = np.abs(np.fft.rfft(frames, n=FFT, axis=1))
    log_mel = np.log(magnitude @ _MEL + LOG_FLOOR)
    return (log_mel @ _DCT)[:, :COEFFICIENTS]


def quantize(features: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return np.clip(np.round(features / scale + zero_point), -128, 127).astype(np.int8)


def kws_input(samples: np.ndarray, scale: float, zero_point: int, seed: int = 0) -> bytes:
    """The 490 int8 bytes the kws01 model takes for one 16 kHz clip."""
    return quantize(mfcc(normalise(samples, seed)), scale, zero_point).tobytes()
