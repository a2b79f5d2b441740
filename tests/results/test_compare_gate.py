"""`tinyperf compare` and `tinyperf gate` on real runs of the simulated board: one as built, one made
5 % slower (`--sim-option slowdown=1.05`), and noisy ones whose windows straddle the allowance."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tinyperf.errors import ConfigError
from tinyperf.results.compare import bootstrap_ratio_ci, compare, load_run


def _performance(tmp_path: Path, name: str, *sim_options: str) -> Path:
    extra = [arg for option in sim_options for arg in ("--sim-option", option)]
    ran = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "performance",
                  "--sessions-dir", str(tmp_path / name), *extra)
    assert ran.returncode == 0, ran.stderr
    (session,) = (tmp_path / name).iterdir()
    return session


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("runs")
    return {
        "base": _performance(tmp, "base"),
        "same": _performance(tmp, "same"),
        "slower": _performance(tmp, "slower", "slowdown=1.05"),
        "noisy": _performance(tmp, "noisy", "slowdown=1.03", "window-jitter=0.03", "jitter-seed=7"),
    }


def test_gate_passes_an_identical_run_and_fails_a_5_percent_slowdown(runs: dict[str, Path], tmp_path: Path) -> None:
    same = run_cli("gate", str(runs["same"]), "--baseline", str(runs["base"]), "--max-slowdown", "3%")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "pass" in same.stdout
    summary = tmp_path / "summary.md"
    slower = run_cli("gate", str(runs["slower"]), "--baseline", str(runs["base"]), "--max-slowdown", "3%",
                     "--markdown", str(summary))
    assert slower.returncode == 1, slower.stdout + slower.stderr
    text = summary.read_text()
    assert text.startswith("### tinyperf: kws01 performance on sim-nucleo-l4r5zi: ❌ regression")
    assert "| median latency |" in text and "+5.00 %" in text and "SIMULATED board" in text
    # the same slowdown under a 6 % allowance passes
    assert run_cli("gate", str(runs["slower"]), "--baseline", str(runs["base"]), "--max-slowdown", "6%").returncode == 0


def test_noisy_windows_that_straddle_the_allowance_are_inconclusive(runs: dict[str, Path]) -> None:
    result = compare(load_run(runs["base"]), load_run(runs["noisy"]), max_slowdown=0.03)
    assert result.low < 0.03 < result.high and result.verdict == "inconclusive"
    gate = run_cli("gate", str(runs["noisy"]), "--baseline", str(runs["base"]), "--max-slowdown", "3%")
    assert gate.returncode == 3 and "inconclusive" in gate.stdout


def test_bootstrap_interval_brackets_the_point_and_is_repeatable() -> None:
    base = (10.0, 10.1, 9.9, 10.0, 10.2)
    new = (10.5, 10.6, 10.4, 10.9, 10.5)
    point, low, high = bootstrap_ratio_ci(base, new)
    assert low <= point <= high and point == pytest.approx(10.5 / 10.0)
    assert bootstrap_ratio_ci(base, new) == (point, low, high)
    assert low > 1.0  # every resampled median of `new` is above every one of `base`


def test_compare_refuses_runs_that_cannot_be_compared(runs: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('{"mode": "performance",\n "board": ')
    with pytest.raises(ConfigError, match=re.escape(f"{bad}:2: not valid JSON")):
        load_run(bad)
    with pytest.raises(ConfigError, match=r"no results\.json there"):
        load_run(tmp_path / "nowhere")
    other = json.loads((runs["base"] / "results.json").read_text())
    other["benchmark"] = "vww01"
    (tmp_path / "vww.json").write_text(json.dumps(other))
    with pytest.raises(ConfigError, match="cannot compare a kws01 performance run"):
        compare(load_run(runs["base"]), load_run(tmp_path / "vww.json"), 0.03)
    unreadable = run_cli("gate", str(tmp_path / "nowhere"), "--baseline", str(runs["base"]))
    assert unreadable.returncode == 2 and "no results.json there" in unreadable.stderr
