"""The MLPerf Tiny submission tree from real simulated-board sessions: exported, checked, and
rejected when a run has 4 windows, a log is missing, or a closed-division accuracy misses its target."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tinyperf.modes.performance import PerformanceSettings
from tinyperf.runner import RunRequest, execute
from tinyperf.submission import check

BOARD = "sim-nucleo-l4r5zi"


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sessions")
    for mode, monitor in (("performance", None), ("accuracy", None), ("energy", "sim")):
        execute(RunRequest(board=BOARD, benchmark="kws01", mode=mode, monitor=monitor, sessions_dir=folder))  # type: ignore[arg-type]
    return folder


def _export(sessions: Path, out: Path, division: str, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli("submission", "export", str(out), "--system", "sim-l4r5", "--division", division,
                   "--sessions-dir", str(sessions), *extra)


def test_exported_tree_has_the_official_layout_and_passes_the_check(sessions: Path, tmp_path: Path) -> None:
    refused = _export(sessions, tmp_path / "refused", "open")
    assert refused.returncode == 2 and "SIMULATED-board run" in refused.stderr
    done = _export(sessions, tmp_path / "sub", "open", "--allow-simulated")
    assert done.returncode == 0, done.stderr
    root = tmp_path / "sub" / "open" / "tinyperf"
    for mode in ("performance", "accuracy", "energy"):
        for name in ("log.txt", "results.txt", "results.json"):
            assert (root / "results" / "sim-l4r5" / "kws" / mode / name).is_file()
    system = json.loads((root / "systems" / "sim-l4r5.json").read_text())
    assert system["board"] == BOARD and system["division"] == "open" and "SIMULATED" in system["notes"]
    checked = run_cli("submission", "check", str(tmp_path / "sub"))
    assert checked.returncode == 0, checked.stdout
    assert check(tmp_path / "sub") == []


def test_check_rejects_a_4_window_run_a_missing_log_and_a_closed_target_miss(sessions: Path, tmp_path: Path) -> None:
    four = tmp_path / "four"
    execute(RunRequest(board=BOARD, benchmark="kws01", mode="performance", sessions_dir=four,
                       performance=PerformanceSettings(windows=4)))
    assert _export(sessions, tmp_path / "sub", "open", "--allow-simulated").returncode == 0
    run = tmp_path / "sub" / "open" / "tinyperf" / "results" / "sim-l4r5" / "kws"
    base = tmp_path / "base"
    shutil.copytree(tmp_path / "sub", base)
    (session,) = four.iterdir()
    for name in ("results.txt", "results.json", "log.txt"):
        shutil.copy(session / name, run / "performance" / name)
    (run / "accuracy" / "log.txt").unlink()
    result = run_cli("submission", "check", str(tmp_path / "sub"))
    assert result.returncode == 1
    text = " ".join(result.stdout.split())
    assert "performance/results.json: 4 windows; the rules need 5" in text
    assert "performance/results.txt: the run is marked INVALID" in text
    assert "accuracy/log.txt: missing" in text
    closed = tmp_path / "closed"
    assert _export(sessions, closed, "closed", "--allow-simulated").returncode == 0
    problems = check(closed)
    assert len(problems) == 1 and "top-1 86.73 is below the closed-division target 90" in problems[0]
    assert check(base) == []  # the copy taken before the damage still passes
