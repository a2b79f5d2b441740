"""Compare tinyperf's numpy AD log-mel front end with librosa (the DCASE baseline's library).

librosa is not a tinyperf dependency; run from a separate venv:
    /tmp/tfref/bin/pip install librosa pyyaml pydantic platformdirs pillow
    PYTHONPATH=host /tmp/tfref/bin/python benchmarks/ad_frontend_vs_librosa.py [--write-fixture]
"""

from __future__ import annotations

import sys
from pathlib import Path

import librosa
import numpy as np

from tinyperf.suite.frontends import ad

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "ad_logmel_librosa_reference.npz"


def main() -> int:
    rng = np.random.default_rng(0)
    worst = 0.0
    for index in range(6):
        samples = rng.standard_normal(10 * 16000) * 10.0 ** rng.uniform(-3, -0.5)
        samples += 0.2 * np.sin(2 * np.pi * (100 + 50 * index) * np.arange(len(samples)) / 16000)
        mel = librosa.feature.melspectrogram(y=samples, sr=16000, n_fft=ad.FFT, hop_length=ad.HOP,
                                             n_mels=ad.MEL_BINS, power=2.0, pad_mode="reflect")
        theirs = (10.0 * np.log10(mel + sys.float_info.epsilon)).T
        ours = ad.log_mel(samples)
        worst = max(worst, float(np.max(np.abs(ours - theirs))))
    print(f"librosa {librosa.__version__}: max |numpy - librosa| log-mel difference over 6 clips: {worst:.3g} dB")
    if "--write-fixture" in sys.argv:
        rng = np.random.default_rng(1234)  # tests/suite/test_frontends.py regenerates this very signal
        t = np.arange(10 * 16000) / 16000
        signal = 0.05 * rng.standard_normal(len(t)) + 0.3 * np.sin(2 * np.pi * 120 * t) + \
            0.1 * np.sin(2 * np.pi * 3100 * t)
        mel = librosa.feature.melspectrogram(y=signal, sr=16000, n_fft=ad.FFT, hop_length=ad.HOP,
                                             n_mels=ad.MEL_BINS, power=2.0, pad_mode="reflect")
        reference = (10.0 * np.log10(mel + sys.float_info.epsilon)).T[:60].astype(np.float32)
        np.savez_compressed(FIXTURE, log_mel=reference, librosa=np.array(librosa.__version__))
        print(f"wrote {FIXTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
