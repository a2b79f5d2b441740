"""Compares tinyperf's sww01 front end with the training code's own (mlcommons/tiny
benchmark/training/streaming_wakeword/get_dataset.py, get_lfbe_func), run in a side venv with TensorFlow.

    python benchmarks/sww_frontend_check.py --training DIR --python SIDE_VENV/bin/python WAV [WAV ...]

The training code frames the whole wave (frame j = samples j*512 .. j*512+1023); the device's frame k
is the training code's frame k-1 (its first frame starts on 512 zeros), so frames are aligned that way.
Prints the largest float difference and how many int8 features differ after the device's quantisation.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

from tinyperf.suite.sww.frontend import log_mel_features, quantize

INPUT_SCALE = 0.003701042616739869

SIDE_SCRIPT = r"""
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import get_dataset
cfg = dict(window_size_samples=1024, window_stride_samples=512, dct_coefficient_count=40, sample_rate=16000)
wav = np.load(sys.argv[2]).astype(np.float32) / 2**15
spec = get_dataset.get_lfbe_func(cfg)(wav).numpy()
np.save(sys.argv[3], spec.reshape(spec.shape[0], -1))
"""


def mono(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.reshape(-1, w.getnchannels())[:, 0].copy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--training", type=Path, required=True, help="benchmark/training/streaming_wakeword")
    parser.add_argument("--python", type=Path, required=True, help="a Python with tensorflow 2.15")
    parser.add_argument("wavs", type=Path, nargs="+")
    args = parser.parse_args()
    print(f"{'file':<28}{'frames':>8}{'max |diff|':>12}{'mean |diff|':>13}{'int8 differ':>13}{'of':>8}")
    for wav in args.wavs:
        samples = mono(wav)
        ours = log_mel_features(samples)[1:]
        with tempfile.TemporaryDirectory() as tmp:
            np.save(Path(tmp) / "wav.npy", samples)
            subprocess.run([str(args.python), "-c", SIDE_SCRIPT, str(args.training), str(Path(tmp) / "wav.npy"),
                            str(Path(tmp) / "spec.npy")], check=True, capture_output=True, timeout=600)
            theirs = np.load(Path(tmp) / "spec.npy").astype(np.float32)
        frames = min(len(ours), len(theirs))
        diff = np.abs(ours[:frames] - theirs[:frames])
        differ = int(np.sum(quantize(ours[:frames], INPUT_SCALE) != quantize(theirs[:frames], INPUT_SCALE)))
        print(f"{wav.name:<28}{frames:>8}{diff.max():>12.3g}{diff.mean():>13.3g}{differ:>13}{diff.size:>8}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
