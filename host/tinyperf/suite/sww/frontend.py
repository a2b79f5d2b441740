"""The sww01 front end: 40 log-mel energies per 32 ms hop of 16 kHz audio, as the reference firmware
computes them (float32, CMSIS-DSP order of operations) from the training code's definition.

Training code (benchmark/training/streaming_wakeword/get_dataset.py, get_lfbe_func): pre-emphasis
1 - 2^-5, 1024-sample Hamming (symmetric) window, 512 stride, power spectrum |X|^2 / 1024, TF's HTK
mel matrix (40 bins, 0 Hz to 8 kHz), 10 log10, (x + 52) / 64 clipped to [0, 1].
Device (sww_ref_util_submitter.c, th_compute_lfbe_f32): the same per frame, with the window holding
the previous 512 samples and the new 512 (the first frame starts on 512 zeros), pre-emphasis carried
across frames, and `(int8_t)(feature / scale - 128)`: truncation toward zero, and a feature above
0.944 wraps past 127 (the cast of an out-of-range value; the training code's numpy cast does the same).
"""

from __future__ import annotations

from functools import cache

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 1024
STRIDE = 512
MELS = 40
FRAMES_IN_INPUT = 30
PREEMPHASIS = np.float32(1.0 - 2.0**-5)
POWER_OFFSET = np.float32(52.0)


@cache
def hamming_window() -> np.ndarray:
    """tf.signal.hamming_window(1024, periodic=False) in float32."""
    n = np.arange(WINDOW, dtype=np.float64)
    return (0.54 - 0.46 * np.cos(2.0 * np.pi * n / (WINDOW - 1))).astype(np.float32)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 1127.0 * np.log1p(hz / 700.0)


@cache
def mel_matrix() -> np.ndarray:
    """tf.signal.linear_to_mel_weight_matrix(40, 513, 16000, 0, 8000): [513, 40] float32, row 0 (DC) zero."""
    bins = WINDOW // 2 + 1
    linear = np.linspace(0.0, SAMPLE_RATE / 2.0, bins, dtype=np.float32)[1:]
    spectrogram_mel = _hz_to_mel(linear.astype(np.float32)).astype(np.float32)[:, None]
    edges = np.linspace(_hz_to_mel(np.float32(0.0)), _hz_to_mel(np.float32(SAMPLE_RATE / 2.0)), MELS + 2,
                        dtype=np.float32)
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    lower_slopes = (spectrogram_mel - lower) / (center - lower)
    upper_slopes = (upper - spectrogram_mel) / (upper - center)
    weights = np.maximum(np.float32(0.0), np.minimum(lower_slopes, upper_slopes)).astype(np.float32)
    return np.vstack([np.zeros((1, MELS), np.float32), weights])


def frame_count(samples: int) -> int:
    """Frames a device processes for a stream: one per complete 512-sample chunk."""
    return samples // STRIDE


def log_mel_features(samples: np.ndarray) -> np.ndarray:
    """[frames, 40] float32 in [0, 1]: frame k covers samples (k-1)*512 .. (k+1)*512 (zeros before 0)."""
    x = np.asarray(samples, dtype=np.int16)
    frames = frame_count(len(x))
    padded = np.concatenate([np.zeros(STRIDE, np.float32), x[: frames * STRIDE].astype(np.float32) / 32768.0])
    emphasised = padded.copy()
    emphasised[1:] = padded[1:] - PREEMPHASIS * padded[:-1]  # float32, as arm_scale_f32 then arm_sub_f32
    index = np.arange(WINDOW)[None, :] + STRIDE * np.arange(frames)[:, None]
    windowed = emphasised[index] * hamming_window()
    spectrum = np.fft.rfft(windowed.astype(np.float64), axis=1)
    magnitude = np.abs(spectrum).astype(np.float32)
    power = (magnitude * magnitude) * np.float32(1.0 / WINDOW)
    mel = (power.astype(np.float64) @ mel_matrix().astype(np.float64)).astype(np.float32)
    mel = np.maximum(mel, np.float32(1e-30))
    log_mel = (np.float32(10.0) * np.log10(mel)).astype(np.float32)
    scaled = (log_mel + POWER_OFFSET) * np.float32(1.0 / 64.0)
    return np.clip(scaled, np.float32(0.0), np.float32(1.0))


def quantize(features: np.ndarray, scale: float) -> np.ndarray:
    """`(int8_t)(feature / scale - 128)`: truncate toward zero, wrap to 8 bits (what the device computes)."""
    values = (features.astype(np.float32) / np.float32(scale) - np.float32(128.0)).astype(np.float32)
    return np.trunc(values).astype(np.int64).astype(np.uint8).view(np.int8)
