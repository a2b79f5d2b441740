"""`tinyperf doctor` on the simulated bench: every check passes on a healthy bench, and each fault a real
bench is built with (sim/bench_faults.py) turns exactly the line that should fail into that failure."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import run_cli
from tinyperf.device.ports import PortInfo
from tinyperf.doctor.findings import Findings
from tinyperf.doctor.ports_check import busy, check_usb_ports, holders

BOARD = "sim-nucleo-l4r5zi"
QUICK = ("--clock-seconds", "1", "--stream-seconds", "1", "--timeout", "1")
VENDOR = "name 'tinyperf-sim-nucleo-l4r5zi', firmware 'ULPMark for tinyML Firmware V0.0.1', model kws01"


def doctor(*args: str) -> tuple[int, dict]:
    done = run_cli("doctor", "--board", BOARD, "--json", *QUICK, *args, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def lines(report: dict, status: str) -> list[str]:
    return [f"{f['area']} {f['text']}" for f in report["findings"] if f["status"] == status]


def test_healthy_energy_bench_passes_every_check() -> None:
    code, report = doctor()
    assert code == 0 and report["ready"] and not lines(report, "FAIL"), report
    checks = [re.sub(r"[:(].*", "", re.sub(r"/dev/pts/\d+", "PTY", line)) for line in lines(report, "ok")]
    assert checks == [
        "ports PTY", "ports PTY", "monitor LPM01A at PTY answers", "monitor rates", "monitor supply",
        "device answers name% and profile% through the interface board", "wiring pass-through",
        "wiring power", "device model", "device infer 1 0 on a known 490-byte input", "wiring timestamp",
        "wiring supply current", "monitor stream"]
    assert lines(report, "skipped") == [
        "device clock: energy-mode firmware prints no m-lap-us (the monitor times energy runs); run doctor on the "
        "performance-mode firmware to check it"]
    assert "wiring power: the DUT is silent with the monitor's supply off and answers with it on" in lines(report, "ok")


def test_healthy_performance_bench_checks_the_clock_and_the_reference() -> None:
    code, report = doctor("--mode", "performance")
    assert code == 0, report
    ok = lines(report, "ok")
    assert any(re.fullmatch(r"device clock: 1\.0\d\d s counted in 1\.0\d\d s of host time \((99|100)\.\d\d %\), "
                            r"steps of 1 us or finer, never backwards", line) for line in ok), ok
    assert "device answers name% and profile% at 115200 baud (the board's rate)" in " ".join(ok)
    assert any(line.startswith("device infer 1 0 on a known 490-byte input: 12 value(s) equal TFLM's "
                               "interpreter within 0.0011") for line in ok)


FAULTS = {
    "no-timestamp-wire": ("energy", [
        r"wiring timestamp: no edge reached the monitor within 2 s of timestamp% \(0 edges in \d+ samples\): wire "
        r"the DUT's timestamp pin to the monitor's timestamp input and share ground \(is D7 wired to the DUT\?\)"]),
    "usb-powered": ("energy", [
        r"wiring power: the DUT answered name% while the monitor's supply was off: it is powered from elsewhere "
        r"\(USB or the ST-LINK's 3V3\); remove that jumper so only the monitor powers it, or energy figures miss "
        r"what it draws",
        r"wiring supply current: 0\.000 mA while the DUT idles at 1\.80 V: it draws nothing from the monitor "
        r"\(powered from USB\?\), so energy figures would be near zero; power the DUT only from the monitor's "
        r"output"]),
    "monitor-drops": ("energy", [
        r"monitor stream: dropped samples in 1 s at 1000 Hz \(\d+ of its own checks disagree; first: TimeStamp: "
        r"001s 000ms, buff 00%: 996 samples received, 1000 expected\): give it a USB port of its own, or lower "
        r"--monitor-rate"]),
    "old-monitor-firmware": ("energy", [
        r"monitor LPM01A at /dev/pts/\d+: firmware 1\.0\.4 is older than the 1\.0\.6 MLPerf Tiny needs: update it "
        r"with ST's STM32CubeProgrammer \(X-NUCLEO-LPM01A firmware package\)"]),
    "slow-baud": ("energy", [
        r"wiring pass-through: the interface board \('tinyML Enhanced Interface Board'\) answers, the DUT behind "
        r"it does not \(dut name% at 9600 baud, 1 s\): check the UART wires between them and that the "
        r"energy-mode firmware's UART runs at 9600 baud"]),
    "stopped-clock": ("performance", [
        r"device clock: counted 0 us while the host waited 1\.\d\d s \(m-lap-us stays \d+\): the firmware's "
        r"timestamp timer is stopped; start it \(and its clock\) before main's loop"]),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_bench_fault_fails_exactly_its_check(fault: str) -> None:
    mode, expected = FAULTS[fault]
    code, report = doctor("--mode", mode, "--sim-fault", fault)
    failed = lines(report, "FAIL")
    assert code == 1 and not report["ready"], report
    assert len(failed) == len(expected), failed
    for line, pattern in zip(failed, expected, strict=True):
        assert re.fullmatch(pattern, line), line
    assert report["summary"].startswith("the bench is NOT ready: ")


def test_a_slow_uart_is_found_at_its_rate_and_named() -> None:
    """The simulated UART hears a host at another rate as noise (as a real one), so doctor finds the rate."""
    code, report = doctor("--mode", "performance", "--sim-fault", "slow-baud")
    assert code == 1
    assert lines(report, "FAIL") == [
        f"device answers only at 9600 baud, not at the board's 115200: build the firmware's UART for 115200 baud, "
        f"or run with --baud 9600 ({VENDOR})"]
    # the checks after it still run, at the rate found
    assert any(line.startswith("device infer 1 0 on a known 490-byte input") for line in lines(report, "ok"))


def test_doctor_on_a_bench_started_by_tinyperf_sim(tmp_path) -> None:
    """The bench another terminal serves (`tinyperf sim --bench --fault`), checked through its ports as a real
    bench's are: the plain text output, one line per check, and exit 1."""
    ports_file = tmp_path / "ports.json"
    bench = subprocess.Popen([sys.executable, "-m", "tinyperf.cli", "sim", "--bench", "--fault", "no-timestamp-wire",
                              "--ports-file", str(ports_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while not ports_file.exists() and time.monotonic() < deadline and bench.poll() is None:
            time.sleep(0.1)
        ports = {d["role"]: d["port"] for d in json.loads(ports_file.read_text())["devices"]}
        done = run_cli("doctor", "--board", "nucleo-l4r5zi", "--port", ports["interface"], "--interface-board",
                       "--monitor", f"lpm01a:{ports['power']}", *QUICK, timeout=120)
    finally:
        bench.terminate()
        bench.communicate(timeout=30)
    assert done.returncode == 1, done.stderr
    out = done.stdout.splitlines()
    assert any(re.fullmatch(r"FAIL    wiring  timestamp: no edge reached the monitor within 2 s of timestamp% "
                            r"\(0 edges in \d+ samples\): .*", line) for line in out), out
    assert "ok      wiring  pass-through: the interface board relays to the DUT at 9600 baud" in out
    assert out[-1].startswith("the bench is NOT ready: ")


@pytest.mark.no_models
def test_identical_usb_ids_are_probed_and_told_apart() -> None:
    ports = [PortInfo("/dev/ttyACM0", "0483:374B", "STLink", "board nucleo-l4r5zi"),
             PortInfo("/dev/ttyACM1", "0483:374B", "STLink", "board nucleo-l4r5zi"),
             PortInfo("/dev/ttyACM2", "0483:5740", "PowerShield", "monitor ST X-NUCLEO-LPM01A (PowerShield)")]
    serials = {"/dev/ttyACM0": "0671FF3", "/dev/ttyACM1": "0672AA1"}
    answers = {"/dev/ttyACM0": "st-l4r5zi"}
    findings = Findings()
    import tinyperf.doctor.ports_check as ports_check

    original = ports_check.busy
    ports_check.busy = lambda device: None  # these USB ports do not exist here; the busy check has its own test
    try:
        check_usb_ports(ports, serials, answers.get, findings)
    finally:
        ports_check.busy = original
    assert [f.line() for f in findings.items] == [
        "warning ports   /dev/ttyACM0: USB 0483:374B (board nucleo-l4r5zi), serial 0671FF3, answers name% as "
        "'st-l4r5zi': 2 ports share this USB id; pass the one you mean with --port (the serial number tells them "
        "apart)",
        "warning ports   /dev/ttyACM1: USB 0483:374B (board nucleo-l4r5zi), serial 0672AA1, does not answer name%: "
        "2 ports share this USB id; pass the one you mean with --port (the serial number tells them apart)",
        "ok      ports   /dev/ttyACM2: USB 0483:5740 (monitor ST X-NUCLEO-LPM01A (PowerShield))"]


@pytest.mark.no_models
def test_a_port_another_program_holds_is_busy_and_its_holder_named() -> None:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    assert busy(path) is None  # free: tinyperf can take it
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from tinyperf.device.link import open_link; "
                               f"link = open_link({path!r}, 115200); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, env=os.environ.copy())
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        assert busy(path) is not None
        assert any(f"(pid {holder.pid})" in who for who in holders(path))
    finally:
        holder.kill()
        holder.wait(timeout=10)
        os.close(master)
        os.close(slave)


def test_a_firmware_that_tells_its_model_hash_is_checked_against_the_file(sim_kws) -> None:
    """`tinyperf sim` (the tinyperf extension, virtual time): tp-caps tells the model's sha256, so the very
    file is compared; its virtual clock is a warning that says why, not a failure."""
    done = run_cli("doctor", "--board", BOARD, "--port", sim_kws.url, *QUICK, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout.splitlines()
    assert ("ok      device  model: kws01, the very file tinyperf would use (the official kws01 model, sha256 "
            "aeea436800704fce)") in out
    clock = [line for line in out if "device  clock" in line]
    assert len(clock) == 1 and clock[0].startswith("warning device  clock: "), out
    assert clock[0].endswith("(expected of a simulated board keeping virtual time: `tinyperf sim --pacing "
                             "virtual`; a --bench or --pacing realtime counts real time)")
