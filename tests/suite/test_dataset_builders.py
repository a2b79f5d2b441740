"""`tinyperf datasets build` on small folders laid out like the public raw datasets."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import run_cli
from tinyperf.suite.datasets import load_dataset
from tinyperf.suite.frontends.ad import ad_file
from tinyperf.suite.frontends.audio import read_wav, write_wav
from tinyperf.suite.frontends.kws import kws_input
from tinyperf.suite.models import get_entry


def _tone(hertz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return 0.4 * np.sin(2 * np.pi * hertz * t) * np.hanning(len(t))


def _build(benchmark: str, raw: Path, out: Path, *extra: str):
    return run_cli("datasets", "build", benchmark, "--from", str(raw), "--out", str(out), *extra)


def test_kws_from_speech_commands_layout(tmp_path: Path) -> None:
    raw = tmp_path / "speech_commands_v2"
    files = {"yes/a1.wav": 300.0, "left/b2.wav": 500.0, "marvin/c3.wav": 700.0}
    for relative, hertz in files.items():
        write_wav(raw / relative, _tone(hertz))
    write_wav(raw / "_background_noise_" / "white_noise.wav", np.random.default_rng(0).uniform(-0.3, 0.3, 48000))
    (raw / "testing_list.txt").write_text("\n".join(files) + "\n")
    result = _build("kws01", raw, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    entry = get_entry("kws01")
    samples = {s.name: s for s in load_dataset(tmp_path / "out", entry)}
    assert samples["yes_a1.bin"].label == 9 and samples["left_b2.bin"].label == 2
    assert samples["marvin_c3.bin"].label == 11 and samples["silence_0000.bin"].label == 10
    audio, _ = read_wav(raw / "yes/a1.wav")
    assert samples["yes_a1.bin"].path.read_bytes() == kws_input(audio, entry.input.scale, entry.input.zero_point)
    assert (tmp_path / "out" / "y_labels.csv").read_text().splitlines()[0] == "yes_a1.bin,12,9"


def test_kws_missing_listed_file_is_named(tmp_path: Path) -> None:
    raw = tmp_path / "sc"
    raw.mkdir()
    (raw / "testing_list.txt").write_text("yes/gone.wav\n")
    result = _build("kws01", raw, tmp_path / "out")
    assert result.returncode == 2
    assert "gone.wav not found" in result.stderr and "line 1" in result.stderr


def test_ic_from_cifar10_test_batch(tmp_path: Path) -> None:
    raw = tmp_path / "cifar-10-batches-py"
    raw.mkdir()
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
    with (raw / "test_batch").open("wb") as handle:
        pickle.dump({b"data": data, b"labels": [3, 8, 0]}, handle)
    assert _build("ic01", raw, tmp_path / "out").returncode == 0
    samples = load_dataset(tmp_path / "out", get_entry("ic01"))
    assert [s.label for s in samples] == [3, 8, 0]
    hwc = np.frombuffer(samples[1].path.read_bytes(), np.uint8).reshape(32, 32, 3)
    planes = data[1].reshape(3, 32, 32)
    assert (hwc[..., 0] == planes[0]).all() and (hwc[..., 2] == planes[2]).all()  # CHW planes became HWC


def test_vww_from_person_folders(tmp_path: Path) -> None:
    raw = tmp_path / "vw_coco2014_96"
    for folder, colour in (("person", (200, 10, 10)), ("non_person", (10, 200, 10))):
        (raw / folder).mkdir(parents=True)
        Image.new("RGB", (120, 80), colour).save(raw / folder / "img1.jpg")
    (raw / "person" / "notes.txt").write_text("not an image")
    assert _build("vww01", raw, tmp_path / "out").returncode == 0
    samples = {s.name: s for s in load_dataset(tmp_path / "out", get_entry("vww01"))}
    assert samples["person_img1.bin"].label == 1 and samples["non_person_img1.bin"].label == 0
    pixel = np.frombuffer(samples["person_img1.bin"].path.read_bytes(), np.uint8).reshape(96, 96, 3)[40, 40]
    assert abs(int(pixel[0]) - 200) < 6 and pixel[1] < 20


def test_ad_from_toycar_layout(tmp_path: Path) -> None:
    raw = tmp_path / "ToyCar"
    normal = _tone(150.0, 10.0)
    write_wav(raw / "test" / "normal_id_01_00000000.wav", normal)
    write_wav(raw / "test" / "anomaly_id_01_00000000.wav", _tone(2500.0, 10.0))
    assert _build("ad01", raw, tmp_path / "out", "--limit", "2").returncode == 0
    samples = {s.name: s for s in load_dataset(tmp_path / "out", get_entry("ad01"))}
    assert samples["anomaly_id_01_00000000.bin"].label == 1
    audio, _ = read_wav(raw / "test" / "normal_id_01_00000000.wav")
    assert samples["normal_id_01_00000000.bin"].path.read_bytes() == ad_file(audio)
    assert "normal_id_01_00000000.bin,2,0,2560,512" in (tmp_path / "out" / "y_labels.csv").read_text()


def test_build_never_overwrites_a_dataset(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "y_labels.csv").write_text("keep.bin,12,1\n")
    raw = tmp_path / "raw"
    raw.mkdir()
    result = _build("kws01", raw, out)
    assert result.returncode == 2 and "already holds a dataset" in result.stderr
    assert (out / "y_labels.csv").read_text() == "keep.bin,12,1\n"
