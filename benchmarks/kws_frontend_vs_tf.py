"""Compare tinyperf's numpy KWS front end with TensorFlow's tf.signal pipeline (the training code's).

Needs TensorFlow, which tinyperf does not depend on; run it from a separate venv:
    python -m venv /tmp/tfref && /tmp/tfref/bin/pip install tensorflow-cpu numpy pyyaml pydantic
    PYTHONPATH=host /tmp/tfref/bin/python benchmarks/kws_frontend_vs_tf.py [--write-fixture]
Prints the max abs MFCC difference and the int8 mismatch count over the kws01 smoke clips, and with
--write-fixture stores a few clips and TF's MFCCs in tests/fixtures/ so the tests pin the tolerance
without TensorFlow.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

from tinyperf.suite.frontends import kws
from tinyperf.suite.smoke.kws_set import kws_clips

SCALE, ZERO_POINT = 0.5847029, 83
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "kws_mfcc_tf_reference.npz"


def tf_mfcc(audio: np.ndarray) -> np.ndarray:
    """The MLPerf Tiny KWS training code's feature graph (peak-normalised, float32)."""
    wav = tf.constant(audio, dtype=tf.float32)
    wav = wav / tf.reduce_max(wav)
    stfts = tf.signal.stft(wav, frame_length=kws.FRAME, frame_step=kws.HOP, fft_length=None,
                           window_fn=tf.signal.hann_window)
    spectrograms = tf.abs(stfts)
    weights = tf.signal.linear_to_mel_weight_matrix(kws.MEL_BINS, stfts.shape[-1], 16000, kws.LOW_HZ, kws.HIGH_HZ)
    log_mel = tf.math.log(tf.tensordot(spectrograms, weights, 1) + kws.LOG_FLOOR)
    return tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., : kws.COEFFICIENTS].numpy()


def main(argv: list[str]) -> int:
    clips = list(kws_clips())
    worst = 0.0
    mismatched = 0
    worst_step = 0
    total = 0
    fixture_audio, fixture_mfcc = [], []
    for index, clip in enumerate(clips):
        # both sides see the same 16-bit samples, as from a wav file
        pcm = np.round(np.clip(kws.normalise(clip.audio) * clip.audio.max(), -1, 1) * 32767).astype(np.int16)
        dithered = pcm / 32768.0
        ours = kws.mfcc(dithered / dithered.max())  # same normalisation, no second dither
        theirs = tf_mfcc(dithered)
        worst = max(worst, float(np.max(np.abs(ours - theirs))))
        q_ours = kws.quantize(ours, SCALE, ZERO_POINT)
        q_theirs = kws.quantize(theirs, SCALE, ZERO_POINT)
        mismatched += int(np.count_nonzero(q_ours != q_theirs))
        worst_step = max(worst_step, int(np.max(np.abs(q_ours.astype(int) - q_theirs.astype(int)))))
        total += q_ours.size
        if index % 60 == 0:
            fixture_audio.append(pcm)
            fixture_mfcc.append(theirs.astype(np.float32))
    print(f"clips: {len(clips)} (kws01 smoke set), TensorFlow {tf.__version__}")
    print(f"max |numpy - tf.signal| MFCC difference: {worst:.5f}")
    print(f"int8 mismatches: {mismatched} of {total} values ({100.0 * mismatched / total:.4f} %), "
          f"largest {worst_step} quantisation step(s)")
    if "--write-fixture" in argv:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(FIXTURE, audio=np.stack(fixture_audio), mfcc=np.stack(fixture_mfcc),
                            tensorflow=np.array(tf.__version__))
        print(f"wrote {len(fixture_audio)} clips to {FIXTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
