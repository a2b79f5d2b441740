"""The simulated bench as other runners meet it: result lines as each reference firmware prints them, the
interface board's exact bytes, the LPM01A streaming in real time through a long `infer`, and the exact
outputs of the tinyperf protocol."""

from __future__ import annotations

import re
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import serial

from tests.conftest import model_path
from tests.sim.test_sim_board import _host_reference
from tinyperf.device.link import open_link
from tinyperf.sim.bench import start_bench
from tinyperf.sim.launcher import start_sim_board

BOARD = "sim-nucleo-l4r5zi"
INPUT_BYTES = {"kws01": 490, "vww01": 27648, "ad01": 2560, "ic01": 3072}


def _exchange(port: serial.Serial, command: bytes, until: bytes = b"m-ready\r\n", limit_s: float = 20.0) -> bytes:
    port.write(command)
    got = b""
    deadline = time.monotonic() + limit_s
    while not got.endswith(until) and time.monotonic() < deadline:
        got += port.read_until(until)  # returns at the terminator, not after the port's whole timeout
    return got


def _quiet(port: serial.Serial, seconds: float = 0.5) -> bytes:
    time.sleep(seconds)
    return port.read(65536)


def _load(port: serial.Serial, data: bytes) -> None:
    assert b"Expecting" in _exchange(port, f"db load {len(data)}%".encode())
    for i in range(0, len(data), 32):
        _exchange(port, b"db " + data[i : i + 32].hex().encode() + b"%")


def _reference_firmware_line(benchmark: str, values: list[float]) -> str:
    """Written here from the reference submissions' th_results, apart from tinyperf's device_math."""
    if benchmark == "kws01":
        def cut(x: np.float32) -> str:
            return f"0.{int(x * np.float32(10))}{int(x * np.float32(100)) % 10}{int(x * np.float32(1000)) % 10}"
        return "m-results-[" + ",".join(cut(np.float32(v)) for v in values) + "]"
    if benchmark == "vww01":
        return "m-results-[" + "".join(f"{v:0.3f}," for v in values) + "]"
    return "m-results-[" + ",".join(f"{v:0.3f}" for v in values) + "]"


@pytest.mark.parametrize("benchmark", ["kws01", "vww01", "ad01", "ic01"])
def test_results_print_as_each_reference_firmware_prints_them(benchmark: str) -> None:
    """KWS: '0.%d%d%d' of truncated float32 products; VWW: two '%0.3f' scores each followed by a comma;
    AD: one '%0.3f' MSE; IC: ten '%0.3f' scores. Values from TFLM's host interpreter called here."""
    rng = np.random.default_rng(3)
    lines = []
    with start_sim_board(BOARD, benchmark, model_path(benchmark), legacy_only=True) as sim:
        port = serial.Serial(sim.url, 115200, timeout=0.05)
        try:
            for _ in range(3):
                if benchmark == "ad01":
                    data = rng.uniform(-40, 5, INPUT_BYTES[benchmark] // 4).astype("<f4").tobytes()
                else:
                    data = rng.integers(0, 256, INPUT_BYTES[benchmark], dtype=np.uint8).tobytes()
                _load(port, data)
                reply = _exchange(port, b"infer 1 0%").decode()
                line = re.search(r"m-results-\[.*\]", reply).group(0)  # type: ignore[union-attr]
                assert line == _reference_firmware_line(benchmark, _host_reference(benchmark, data))
                lines.append(line)
        finally:
            port.close()
    assert len(set(lines)) > 1  # different inputs, different lines: the comparison can fail


def test_kws_scores_are_cut_not_rounded() -> None:
    """The int8 output 0.9296875 (238/256) prints 0.929 on the reference firmware, where %0.3f gives 0.930."""
    from tinyperf.suite.device_math import kws_truncated, reference_results

    assert kws_truncated(238 / 256) == "0.929" and f"{238 / 256:0.3f}" == "0.930"
    assert kws_truncated(1.0) == "0.1000"  # the firmware's own quirk for a full score
    assert reference_results("vww01", [0.25, 0.75]) == "[0.250,0.750,]"
    assert reference_results("kws01", [0.0703125], "printf3") == "[0.070]"


def _stereo_wav(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(b"\0\0\0\0" * int(16000 * seconds))


def test_interface_board_bytes_are_exactly_the_firmware_s(tmp_path: Path) -> None:
    card = tmp_path / "sd"
    card.mkdir()
    _stereo_wav(card / "short.wav", 0.3)
    (card / "notes.txt").write_text("x")
    with start_sim_board(BOARD, "kws01", model_path("kws01"), interface_baud=9600, legacy_only=True,
                         sd_card=card) as sim:
        port = serial.Serial(sim.url, 115200, timeout=0.05)
        try:
            assert _exchange(port, b"name%") == b"tinyML Enhanced Interface Board\r\nm-ready\r\n"
            assert _exchange(port, b"bogus%") == b"m-ready\r\n"
            assert _exchange(port, b"%") == b"m-ready\r\n"
            port.write(b"named%")  # a known prefix in a shape the firmware does not take: no reply at all
            assert _quiet(port) == b""
            assert _exchange(port, b"dut name%", b"[dut]: m-ready\r\n") == (
                b"m-dut-passthrough(name)\r\nm-ready\r\n[dut]: m-name-dut-[tinyperf-sim-nucleo-l4r5zi]\r\n"
                b"[dut]: m-ready\r\n")
            assert _quiet(port, 0.3) == b""  # no m-ready of the board's own after the relayed reply
            assert _exchange(port, b"checkbaud%") == b"baud is: 9600\nm-ready\r\n"
            assert _exchange(port, b"ls%") == b"notes.txt\r\nshort.wav\r\nm-ready\r\n"
            assert _exchange(port, b"play short.wav%") == b"Attempting to play short.wav\nsucceeded.\nm-ready\r\n"
            assert _exchange(port, b"play notes.txt%").startswith(b"Attempting to play notes.txt\nError playing")
            assert _exchange(port, b"record_detections%") == b"Now recording detections\r\nm-ready\r\n"
            assert _exchange(port, b"print_detections%") == b"Detection Timestamps (ms)\r\nm-ready\r\n"
            assert _exchange(port, b"print_dutycycle%") == (
                b"Duty cycle start times (s)\r\n\r\nDuty cycle stop times (s)\r\nm-ready\r\n")
            # a board-to-device rate the device does not run at: the device never answers
            assert _exchange(port, b"setbaud 115200%") == b"set baud to: 115200\nm-ready\r\n"
            port.write(b"dut name%")
            assert _quiet(port) == b"m-dut-passthrough(name)\r\nm-ready\r\n"
            assert _exchange(port, b"setbaud 9600%") == b"set baud to: 9600\nm-ready\r\n"
            assert _exchange(port, b"dut name%", b"[dut]: m-ready\r\n").endswith(b"[dut]: m-ready\r\n")
        finally:
            port.close()


def test_interface_board_dutycycle_quirk_has_no_line_break_before_m_ready() -> None:
    from tinyperf.sim.board.interface_board import InterfaceBoard

    board = InterfaceBoard(relay=lambda _: b"", wait=lambda _: None)
    for i in range(9):
        board.record_duty(100 * i, 100 * i + 40)
    reply = board.handle("print_dutycycle").decode()
    assert reply.startswith("Duty cycle start times (s)\r\n0, 100, ")
    assert "700, \r\n800, \r\nDuty cycle stop times" in reply
    assert reply.endswith("740, \r\n840, m-ready\r\n")


LPM_SETUP = ["htc", "pwr off", "acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal", "output energy",
             "format ascii_dec", "freq 1k", "volt 1800m", "pwr on nostatus", "start"]


def test_lpm01a_streams_in_real_time_through_a_long_infer_and_reports_each_edge_when_it_falls() -> None:
    """What the official runner relies on: samples keep coming while the board is busy, and the end
    event is in the stream before the host has the infer reply."""
    with start_bench(BOARD, "kws01", model_path("kws01"), "energy") as bench:
        interface = serial.Serial(bench.ports["interface"], 115200, timeout=0.05)
        monitor = serial.Serial(bench.ports["power"], 3686400, timeout=0.05)
        stream: list[tuple[float, bytes]] = []
        stop = threading.Event()

        def read_monitor() -> None:
            while not stop.is_set():
                chunk = monitor.read(65536)
                if chunk:
                    stream.append((time.monotonic(), chunk))

        try:
            for command in LPM_SETUP:
                monitor.write(f"{command}\r\n".encode())
                time.sleep(0.02)
            reader = threading.Thread(target=read_monitor, daemon=True)
            reader.start()
            time.sleep(0.5)
            started = time.monotonic()
            reply = _exchange(interface, b"dut infer 25 0%", b"[dut]: m-ready\r\n", limit_s=30)
            replied = time.monotonic()
            stop.set()
            reader.join(2)
        finally:
            interface.close()
            monitor.close()
    assert b"[dut]: m-infer-done" in reply and replied - started > 25 * 0.19 * 0.9  # 25 x ~191.6 ms
    during = [(t, c) for t, c in stream if started <= t <= replied]
    seconds = int(replied - started)
    for k in range(seconds):  # every second of the infer brought samples
        assert any(started + k <= t < started + k + 1 and re.search(rb"\d{4}[+-]\d{2}", c) for t, c in during), k
    text = b"".join(c for t, c in stream if t <= replied).decode()
    assert text.count("event ") >= 2, "both timestamp edges must be in the stream before the reply arrives"
    samples = len(re.findall(r"^\d{4}[+-]\d{2}\r?$", text, re.M))
    assert samples >= 0.9 * 1000 * (replied - started)


def test_extension_results_carry_the_exact_outputs() -> None:
    """Over the tinyperf protocol the scores are the model's float32 outputs, not the 3-decimal print."""
    from tinyperf.device.connection import Connection, ConnectionSettings

    data = np.random.default_rng(5).integers(0, 256, 490, dtype=np.uint8).tobytes()
    with start_sim_board(BOARD, "kws01", model_path("kws01")) as sim:
        connection = Connection(open_link(sim.url, 115200), ConnectionSettings(baud=115200, outputs=12))
        try:
            device = connection.open()
            device.load(data)
            exact = device.infer(1, 0, timeout_s=30).values
        finally:
            connection.link.close()
    assert any(v != round(v, 3) for v in exact)  # int8 outputs k/256 need more than 3 decimals
    assert all(float(np.float32(v)) == v and (v * 256).is_integer() for v in exact)
