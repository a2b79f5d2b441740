"""The small commands: boards, ports, sim (driven by another runner process), --help everywhere."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli


def test_boards_lists_real_and_simulated() -> None:
    result = run_cli("boards")
    assert result.returncode == 0
    assert "nucleo-l4r5zi" in result.stdout and "simulated" in result.stdout


def test_ports_runs_without_hardware() -> None:
    result = run_cli("ports")
    assert result.returncode == 0, result.stderr


def test_identify_known_usb_ids() -> None:
    from tinyperf.device.ports import identify

    # every Nucleo-144 talks through the same ST-LINK VCP: the USB id names all candidates
    assert identify("0483:374B") == "board nucleo-h743zi, board nucleo-l4r5zi"
    assert "LPM01A" in (identify("0483:5740") or "")
    assert identify("1234:5678") is None


@pytest.mark.parametrize("command", [
    [], ["run"], ["sim"], ["boards"], ["ports"], ["demo"], ["datasets", "synth"], ["datasets", "build"],
    ["datasets", "check"], ["datasets", "smoke"], ["models"], ["models", "pull"], ["models", "info"],
])
def test_help_everywhere(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0 and "Usage" in result.stdout


def test_sim_command_serves_another_runner(tmp_path: Path) -> None:
    sim = subprocess.Popen([sys.executable, "-m", "tinyperf.cli", "sim", "--benchmark", "ic01"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        ready, _, _ = select.select([sim.stdout], [], [], 60)
        assert ready, "tinyperf sim printed no path"
        path = sim.stdout.readline().strip()
        assert path.startswith("/dev/pts/")
        result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "ic01", "--mode", "performance",
                         "--port", path, "--sessions-dir", str(tmp_path))
        assert result.returncode == 0, result.stderr
        (session,) = tmp_path.iterdir()
        assert json.loads((session / "results.json").read_text())["device"]["model"] == "ic01"
        mismatch = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode",
                           "performance", "--port", path, "--sessions-dir", str(tmp_path))
        assert mismatch.returncode == 2 and "runs model 'ic01', not 'kws01'" in mismatch.stderr
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            sim.wait(timeout=30)  # a loaded CI machine (three test workers on two cores) is slow to schedule it
        except subprocess.TimeoutExpired:
            sim.kill()
            err = sim.communicate(timeout=10)[1][-2000:]
            raise AssertionError(f"tinyperf sim ignored SIGINT for 30 s: {err}") from None
    assert sim.returncode == 0, sim.stderr.read() if sim.stderr else ""
