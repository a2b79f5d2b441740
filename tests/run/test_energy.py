"""Energy between edges: the math against synthetic truth, the simulated LPM01A's protocol and
physics, and `tinyperf run --mode energy` end to end on the simulated bench."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import model_path, run_cli
from tinyperf.power.energy import locate_edge, naive_window_energy, window_energy
from tinyperf.power.profiles import BoardPowerModel, instrument_profile
from tinyperf.sim.board.truth import energy_per_inference_uj
from tinyperf.sim.instruments.lpm01a import Lpm01aEmulator
from tinyperf.sim.instruments.timeline import SampleMaker, Timeline
from tinyperf.sim.wire import ACTIVE, IDLE, SLEEP

CHECKER_ENERGY = re.compile(r"Median energy cost is ([\d\.]+) uJ/inf")


def _synthetic(t1: float, t2: float, period: float, samples: int, noise: float, seed: int = 0) -> np.ndarray:
    volts, active, idle = 1.8, 0.0228, 0.012
    starts = np.arange(samples) * period
    busy = np.clip(np.minimum(starts + period, t2) - np.maximum(starts, t1), 0.0, period)
    rng = np.random.default_rng(seed)
    return volts * (idle * (period - busy) + active * busy) + volts * period * noise * rng.standard_normal(samples)


def test_edges_are_placed_inside_their_samples() -> None:
    period, t1, t2 = 1e-3, 0.1234567, 0.1234567 + 0.01005
    energies = _synthetic(t1, t2, period, 400, noise=0.0)
    window = window_energy(energies, int(t1 / period), int(t2 / period), period)
    assert window.start.time_s == pytest.approx(t1, abs=1e-9) and window.end.time_s == pytest.approx(t2, abs=1e-9)
    truth = 1.8 * 0.0228 * (t2 - t1)
    assert window.energy_j == pytest.approx(truth, rel=1e-9)
    naive = naive_window_energy(energies, int(t1 / period), int(t2 / period))
    assert abs(naive / truth - 1) > 0.01  # whole samples: a visible error on a 10 ms window


def test_noise_error_stays_within_the_stated_uncertainty() -> None:
    period = 1e-3
    inside = 0
    for seed in range(40):
        t1 = 0.1 + seed * 1.3e-4
        energies = _synthetic(t1, t1 + 0.01005, period, 400, noise=0.0002, seed=seed)
        window = window_energy(energies, int(t1 / period), int((t1 + 0.01005) / period), period)
        inside += abs(window.energy_j - 1.8 * 0.0228 * 0.01005) <= 2 * window.uncertainty_j
    assert inside >= 34  # ~95 % expected for a 2-sigma band


def test_an_edge_without_a_step_falls_back_to_mid_sample() -> None:
    flat = np.full(50, 1e-5)
    edge = locate_edge(flat, 20, 1e-3)
    assert not edge.resolved and edge.time_s == pytest.approx(20.5e-3) and edge.uncertainty_s == pytest.approx(5e-4)


def _emulator(noise: float = 0.0) -> Lpm01aEmulator:
    power = BoardPowerModel(board="t", voltage_v=1.8, active_current_a=0.02, idle_current_a=0.01,
                            noise_a_rms_1khz=noise)
    return Lpm01aEmulator(instrument_profile("lpm01a"), power)


def test_emulator_protocol_answers() -> None:
    emulator = _emulator()
    assert emulator.command("htc") == b"PowerShield > ack htc\r\n"
    assert emulator.command("freq 7k").startswith(b"PowerShield > error freq 7k\r\nPowerShield > Error detail:")
    for line in ("output energy", "acqtime inf", "freq 10k"):
        emulator.command(line)
    assert b"too long for this sampling frequency" in emulator.command("start")
    assert b"bin_hexa is not emulated" in emulator.command("format bin_hexa")


def test_emulator_streams_exact_energy_and_events() -> None:
    emulator = _emulator()
    for line in ("htc", "output energy", "acqtime inf", "freq 1k", "volt 1800m", "pwr on nostatus", "start"):
        assert b"ack" in emulator.command(line)
    emulator.timeline.state(0.0105, True)
    emulator.timeline.edge(0.0105)
    emulator.timeline.state(0.0305, False)
    emulator.timeline.edge(0.0305)
    emulator.timeline.advance(1.0)
    lines = emulator.produce().decode().split("\r\n")
    tokens = [line for line in lines if re.fullmatch(r"\d{4}[+-]\d{2}", line)]
    assert len(tokens) == 1000 and "TimeStamp: 001s 000ms, buff 00%" in lines
    assert lines[lines.index("event 1 ris") - 1] == tokens[10]  # the event follows the sample it fell in
    values = [int(t[:4]) * 10.0 ** (-int(t[5:]) if t[4] == "-" else int(t[5:])) for t in tokens]
    assert sum(values) == pytest.approx(1.8 * (0.01 * 1.0 + 0.01 * 0.020), rel=1e-3)
    assert values[10] == pytest.approx(1.8 * 1e-3 * (0.01 + 0.01 * 0.5), rel=1e-3)  # half a sample active


def test_timeline_integrates_time_at_each_level_exactly() -> None:
    timeline = Timeline()
    timeline.state(0.25, ACTIVE)
    timeline.state(0.75, SLEEP)
    starts = np.array([0.0, 0.2, 0.5, 0.7, 0.9])
    assert timeline.seconds_at(ACTIVE, starts, 0.1).tolist() == pytest.approx([0.0, 0.05, 0.1, 0.05, 0.0])
    assert timeline.seconds_at(SLEEP, starts, 0.1).tolist() == pytest.approx([0.0, 0.0, 0.0, 0.05, 0.1])
    assert timeline.seconds_at(IDLE, starts, 0.1).tolist() == pytest.approx([0.1, 0.05, 0.0, 0.0, 0.0])


def test_an_edge_whose_message_comes_late_is_reported_late_not_lost() -> None:
    """A board process held up longer than the real-time lag sends an edge for time already streamed: the
    monitor reports it with its next sample (an event line follows samples already sent), once."""
    power = BoardPowerModel(board="test", voltage_v=1.8, active_current_a=0.0228, idle_current_a=0.012,
                            noise_a_rms_1khz=0.0)
    timeline = Timeline()
    maker = SampleMaker(timeline, power, 1000)
    maker.start()
    timeline.edge(0.0105)
    timeline.advance(0.020)
    assert maker.make().edge_samples == [10]  # on time: in its own sample
    timeline.edge(0.0155)  # late: samples up to 20 ms are out already
    timeline.advance(0.030)
    late = maker.make()
    assert late.first == 20 and late.edge_samples == [20] and late.edge_times_s == pytest.approx([0.0155])
    timeline.advance(0.040)
    assert maker.make().edge_samples == []  # reported once


@pytest.mark.parametrize(("benchmark", "rate"), [("ad01", "1000"), ("kws01", "5000")])
def test_energy_run_on_the_simulated_bench(tmp_path: Path, benchmark: str, rate: str) -> None:
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", benchmark, "--mode", "energy",
                     "--monitor", "sim", "--monitor-rate", rate, "--sessions-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (session,) = tmp_path.iterdir()
    data = json.loads((session / "results.json").read_text())
    truth = energy_per_inference_uj("sim-nucleo-l4r5zi", model_path(benchmark))
    assert data["median_energy_uj"] == pytest.approx(truth, rel=5e-4)
    assert data["valid"] and len(data["windows"]) == 5 and min(w["seconds"] for w in data["windows"]) >= 10.0
    reported = float(CHECKER_ENERGY.search((session / "results.txt").read_text()).group(1))
    assert reported == pytest.approx(data["median_energy_uj"], abs=5e-4)
    trace = np.load(session / "trace.npz")
    assert trace["period_s"] == pytest.approx(1.0 / int(rate)) and len(trace["edges"]) >= 12
    assert "SIMULATED" in (session / "results.txt").read_text()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--board", "sim-nucleo-l4r5zi"], "energy mode needs --monitor"),
        (["--board", "sim-nucleo-l4r5zi", "--monitor", "lpm01a:/dev/ttyACM1"], "metered by a simulated monitor"),
        (["--board", "nucleo-l4r5zi", "--monitor", "sim"], "--monitor sim meters only simulated boards"),
        (["--board", "sim-nucleo-l4r5zi", "--monitor", "ppk2:/dev/ttyACM0"], "(--monitor sim, or ppk2:sim)"),
        (["--board", "sim-nucleo-l4r5zi", "--monitor", "sim", "--monitor-rate", "10000"],
         "is too fast to stream continuously"),
    ],
)
def test_energy_mode_bad_options(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run_cli("run", "--benchmark", "ad01", "--mode", "energy", "--sessions-dir", str(tmp_path), *args)
    assert result.returncode == 2, result.stdout
    assert expected in " ".join(result.stderr.split())


def test_sim_board_in_energy_mode_pulls_its_timestamp_line(tmp_path: Path) -> None:
    """Energy firmware: `timestamp%` prints nothing but m-ready, infer replies carry no m-lap-us, and
    the GPIO edges and active/idle changes go down the power wire."""
    from tinyperf.device.link import open_link
    from tinyperf.device.protocol.client import LegacyClient
    from tinyperf.sim.launcher import start_sim_board
    from tinyperf.sim.wire import bind_receiver, parse_message

    receiver = bind_receiver(tmp_path / "wire")
    receiver.settimeout(0.2)
    kinds: list[tuple[str, float, bool]] = []
    done = threading.Event()

    def collect() -> None:  # a monitor drains its wire all the time; so does this test
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                kinds.append(parse_message(receiver.recv(256)))

    collector = threading.Thread(target=collect, daemon=True)
    collector.start()
    with start_sim_board("sim-nucleo-l4r5zi", "ad01", model_path("ad01"), energy_wire=tmp_path / "wire") as sim, \
            open_link(sim.url, 115200) as link:
        client = LegacyClient(link, 5.0)
        client.drain()  # (pyserial discards what arrived before the port was opened: the banner)
        assert list(client.command("timestamp").lines) == []  # only m-ready, which ends every reply
        client.command("db load 2560")
        for start in range(0, 2560, 32):
            client.command("db " + "00" * min(32, 2560 - start))
        reply = client.command("infer 3 0")
        assert "m-infer-done" in reply.lines and not any(line.startswith("m-lap-us") for line in reply.lines)
        time.sleep(0.3)
    done.set()
    collector.join(timeout=2)
    edges = [t for kind, t, _ in kinds if kind == "E"]
    states = [(t, active) for kind, t, active in kinds if kind == "S"]
    assert states[-2][1] and not states[-1][1]
    assert states[-2][0] == pytest.approx(edges[2]) and states[-1][0] == pytest.approx(edges[3])
    assert edges[3] - edges[2] == pytest.approx(3 * 0.01005, rel=0.01)


def test_energy_run_through_an_interface_board(tmp_path: Path) -> None:
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "energy",
                     "--monitor", "sim", "--interface-board", "--sessions-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (session,) = tmp_path.iterdir()
    log = (session / "log.txt").read_text()
    assert "> dut infer " in log and "[dut]: m-infer-done" in log and "m-dut-passthrough(profile)" in log
    data = json.loads((session / "results.json").read_text())
    truth = energy_per_inference_uj("sim-nucleo-l4r5zi", model_path("kws01"))
    assert data["median_energy_uj"] == pytest.approx(truth, rel=5e-4)


def test_passthrough_client_keeps_only_the_device_lines() -> None:
    from tinyperf.deadline import Deadline
    from tinyperf.device.link.base import Link
    from tinyperf.device.protocol.client import LegacyClient
    from tinyperf.errors import DeviceError

    class Scripted(Link):
        url = "scripted"

        def __init__(self, replies: list[bytes]) -> None:
            self.replies = replies
            self.sent: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.sent.append(data)

        def read_some(self, deadline: Deadline) -> bytes:
            return self.replies.pop(0) if self.replies else b""

        def close(self) -> None:
            pass

    link = Scripted([b"m-dut-passthrough(name)\r\nm-ready\r\n[dut]: m-name-dut-[x]\r\n",
                     b"[dut]: m-ready\r\nm-ready\r\n", b"e-[Unknown command: dut]\r\nm-ready\r\n"])
    client = LegacyClient(link, 1.0, passthrough=True)
    assert list(client.command("name").lines) == ["m-name-dut-[x]"]
    assert link.sent == [b"dut name%"]
    with pytest.raises(DeviceError, match="interface board"):
        client.command("name")


def test_monitor_probe_and_trace_commands(tmp_path: Path) -> None:
    probe = run_cli("monitor", "probe", "--monitor", "sim")
    assert probe.returncode == 0, probe.stderr
    assert "PowerShield present" in probe.stdout and "1.0.6" in probe.stdout
    out = tmp_path / "trace.png"
    result = run_cli("monitor", "trace", "--monitor", "sim", "--out", str(out), "--seconds", "1.0")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    trace = np.load(tmp_path / "trace.npz")
    power = trace["energies_j"] / trace["period_s"]
    assert power.max() > 0.038 and np.median(power) < 0.023  # 5 inferences at ~41 mW over ~22 mW idle
    assert len(trace["edges"]) >= 2
