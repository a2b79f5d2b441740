"""Hostile devices: a scripted device on a real pty or socket misbehaves in every way a broken board can,
and each run ends in one named line, exit != 0, bounded time and memory, and nothing measured lost."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.device.hostile_device import FakeDevice
from tinyperf.suite.smoke.store import smoke_subset

SAMPLES = 3


@pytest.fixture(params=["pty", "socket"])
def serve(request: pytest.FixtureRequest) -> Iterator:
    """Start a FakeDevice (or subclass) on the parametrised transport; returns its URL."""
    devices: list[FakeDevice] = []

    def start(device: FakeDevice) -> str:
        devices.append(device)
        return device.serve_pty() if request.param == "pty" else device.serve_socket()

    yield start
    for device in devices:
        device.close()


def _run(url: str, tmp_path: Path, mode: str, *extra: str, board: str = "sim-nucleo-l4r5zi"):
    args = ["run", "--board", board, "--benchmark", "kws01", "--mode", mode, "--port", url, "--protocol", "legacy",
            "--sessions-dir", str(tmp_path / "sessions"), "--timeout", "2", *extra]
    if mode == "accuracy":
        args += ["--dataset", str(smoke_subset("kws01", SAMPLES, tmp_path / "ds"))]
    started = time.monotonic()
    result = run_cli(*args, timeout=120)
    return result, time.monotonic() - started


def _one_line_error(result, *fragments: str, code: int = 2) -> str:
    assert result.returncode == code, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    message = " ".join(result.stderr.split())
    for fragment in fragments:
        assert fragment in message, message
    return message


def _session(tmp_path: Path) -> Path:
    (session,) = (tmp_path / "sessions").iterdir()
    return session


def _journal(session: Path) -> list[dict]:
    return [json.loads(line) for line in (session / "journal.jsonl").read_text().splitlines()]


class Results(FakeDevice):
    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line

    def results(self) -> str:
        return self.line


@pytest.mark.parametrize(("line", "why"), [
    ("m-results-[]", "with 0 result values; the model has 12 outputs"),
    ("m-results-[" + ",".join(["0.100"] * 13) + "]", "with 13 result values; the model has 12 outputs"),
    ("m-results-[" + ",".join(["nan"] * 12) + "]", "non-finite results"),
    ("m-results-[0.5," + ",".join(["inf"] * 11) + "]", "non-finite results"),
])
def test_bad_result_vectors_fail_their_samples_not_the_run(serve, tmp_path: Path, line: str, why: str) -> None:
    result, _ = _run(serve(Results(line)), tmp_path, "accuracy")
    assert result.returncode == 1, result.stderr  # measured, INVALID: every sample failed, named
    session = _session(tmp_path)
    journal = _journal(session)
    errors = [r["error"] for r in journal if r["event"] == "sample-error"]
    assert len(errors) == 3 * SAMPLES and all(why in e for e in errors), errors[:2]
    assert not [r for r in journal if r["event"] == "sample" and not r.get("failed")]  # nothing bad journaled
    invalid = next(line for line in (session / "results.txt").read_text().splitlines() if "INVALID" in line)
    assert f"{SAMPLES} of {SAMPLES} samples failed 3 times" in invalid and why in invalid, invalid
    text = (session / "results.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in results.json"))


def test_a_journal_with_a_bad_vector_from_an_older_tinyperf_resumes_and_finishes(serve, tmp_path: Path) -> None:
    result, _ = _run(serve(FakeDevice()), tmp_path, "accuracy")
    assert result.returncode in (0, 1), result.stderr
    session = _session(tmp_path)
    lines = (session / "journal.jsonl").read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if '"event": "sample"' in line)
    poisoned = json.loads(lines[first])
    poisoned["values"] = [0.1] * 13  # what an older tinyperf journaled unchecked
    lines[first] = json.dumps(poisoned)
    (session / "journal.jsonl").write_text("\n".join(lines) + "\n")
    for _ in range(2):  # every resume finishes; the bad record is measured again, not scored
        again = run_cli("run", "--resume", str(session), "--port", serve(FakeDevice()), timeout=120)
        assert again.returncode in (0, 1), again.stderr
        figures = json.loads((session / "results.json").read_text())
        assert len(figures["samples"]) == SAMPLES
        assert all(len(s["values"]) == 12 for s in figures["samples"])


def test_a_ten_thousand_number_reply_is_refused_in_bounded_memory(serve, tmp_path: Path) -> None:
    huge = "m-results-[" + ",".join(["0.5"] * 200_000) + "]"  # 800 kB on one line
    result, seconds = _run(serve(Results(huge)), tmp_path, "accuracy")
    assert result.returncode == 1, result.stderr
    session = _session(tmp_path)
    errors = [r["error"] for r in _journal(session) if r["event"] == "sample-error"]
    assert errors and all("a line longer than 4096 bytes" in e for e in errors), errors[:1]
    assert (session / "journal.jsonl").stat().st_size < 50_000  # not the 70 MB the unbounded runner wrote
    assert seconds < 90


class Chatterbox(FakeDevice):
    """Answers `name%` with lines that never end in m-ready, `pace` seconds apart."""

    def __init__(self, pace: float) -> None:
        super().__init__()
        self.pace = pace

    def answer(self, command: str) -> Iterator[str]:
        if command != "name":
            yield from super().answer(command)
            return
        index = 0
        while not self.stop.is_set():
            index += 1
            time.sleep(self.pace)
            yield f"m-chatter-{index}"


@pytest.mark.parametrize(("pace", "why"), [
    (0.001, ["kept sending without ever ending its reply"]),  # the deadline holds while bytes arrive
    (0.0, ["kept sending without ever ending its reply", "ran past 1048576 bytes without m-ready"]),  # or the size
])
def test_a_device_that_never_goes_quiet_is_cut_off(serve, tmp_path: Path, pace: float, why: list[str]) -> None:
    # 5 s, not the module's 2 s: bytes must reach the runner before its deadline even on a loaded machine
    result, seconds = _run(serve(Chatterbox(pace)), tmp_path, "performance", "--timeout", "5")
    message = _one_line_error(result, "'name%'")
    assert any(reason in message for reason in why), message
    assert seconds < 30
    assert (_session(tmp_path) / "log.txt").stat().st_size < 20 << 20


class Clock(FakeDevice):
    def __init__(self, clock) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.clock = clock

    def clock_us(self) -> int:
        return self.clock(super().clock_us())


def _largest_count(device: FakeDevice) -> int:
    return max(int(c.split()[1]) for c in device.commands if c.startswith("infer"))


def test_a_coarse_clock_is_calibrated_over_more_inferences(serve, tmp_path: Path) -> None:
    device = Clock(lambda us: us // 1000 * 1000)  # a 1 kHz tick reported in microseconds
    result, _ = _run(serve(device), tmp_path, "performance", "--min-window", "0.5", board="nucleo-l4r5zi")
    assert result.returncode == 1, result.stderr  # windows shorter than the rules': INVALID, but measured
    calibration = next(r for r in _journal(_session(tmp_path)) if r["event"] == "calibration")
    assert calibration["count"] >= 10 and 0.0002 < calibration["latency_s"] < 0.002
    assert _largest_count(device) < 20_000  # not the 10,500,000 a 0 us calibration asked for


def test_a_stopped_clock_is_a_named_error_not_an_hour_of_inference(serve, tmp_path: Path) -> None:
    device = Clock(lambda us: 123456)
    result, seconds = _run(serve(device), tmp_path, "performance", board="nucleo-l4r5zi")
    _one_line_error(result, "the device clock looks coarse or stopped")
    assert seconds < 30 and _largest_count(device) <= 10_000


class JumpsBack(FakeDevice):
    def infer_lines(self, count: int, warmup: int) -> Iterator[str]:
        for line in super().infer_lines(count, warmup):
            yield "m-lap-us-1000" if line.startswith("m-lap-us") and self._second else line
            self._second = line.startswith("m-lap-us") and not self._second

    _second = False


def test_a_clock_that_jumps_back_is_a_named_error(serve, tmp_path: Path) -> None:
    result, _ = _run(serve(JumpsBack()), tmp_path, "performance", board="nucleo-l4r5zi")
    _one_line_error(result, "the device clock runs ahead or jumped")


class HugeNumber(FakeDevice):
    def __init__(self, digits: int) -> None:
        super().__init__()
        self.digits = digits

    def infer_lines(self, count: int, warmup: int) -> Iterator[str]:
        for line in super().infer_lines(count, warmup):
            yield "m-lap-us-" + "9" * self.digits if line.startswith("m-lap-us") else line


@pytest.mark.parametrize(("digits", "why"), [(400, "expected an unsigned integer of at most 20 digits"),
                                             (4500, "a line longer than 4096 bytes")])  # past int()'s 4300
def test_a_huge_number_is_a_protocol_error(serve, tmp_path: Path, digits: int, why: str) -> None:
    result, _ = _run(serve(HugeNumber(digits)), tmp_path, "performance", board="nucleo-l4r5zi")
    _one_line_error(result, why)
