"""A labgrid farm on loopback, for real: a coordinator and an exporter (labgrid's own programs) serve
a simulated board's pty through ser2net (Debian's) as a NetworkSerialPort, and `tinyperf run
--labgrid-place` acquires the place, runs over RFC 2217 and releases it, also when the run fails."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import model_path, run_cli
from tinyperf.device.labgrid_place import LabgridPlace, acquired
from tinyperf.errors import ConfigError, LinkError
from tinyperf.sim.launcher import start_sim_board
from tinyperf.suite.smoke.store import smoke_subset

REQUIRED = os.environ.get("TINYPERF_REQUIRE_LABGRID") == "1"
PLACE = "tinyperf-sim"


def _labgrid_bin() -> Path:
    folder = os.environ.get("TINYPERF_LABGRID_BIN")
    candidates = [Path(folder)] if folder else []
    candidates.append(Path(__file__).resolve().parents[2] / ".venv-labgrid" / "bin")
    has_ser2net = shutil.which("ser2net") is not None or Path("/usr/sbin/ser2net").is_file()
    for candidate in candidates:
        if has_ser2net and (candidate / "labgrid-coordinator").is_file():
            return candidate
    message = "labgrid (`make labgrid`) and ser2net (apt-get install ser2net) are needed"
    if REQUIRED:
        pytest.fail(f"CI must provide them: {message}")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, ready, limit_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not ready in {limit_s:.0f} s")


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(labgrid bin folder, coordinator host:port) with place PLACE matching the exported sim board."""
    bin_dir = _labgrid_bin()
    work = tmp_path_factory.mktemp("labgrid")
    address = f"127.0.0.1:{_free_port()}"
    env = dict(os.environ, LG_COORDINATOR=address)
    processes: list[subprocess.Popen] = []
    sim = start_sim_board("sim-nucleo-l4r5zi", "kws01", model_path("kws01"))
    try:
        processes.append(subprocess.Popen([str(bin_dir / "labgrid-coordinator"), "-l", address], cwd=work,
                                          stdout=subprocess.DEVNULL, stderr=(work / "coordinator.log").open("w")))
        (work / "exporter.yaml").write_text(f"board:\n  RawSerialPort:\n    port: {sim.url}\n    speed: 115200\n")
        time.sleep(1.0)
        processes.append(subprocess.Popen(
            [str(bin_dir / "labgrid-exporter"), "-c", address, "-n", "loopback", "--hostname", "127.0.0.1",
             str(work / "exporter.yaml")], cwd=work, stdout=subprocess.DEVNULL,
            stderr=(work / "exporter.log").open("w")))
        client = [str(bin_dir / "labgrid-client")]

        def exported() -> bool:
            listed = subprocess.run([*client, "resources"], capture_output=True, text=True, env=env, timeout=20)
            return "loopback/board/NetworkSerialPort" in listed.stdout

        _wait("the exporter's NetworkSerialPort", exported)
        for args in (["create"], ["add-match", "loopback/board/*"]):
            subprocess.run([*client, "-p", PLACE, *args], check=True, capture_output=True, env=env, timeout=20)
        yield bin_dir, address
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        sim.stop()


def _acquired_by(bin_dir: Path, address: str) -> str:
    shown = subprocess.run([str(bin_dir / "labgrid-client"), "-p", PLACE, "show"], capture_output=True, text=True,
                           env=dict(os.environ, LG_COORDINATOR=address), timeout=20)
    lines = [line.strip() for line in shown.stdout.splitlines()]
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("acquired:"))


def _dataset(folder: Path, count: int) -> Path:
    return smoke_subset("kws01", count, folder)


def test_a_run_through_a_labgrid_place_equals_a_direct_run_and_releases_the_place(
        farm: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir, address = farm
    monkeypatch.setenv("TINYPERF_LABGRID_BIN", str(bin_dir))
    dataset = _dataset(tmp_path / "ds", 40)
    direct = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "accuracy",
                     "--dataset", str(dataset), "--sessions-dir", str(tmp_path / "direct"))
    assert direct.returncode == 0, direct.stderr
    remote = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "accuracy",
                     "--dataset", str(dataset), "--sessions-dir", str(tmp_path / "remote"),
                     "--labgrid-place", PLACE, "--labgrid-coordinator", address)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    results = [json.loads(next((tmp_path / name).iterdir()).joinpath("results.json").read_text())
               for name in ("direct", "remote")]
    assert [s["prediction"] for s in results[1]["samples"]] == [s["prediction"] for s in results[0]["samples"]]
    assert results[1]["link"]["protocol"] == "extended"
    journal = next((tmp_path / "remote").iterdir()).joinpath("journal.jsonl").read_text()
    assert '"event": "labgrid"' in journal and "rfc2217://127.0.0.1:" in journal
    assert _acquired_by(bin_dir, address) == "None"


def test_a_failing_run_still_releases_the_place(farm: tuple[Path, str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir, address = farm
    monkeypatch.setenv("TINYPERF_LABGRID_BIN", str(bin_dir))
    wrong = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "vww01", "--mode", "performance",
                    "--sessions-dir", str(tmp_path / "s"), "--labgrid-place", PLACE, "--labgrid-coordinator", address)
    assert wrong.returncode == 2 and "runs model 'kws01', not 'vww01'" in wrong.stderr
    assert _acquired_by(bin_dir, address) == "None"


def test_place_errors_are_clear(farm: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir, address = farm
    monkeypatch.setenv("TINYPERF_LABGRID_BIN", str(bin_dir))
    with pytest.raises(LinkError, match=r"labgrid place no-such-place .*`labgrid-client acquire` failed"), \
            acquired([LabgridPlace("no-such-place", address)]):
        pass
    subprocess.run([str(bin_dir / "labgrid-client"), "-p", "empty", "create"], check=True, capture_output=True,
                   env=dict(os.environ, LG_COORDINATOR=address), timeout=20)
    with pytest.raises(ConfigError, match="labgrid place empty has no NetworkSerialPort"), \
            acquired([LabgridPlace("empty", address)]):
        pass
    assert _acquired_by(bin_dir, address) == "None"  # the other place was never touched


def test_flashing_through_a_place_without_a_bootstrap_driver_fails_clearly_and_releases_it(
        farm: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loopback place exports only a serial port, so labgrid has no driver to flash with: the error
    is labgrid's, named, and the place is free afterwards. (With a debug probe exported, the same
    `labgrid-client bootstrap` runs OpenOCD or pyOCD on the exporter.)"""
    bin_dir, address = farm
    monkeypatch.setenv("TINYPERF_LABGRID_BIN", str(bin_dir))
    image = tmp_path / "firmware.elf"
    image.write_bytes(b"\x7fELF" + bytes(60))
    dry = run_cli("flash", "--board", "nucleo-l4r5zi", "--firmware", str(image), "--labgrid-place", PLACE,
                  "--dry-run")
    assert dry.returncode == 0 and f"labgrid-client -p {PLACE} bootstrap {image}" in dry.stdout.replace("\n", "")
    flashed = run_cli("flash", "--board", "nucleo-l4r5zi", "--firmware", str(image), "--labgrid-place", PLACE,
                      "--labgrid-coordinator", address)
    assert flashed.returncode == 2, flashed.stdout + flashed.stderr
    assert f"labgrid place {PLACE}" in flashed.stderr and "`labgrid-client bootstrap" in flashed.stderr
    assert _acquired_by(bin_dir, address) == "None"
