"""The PPK2, Otii, SCPI and Joulescope paths: each real driver against its simulated instrument, end to
end against the known truth, plus the PPK2 byte stream on a real pty and the SCPI driver on pyvisa-sim."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import model_path, run_cli
from tinyperf.errors import ConfigError, MonitorError
from tinyperf.power.monitor import parse_monitor
from tinyperf.power.ppk2 import Ppk2
from tinyperf.power.profiles import instrument_profile
from tinyperf.power.scpi import ScpiSupply
from tinyperf.power.step_edges import StepEdgeDetector
from tinyperf.sim.board.truth import energy_per_inference_uj
from tinyperf.sim.instruments.ppk2 import encode_samples, metadata_text

PYVISA_SIM = str(Path(__file__).parents[1] / "fixtures" / "n6705-pyvisa-sim.yaml") + "@sim"


@pytest.mark.parametrize("monitor", ["ppk2:sim", "otii:sim", "js220:sim", "scpi:sim"])
def test_energy_run_with_each_simulated_instrument(tmp_path: Path, monitor: str) -> None:
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "ad01", "--mode", "energy",
                     "--monitor", monitor, "--sessions-dir", str(tmp_path))
    (session,) = tmp_path.iterdir()
    data = json.loads((session / "results.json").read_text())
    truth = energy_per_inference_uj("sim-nucleo-l4r5zi", model_path("ad01"))
    assert data["median_energy_uj"] == pytest.approx(truth, rel=5e-4)
    assert data["gaps"] == [] and len(data["windows"]) == 5
    trace = np.load(session / "trace.npz")
    assert trace["period_s"] == pytest.approx(1.0 / data["monitor"]["rate_hz"], rel=0.01)
    if monitor == "scpi:sim":  # no timestamp input: edges from the current step, so not an MLPerf result
        assert result.returncode == 1 and not data["valid"]
        assert any("not the timestamp GPIO" in problem for problem in data["problems"])
        assert str(trace["edge_source"]) == "current step"
    else:
        assert result.returncode == 0, result.stderr
        assert data["valid"] and str(trace["edge_source"]) == "timestamp GPIO"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ppk2:/dev/ttyACM0@D9", "D0..D7"), ("scpi", "needs an address"), ("keithley:1", "unknown monitor")],
)
def test_bad_monitor_specs_say_what_is_expected(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        spec = parse_monitor(text)
        if spec.kind == "ppk2":
            from tinyperf.power.monitor import _driver

            _driver(spec, instrument_profile("ppk2"), spec.address)


def test_monitor_probe_lists_each_simulated_instrument() -> None:
    for monitor, expected in [("ppk2:sim", "9173"), ("otii:sim", "SIM-ACE-0001"), ("scpi:sim", "N6705C"),
                              ("js220:sim", "JS220-SIM001")]:
        result = run_cli("monitor", "probe", "--monitor", monitor)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout


# ---- PPK2 on a pty: the bytes a PPK2 sends ----------------------------------------------------------
class FakeWire:
    """The device end of a pty: answers the metadata request, then lets the test write sample words."""

    def __init__(self, metadata: bool = True) -> None:
        self.master, slave = os.openpty()
        import tty

        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self.slave = slave
        self.metadata = metadata
        self.received = bytearray()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import select

        while not self.stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                data = os.read(self.master, 1024)
                self.received += data
                if 0x19 in data and self.metadata:
                    os.write(self.master, metadata_text(1800).encode())

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=1)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def ppk2_wire():
    wire = FakeWire()
    monitor = Ppk2(wire.path, instrument_profile("ppk2"))
    yield wire, monitor
    monitor.close()
    wire.close()


def words(current_a: float, count: int, first_counter: int, low: tuple[int, ...] = ()) -> bytes:
    pin = np.ones(count, dtype=bool)
    pin[list(low)] = False
    return encode_samples(np.full(count, current_a), np.full(count, 0.03), pin, first_counter)


def wait_for(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_ppk2_commands_are_ppk2_api_bytes(ppk2_wire) -> None:
    wire, monitor = ppk2_wire
    monitor.configure(1.8, 100_000)
    monitor.power_on()
    monitor.start()
    wait_for(lambda: len(wire.received) >= 9)
    # metadata, source mode (0x11 2), regulator 1800 mV ((3 + 1032 // 256), 1032 % 256), DUT on, start
    assert bytes(wire.received[:9]) == bytes([0x19, 0x11, 0x02, 0x0D, 0x07, 0x08, 0x0C, 0x01, 0x06])


def test_ppk2_decoding_matches_ppk2_api(ppk2_wire) -> None:
    wire, monitor = ppk2_wire
    monitor.configure(1.8, 100_000)
    trace = monitor.start()
    rng = np.random.default_rng(1)
    currents = 0.012 + 0.01 * rng.random(500)
    data = encode_samples(currents, np.full(500, 0.03), np.ones(500, dtype=bool), 0)
    wire.send(data)
    wait_for(lambda: trace.samples == 500)
    monitor.api.current_vdd = 1800
    library_ua, _ = monitor.api.get_samples(data)
    assert trace.array() / (1.8 / 100_000) * 1e6 == pytest.approx(np.array(library_ua), rel=1e-9)
    assert trace.array() / (1.8 / 100_000) == pytest.approx(currents, abs=5e-6)  # 4.3 uA range-2 steps


def test_ppk2_edges_and_lost_samples_are_found(ppk2_wire) -> None:
    wire, monitor = ppk2_wire
    monitor.configure(1.8, 100_000)
    trace = monitor.start()
    wire.send(words(0.012, 100, 0, low=(40, 41, 42)))
    wire.send(words(0.012, 100, 105))  # counter jumps 99 -> 105: five samples lost on the way
    wait_for(lambda: trace.samples == 200)
    assert trace.edges == [40]
    assert len(trace.gaps) == 1 and "counter skipped 5" in trace.gaps[0] and "sample 100" in trace.gaps[0]


def test_ppk2_misaligned_stream_is_a_clear_error_and_keeps_samples(ppk2_wire) -> None:
    wire, monitor = ppk2_wire
    monitor.configure(1.8, 100_000)
    trace = monitor.start()
    wire.send(words(0.012, 50, 0))
    wait_for(lambda: trace.samples == 50)
    wire.send(b"\xff\xff\xff\xff" * 4)  # range bits 7: not a PPK2 word
    with pytest.raises(MonitorError, match=r"current range 7 at sample 50.*misaligned"):
        monitor.wait_for_edges(2, 2.0)
    assert trace.samples == 50


def test_ppk2_without_metadata_says_what_to_check() -> None:
    wire = FakeWire(metadata=False)
    monitor = Ppk2(wire.path, instrument_profile("ppk2"))
    try:
        with pytest.raises(MonitorError, match=r"sent no metadata.*1915:c00a"):
            monitor.configure(1.8, 100_000)
    finally:
        monitor.close()
        wire.close()


def test_ppk2_rejects_other_rates() -> None:
    with pytest.raises(MonitorError,
                       match=r"5000 Hz is not one of its rates for the Nordic Power Profiler Kit II.*\[100000\]"):
        instrument_profile("ppk2").check_setup(1.8, 5000)


# ---- SCPI on pyvisa-sim ---------------------------------------------------------------------------
def test_scpi_driver_on_pyvisa_sim() -> None:
    supply = ScpiSupply("TCPIP::n6705.sim::5025::SOCKET", instrument_profile("scpi"), backend=PYVISA_SIM)
    assert supply.identify()["model"] == "N6705C"
    supply.configure(1.8, 5000)
    assert supply.period_s == pytest.approx(2e-4) and supply.rate_hz == 5000
    assert supply.instrument.query("VOLT? (@1)") == "1.8"


def test_scpi_supply_without_elog_is_rejected_with_its_errors() -> None:
    supply = ScpiSupply("TCPIP::n6705-old.sim::5025::SOCKET", instrument_profile("scpi"), backend=PYVISA_SIM)
    with pytest.raises(MonitorError, match=r"n6705-old.*rejected the setup: ERROR"):
        supply.configure(1.8, 5000)


def test_unreachable_scpi_resource_is_a_clear_error() -> None:
    with pytest.raises(MonitorError, match=r"SCPI supply at TCPIP::127.0.0.1::9::SOCKET: '\*IDN\?' failed"):
        ScpiSupply("TCPIP::127.0.0.1::9::SOCKET", instrument_profile("scpi"), timeout_ms=500)


def test_step_detector_places_edges_in_the_mixed_samples() -> None:
    rng = np.random.default_rng(3)
    energies = 12.0 + 0.1 * rng.standard_normal(400)
    energies[150:300] += 10.0
    energies[149] += 4.0  # the step fell 60 % through sample 149
    energies[300] += 7.0  # and the fall 70 % through sample 300
    detector = StepEdgeDetector()
    assert detector.feed(energies[:200]) == [149]
    assert detector.feed(energies) == [300]


# ---- Otii and Joulescope without an instrument ---------------------------------------------------
def test_otii_without_server_says_how_to_start_one() -> None:
    from tinyperf.power.otii import Otii

    with pytest.raises(MonitorError, match=r"cannot reach the Otii server at 127.0.0.1:9.*TCP server"):
        Otii("127.0.0.1", 9, instrument_profile("otii"))


def test_joulescope_scan_finds_none_here() -> None:
    from tinyperf.power.joulescope import Joulescope

    with pytest.raises(MonitorError, match=r"no JS220 found by joulescope.scan\(\)"):
        Joulescope("js220", None, instrument_profile("js220"))
