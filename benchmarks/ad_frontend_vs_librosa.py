"""Compare tinyperf's numpy AD log-mel front end with librosa (the DCASE baseline's library).

librosa is not a tinyperf dependency; run from a separate venv:
    /tmp/tfref/bin/pip install librosa pyyaml pydantic platformdirs pillow
    PYTHONPATH=host /tmp/tfref/bin/python benchmarks/ad_frontend_vs_librosa.py
"""

from __future__ import annotations

import sys

import librosa
import numpy as np

from tinyperf.frontends import ad


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
    print(f"librosa {librosa.__version__}: max |numpy - librosa| log-mel difference over 6 clips: {worst:.6f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
