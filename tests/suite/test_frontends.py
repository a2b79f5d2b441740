"""The numpy front ends against their references: TF's tf.signal MFCC (pinned fixture made by
benchmarks/kws_frontend_vs_tf.py), librosa's log-mel (fixture from benchmarks/ad_frontend_vs_librosa.py),
and exact pixel layouts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.conftest import REPO
from tinyperf.suite.frontends import ad, kws
from tinyperf.suite.frontends.audio import fit_length, read_wav, resample, write_wav
from tinyperf.suite.frontends.image import image_bytes, pixels_to_bytes

pytestmark = pytest.mark.no_models  # runs without the official models

KWS_FIXTURE = REPO / "tests" / "fixtures" / "kws_mfcc_tf_reference.npz"
AD_FIXTURE = REPO / "tests" / "fixtures" / "ad_logmel_librosa_reference.npz"
KWS_SCALE, KWS_ZERO_POINT = 0.5847029, 83
MFCC_TOLERANCE = 2e-4  # measured 2e-5 over the 496 smoke clips


def test_kws_mfcc_matches_tensorflow() -> None:
    fixture = np.load(KWS_FIXTURE)
    mismatches = 0
    for pcm, theirs in zip(fixture["audio"], fixture["mfcc"], strict=True):
        audio = pcm / 32768.0
        ours = kws.mfcc(audio / audio.max())
        assert ours.shape == (49, 10)
        assert np.max(np.abs(ours - theirs)) < MFCC_TOLERANCE
        q_ours = kws.quantize(ours, KWS_SCALE, KWS_ZERO_POINT)
        q_theirs = kws.quantize(theirs.astype(np.float64), KWS_SCALE, KWS_ZERO_POINT)
        assert np.max(np.abs(q_ours.astype(int) - q_theirs.astype(int))) <= 1
        mismatches += int(np.count_nonzero(q_ours != q_theirs))
    assert mismatches <= 2, f"{mismatches} int8 values differ from TF's"


def test_kws_mel_matrix_is_tf_shaped() -> None:
    weights = kws.mel_matrix()
    assert weights.shape == (257, 40)
    assert not weights[0].any()  # TF gives the DC bin no weight
    assert weights.max() <= 1.0 and (weights.max(axis=0) > 0.5).all()
    assert not weights[int(4000 / 8000 * 256) + 2 :].any()  # nothing above 4 kHz


def test_kws_input_of_digital_silence_is_stable() -> None:
    silent = np.zeros(16000)
    assert kws.kws_input(silent, KWS_SCALE, KWS_ZERO_POINT) == kws.kws_input(silent, KWS_SCALE, KWS_ZERO_POINT)
    assert len(kws.kws_input(silent, KWS_SCALE, KWS_ZERO_POINT)) == 490


def test_ad_log_mel_matches_librosa() -> None:
    fixture = np.load(AD_FIXTURE)
    samples = ad_reference_signal()
    ours = ad.log_mel(samples)
    theirs = fixture["log_mel"]
    assert ours.shape[1] == 128
    assert np.max(np.abs(ours[: len(theirs)] - theirs)) < 1e-3


def ad_reference_signal() -> np.ndarray:
    """Same generator as benchmarks/ad_frontend_vs_librosa.py --write-fixture."""
    rng = np.random.default_rng(1234)
    t = np.arange(10 * 16000) / 16000
    return 0.05 * rng.standard_normal(len(t)) + 0.3 * np.sin(2 * np.pi * 120 * t) + 0.1 * np.sin(2 * np.pi * 3100 * t)


def test_ad_file_layout() -> None:
    data = ad.ad_file(ad_reference_signal())
    assert len(data) == 102400
    frames = np.frombuffer(data, "<f4").reshape(200, 128)
    assert np.allclose(frames, ad.log_mel(ad_reference_signal())[50:250], atol=1e-4)
    with pytest.raises(ValueError, match="250"):
        ad.ad_file(np.zeros(16000))


def test_image_bytes_are_hwc_rgb() -> None:
    pixels = np.zeros((64, 64, 3), dtype=np.uint8)
    pixels[:, :32, 0] = 255  # left half red
    data = image_bytes(Image.fromarray(pixels), 32)
    out = np.frombuffer(data, np.uint8).reshape(32, 32, 3)
    assert out[5, 5].tolist() == [255, 0, 0] and out[5, 28].tolist() == [0, 0, 0]
    assert pixels_to_bytes(pixels) == pixels.tobytes()


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([8000, 22050, 44100]), st.floats(200.0, 3000.0))
def test_resample_keeps_a_tone_at_its_frequency(rate: int, hertz: float) -> None:
    t = np.arange(rate) / rate
    out = resample(np.sin(2 * np.pi * hertz * t), rate, 16000)
    assert len(out) == 16000
    peak = int(np.argmax(np.abs(np.fft.rfft(out))))
    assert abs(peak - hertz) <= 1.0


def test_wav_round_trip(tmp_path) -> None:
    samples = fit_length(np.sin(np.linspace(0, 100, 8000)) * 0.5, 16000, 4000)
    write_wav(tmp_path / "a.wav", samples)
    back, rate = read_wav(tmp_path / "a.wav")
    assert rate == 16000 and np.max(np.abs(back - samples)) < 1e-4
