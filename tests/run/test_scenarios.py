"""MLPerf Inference scenarios and profiling on kws01 on the simulated board (and the refusal of our
firmware's test engine, which has no operators): single-stream percentiles, offline throughput,
repeated runs with their spread, per-operator cycles that sum to the timed inference, and the
duty-cycled scenario both metered on the simulated board and run by our firmware (posix, QEMU)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.firmware.test_firmware import _build, _need
from tinyperf.device.boards import get_board
from tinyperf.device.connection import Connection, ConnectionSettings
from tinyperf.device.emulate import start_emulated_board
from tinyperf.device.link import open_link
from tinyperf.device.op_profile import run_profile
from tinyperf.errors import DeviceError
from tinyperf.run.modes.energy import parse_duty_reply
from tinyperf.run.modes.scenarios import nearest_rank, repeat_summary
from tinyperf.suite.models import resolve_model
from tinyperf.suite.tflite_info import read_model_info_file


def _performance(tmp_path: Path, *extra: str) -> dict:
    ran = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "performance",
                  "--sessions-dir", str(tmp_path / "s"), *extra)
    assert ran.returncode == 0, ran.stderr
    (session,) = (tmp_path / "s").iterdir()
    return json.loads((session / "results.json").read_text()) | {"text": (session / "results.txt").read_text()}


def test_single_stream_percentiles_and_offline_throughput(tmp_path: Path) -> None:
    data = _performance(tmp_path, "--single-stream", "200", "--offline", "30",
                        "--sim-option", "window-jitter=0.05", "--sim-option", "jitter-seed=2")
    single, offline = data["single_stream"], data["offline"]
    latencies = single["latencies_ms"]
    assert single["queries"] == len(latencies) == 200
    assert [single[f"p{p}_ms"] for p in (50, 90, 99)] == [nearest_rank(latencies, p) for p in (50, 90, 99)]
    assert single["p50_ms"] < single["p90_ms"] < single["p99_ms"] <= single["max_ms"]  # the jitter spreads them
    assert abs(single["p50_ms"] - 191.6) < 5  # the cycle model's latency
    assert offline["seconds"] >= 30
    assert offline["throughput"] == pytest.approx(offline["inferences"] / offline["seconds"])
    assert "Median throughput is" in data["text"]  # still the headline
    assert f"p99 {single['p99_ms']:.3f} ms" in data["text"] and "inf./sec. sustained" in data["text"]


def test_nearest_rank_and_repeat_outliers() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (nearest_rank(values, 50), nearest_rank(values, 90), nearest_rank(values, 99)) == (50.0, 90.0, 99.0)
    assert nearest_rank([3.0], 99) == 3.0
    summary = repeat_summary([10.0, 10.1, 9.9, 10.05, 13.0])
    assert summary["outlier_runs"] == [4] and summary["median"] == 10.05
    assert summary["cv_percent"] > 5 and summary["spread_percent"] == pytest.approx(100 * 3.1 / 10.05)
    assert repeat_summary([5.0, 5.0, 5.0])["outlier_runs"] == []


def test_repeat_reports_the_spread_across_whole_runs(tmp_path: Path) -> None:
    ran = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "performance",
                  "--repeat", "3", "--sim-option", "window-jitter=0.03", "--sessions-dir", str(tmp_path / "s"))
    assert ran.returncode == 0, ran.stderr
    (summary_file,) = (tmp_path / "s").glob("repeat-*.json")
    summary = json.loads(summary_file.read_text())
    assert summary["runs"] == 3 and len(summary["sessions"]) == 3 and summary["figure"] == "median_throughput"
    assert len(set(summary["values"])) == 3 and summary["cv_percent"] > 0  # each run its own jitter seed
    assert "spread" in ran.stdout and "outlier runs" in ran.stdout


def test_profile_of_the_simulated_board_sums_to_the_timed_inference() -> None:
    result = run_profile("sim-nucleo-l4r5zi", "kws01")
    info = read_model_info_file(resolve_model("kws01").path)
    assert [op.op_type for op in result.ops] == [op.op_type for op in info.ops]
    assert abs(result.sum_over_timed - 1.0) < 0.01 and result.simulated
    conv = [op for op in result.ops if op.op_type == "CONV_2D"]
    assert all(op.cycles_per_mac is not None and 6.0 < op.cycles_per_mac < 10.0 for op in conv)
    assert sum(op.share for op in result.ops) == pytest.approx(1.0)


def test_profile_cli_table_chart_and_our_test_engine_refusal(tmp_path: Path) -> None:
    chart = tmp_path / "ops.png"
    shown = run_cli("profile", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--plot", str(chart),
                    "--json", str(tmp_path / "ops.json"))
    assert shown.returncode == 0, shown.stderr
    assert "DEPTHWISE_CONV_2D" in shown.stdout and "sum / timed = 1.0000" in shown.stdout
    assert chart.read_bytes()[:4] == b"\x89PNG" and json.loads((tmp_path / "ops.json").read_text())["ops"]
    _need("cmake", "gcc")
    elf = _build(tmp_path / "builds", "posix-host", "kws01", engine="test")
    with start_emulated_board(get_board("posix-host"), elf) as running:
        refused = run_cli("profile", "--board", "posix-host", "--benchmark", "kws01", "--port", running.url)
    assert refused.returncode == 2 and "model engine has no per-operator timing" in refused.stderr
    assert "--engine ref" in refused.stderr


@pytest.mark.parametrize("arrivals", ["periodic", "poisson"])
def test_duty_cycled_always_on_scenario_matches_the_power_model(tmp_path: Path, arrivals: str) -> None:
    """kws01 at 1 request/s, asleep between: the metered average power against the model's truth,
    V x (I_active x busy time + I_sleep x the rest) / period. Within 2 %: in virtual pacing the
    host's pings of the long command also take wire time on the simulated board's one clock."""
    from tinyperf.power.profiles import board_power_model

    ran = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "energy", "--monitor",
                  "sim", "--duty-rate", "1", "--duty-requests", "12", "--duty-arrivals", arrivals,
                  "--sessions-dir", str(tmp_path / "s"))
    assert ran.returncode == 0, ran.stderr
    (session,) = (tmp_path / "s").iterdir()
    data = json.loads((session / "results.json").read_text())
    duty = data["duty_cycle"]
    power = board_power_model("sim-nucleo-l4r5zi")
    busy_s = duty["requests"] * data["latency_ms"] / 1000.0
    truth_w = power.voltage_v * (power.active_current_a * busy_s
                                 + power.sleep_current_a * (duty["seconds"] - busy_s)) / duty["seconds"]
    assert duty["seconds"] == pytest.approx(12.0, abs=0.01) and duty["arrivals"] == arrivals
    assert duty["average_power_mw"] == pytest.approx(1e3 * truth_w, rel=0.02)
    assert duty["energy_per_day_j"] == pytest.approx(duty["average_power_mw"] / 1e3 * 86400)
    assert "Duty-cycled: 12 requests at 1/s" in (session / "results.txt").read_text()


@pytest.mark.parametrize(("board", "tools"), [("posix-host", ("cmake", "gcc")),
                                              ("qemu-mps2-an386", ("cmake", "arm-none-eabi-gcc", "qemu-system-arm"))])
def test_our_firmware_sleeps_between_duty_cycled_requests(tmp_path: Path, board: str, tools: tuple[str, ...]) -> None:
    """tp-duty on the real harness: the period by the device's own clock (its two m-lap-us stamps), the
    time awake a small part of it, and the host really waiting out the sleep (WFI in QEMU, nanosleep)."""
    _need(*tools)
    elf = _build(tmp_path, board, "kws01", engine="ref")
    with start_emulated_board(get_board(board), elf) as running, open_link(running.url, 115200) as link:
        device = Connection(link, ConnectionSettings(115200)).open()
        device.load(bytes(range(245)) * 2)  # one kws01 input: 490 bytes
        with pytest.raises(DeviceError, match=r"tp-duty needs RATE>0 COUNT>0 periodic\|poisson"):
            device.client.command("tp-duty 0 3")
        started = time.monotonic()
        reply = device.client.command(f"tp-duty 2 4 poisson 3 {device.loaded_ref('tp-duty')}", 30.0)
        waited = time.monotonic() - started
    report = parse_duty_reply(reply.lines)
    laps = [int(line.removeprefix("m-lap-us-")) for line in reply.lines if line.startswith("m-lap-us-")]
    assert report.requests == 4 and report.period_s == pytest.approx(2.0, abs=0.01)
    assert (laps[1] - laps[0]) / 1e6 == pytest.approx(report.period_s, abs=0.002)
    assert 0.0 < report.busy_s < 0.25 * report.period_s  # asleep for most of the period
    assert waited >= 1.9  # the sleep is real time on the host, not skipped
