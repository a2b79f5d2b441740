"""Whole runs through the real `tinyperf` CLI in a subprocess, as a user types them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import model_path, run_cli
from tests.suite.test_ic02 import check_ic02_session
from tinyperf.device.link.recorder import read_transcript
from tinyperf.suite.models import get_entry
from tinyperf.suite.synthetic import write_reference_labelled_set

PUBLISHED_MS = {"kws01": 182.0, "vww01": 601.0, "ad01": 10.05, "ic01": 704.0}
# the official checker's patterns (mlcommons/tiny tools/submission/submission_checker.py)
CHECKER_PERF = re.compile(r".* Median throughput is\s+([\d\.]+) inf\./sec\..*")
CHECKER_TOP1 = re.compile(r".* Top[- ]1%?\s?[:=] ([\d\.]+).*")
CHECKER_AUC = re.compile(r".* AUC\s?[:=] ([\d\.]+).*")


def _session(root: Path) -> Path:
    (folder,) = [p for p in root.iterdir() if p.is_dir() and p.name != "datasets"]
    return folder


def _checker_value(results_txt: Path, pattern: re.Pattern) -> float:
    values = [m.group(1) for line in results_txt.read_text().splitlines() if (m := pattern.match(line))]
    assert values, f"the checker finds no line matching {pattern.pattern} in {results_txt}"
    return float(values[-1])


@pytest.mark.parametrize("benchmark", ["kws01", "vww01", "ad01", "ic01"])
def test_performance_run_lands_within_15_percent_of_published(benchmark: str, tmp_path: Path) -> None:
    protocol = "legacy" if benchmark in ("kws01", "ad01") else "auto"  # both protocols, two benchmarks each
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", benchmark, "--mode", "performance",
                     "--sessions-dir", str(tmp_path), "--protocol", protocol)
    assert result.returncode == 0, result.stderr
    assert "simulated" in result.stdout
    session = _session(tmp_path)
    throughput = _checker_value(session / "results.txt", CHECKER_PERF)
    latency_ms = 1000.0 / throughput
    assert abs(latency_ms - PUBLISHED_MS[benchmark]) / PUBLISHED_MS[benchmark] < 0.15
    assert "SIMULATED" in (session / "results.txt").read_text()
    data = json.loads((session / "results.json").read_text())
    assert data["simulated"] is True and data["valid"] is True
    assert len(data["windows"]) == 5
    assert all(w["seconds"] >= 10.0 and w["count"] >= 10 for w in data["windows"])
    sent = b"".join(b for _, d, b in read_transcript(session / "log.txt") if d == ">")
    # one calibration, five windows, five single-inference consistency checks
    if protocol == "legacy":
        assert sent.startswith(b"name%profile%db load ")
        assert sent.count(b"infer ") == 11
    else:
        assert sent.startswith(b"tp-caps%\x00")  # negotiated, then everything in frames
        assert sent.count(b"tp-infer ") == 11 and b"db load" not in sent
    assert data["link"]["protocol"] == ("legacy" if protocol == "legacy" else "extended")
    assert data["consistency"]["consistent"] is True and data["consistency"]["checked"] == 5


def test_kws_accuracy_on_reference_labelled_set(tmp_path: Path) -> None:
    dataset = write_reference_labelled_set(get_entry("kws01"), model_path("kws01"), tmp_path / "ds", 12)
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "accuracy",
                     "--dataset", str(dataset), "--sessions-dir", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    session = _session(tmp_path / "s")
    assert _checker_value(session / "results.txt", CHECKER_TOP1) == 100.0  # device == TFLM reference
    data = json.loads((session / "results.json").read_text())
    assert len(data["samples"]) == 12
    assert sum(map(sum, data["confusion"])) == 12
    assert "reference" in data["dataset"]


def test_ad_accuracy_scores_auc_over_sliding_windows(tmp_path: Path) -> None:
    rng = __import__("numpy").random.default_rng(3)
    folder = tmp_path / "ad"
    folder.mkdir()
    rows = []
    for i, (label, spread) in enumerate([(0, 1.0), (0, 2.0), (1, 25.0), (1, 30.0)]):
        frames = (-30 + spread * rng.standard_normal(200 * 128)).astype("<f4")
        (folder / f"f{i}.bin").write_bytes(frames.tobytes())
        rows.append(f"f{i}.bin,2,{label},2560,512")
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "ad01", "--mode", "accuracy",
                     "--dataset", str(folder), "--sessions-dir", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    session = _session(tmp_path / "s")
    data = json.loads((session / "results.json").read_text())
    assert [s["windows"] for s in data["samples"]] == [196] * 4
    scores = [s["score"] for s in data["samples"]]
    from tinyperf.suite.scoring import roc_auc

    assert data["auc"] == pytest.approx(roc_auc(scores, [0, 0, 1, 1]))
    assert _checker_value(session / "results.txt", CHECKER_AUC) == pytest.approx(data["auc"], abs=5e-4)


def test_demo_runs_everything_and_prints_a_summary(tmp_path: Path) -> None:
    result = run_cli("demo", "--sessions-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "SIMULATED" in result.stdout
    for bench in ("kws01", "ad01", "vww01", "ic01", "ic02", "sww01"):
        assert bench in result.stdout
    sessions = sorted(p.name for p in tmp_path.iterdir())
    assert len(sessions) == 11  # performance and accuracy of five benchmarks, and the sww01 stream
    assert sum(name.endswith("-accuracy") for name in sessions) == 6
    assert "TP /" in result.stdout and "skipped" not in result.stderr
    assert result.stdout.count("real-input") == 4  # kws01, vww01, ic01, ic02 scored on real-input smoke samples
    assert "fallback" not in result.stdout  # the official models are available here
    for mode in ("performance", "accuracy"):
        check_ic02_session(next(tmp_path.glob(f"*-ic02-{mode}")), mode)
    table_rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    for name in sessions:  # each session by the start of its folder's name, on one line of its row
        handle = "-".join(name.split("-")[:2])
        assert any(handle in row for row in table_rows), handle
