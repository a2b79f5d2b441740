"""ic02 (v1.4, "ic2"): the official model, ic01's inputs, its own target and an honestly labelled timing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tinyperf.run.provenance import OFFICIAL_LABEL_LISTS, dataset_provenance
from tinyperf.sim.board.truth import inference_seconds
from tinyperf.suite.datasets import Sample
from tinyperf.suite.models import get_entry, resolve_model
from tinyperf.suite.tflite_info import read_model_info_file


def test_manifest_entry_is_the_official_v14_model() -> None:
    entry = get_entry("ic02")
    assert entry.accuracy_target == 91.0 and entry.inputs_of == "ic01"
    assert entry.input == get_entry("ic01").input  # the same EEMBC image files
    resolved = resolve_model("ic02")
    assert resolved.official and resolved.path.name == "pretrainedResnet_large_int8.tflite"


def test_modelled_time_comes_from_the_models_macs() -> None:
    ic01, ic02 = (read_model_info_file(resolve_model(b).path) for b in ("ic01", "ic02"))
    assert ic02.total_macs == 76_473_920
    ratio = inference_seconds("sim-nucleo-l4r5zi", resolve_model("ic02").path) / \
        inference_seconds("sim-nucleo-l4r5zi", resolve_model("ic01").path)
    assert 0.8 * ic02.total_macs / ic01.total_macs < ratio < 1.2 * ic02.total_macs / ic01.total_macs


def test_an_ic01_official_list_is_official_for_ic02(tmp_path: Path, monkeypatch) -> None:
    rows, _ = OFFICIAL_LABEL_LISTS["ic01"]
    samples = [Sample(f"f{i}.bin", tmp_path / f"f{i}.bin", i % 10) for i in range(rows)]
    monkeypatch.setattr("tinyperf.run.provenance.label_list_fingerprint", lambda s: OFFICIAL_LABEL_LISTS["ic01"][1])
    for s in samples:
        s.path.write_bytes(b"\0" * 3072)
    assert dataset_provenance("ic02", tmp_path, samples, smoke=False).kind == "official"


def check_ic02_session(session: Path, mode: str) -> None:
    """What an ic02 session must say in each mode (the demo test checks its performance and accuracy runs)."""
    text = (session / "results.txt").read_text()
    data = json.loads((session / "results.json").read_text())
    assert data["device"]["model"] == "ic02"
    if mode == "accuracy":
        assert "Top-1% = " in text and "ic01-smoke" in text  # ic01's packaged images
        assert len(data["samples"]) == 34
    else:
        assert "MODELLED: no silicon figure is published for ic02" in text
        assert data["truth"]["latency_ms"] > 3000  # 76.5 M MACs at the reference kernels' cost
    if mode == "energy":
        assert "Median energy cost is" in text


def test_runs_in_energy_mode_on_the_simulated_board(tmp_path: Path) -> None:
    """Performance and accuracy run in the demo (tests/run/test_runs.py), checked by the same function."""
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "ic02", "--mode", "energy",
                     "--sessions-dir", str(tmp_path), "--monitor", "sim")
    assert result.returncode == 0, result.stderr
    (session,) = tmp_path.iterdir()
    check_ic02_session(session, "energy")
