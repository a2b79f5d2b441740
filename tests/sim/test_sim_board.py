"""The simulated board, a separate process on a real pseudo-terminal, against the firmware transcript
and against TFLM's host interpreter called independently here."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import model_path, transcript
from tinyperf.deadline import Deadline
from tinyperf.device.dut import Device
from tinyperf.device.link import open_link
from tinyperf.device.protocol.client import LegacyClient
from tinyperf.sim.launcher import start_sim_board

_LAP = re.compile(rb"m-lap-us-\d+")


def _normalise(data: bytes) -> bytes:
    """Vendor name and timestamps are the only allowed differences."""
    data = data.replace(b"qemu-mps2-an386-tflm", b"VENDOR").replace(b"tinyperf-sim-nucleo-l4r5zi", b"VENDOR")
    return _LAP.sub(b"m-lap-us-T", data)


def _read_reply(link, deadline_s: float = 10.0) -> bytes:
    got = b""
    deadline = Deadline(deadline_s)
    while not got.endswith(b"m-ready\r\n") and not deadline.expired():
        got += link.read_some(deadline)
    return got


def test_sim_answers_the_firmware_transcript_byte_for_byte(sim_kws) -> None:
    link = open_link(sim_kws.url, 115200)
    sent = ""
    try:
        for direction, text in transcript():
            if direction == "tx":
                link.write(text.encode("ascii"))
            elif text:
                assert _normalise(_read_reply(link)) == _normalise(text.encode("ascii")), f"after {sent!r}"
            sent = text
    finally:
        link.close()


def _host_reference(benchmark: str, data: bytes) -> list[float]:
    """Independent of tinyperf's device math: straight from tflite_micro."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(str(model_path(benchmark)))
    inp, out = interpreter.get_input_details(0), interpreter.get_output_details(0)
    in_scale, in_zp = inp["quantization_parameters"]["scales"][0], inp["quantization_parameters"]["zero_points"][0]
    if benchmark == "kws01":
        x = np.frombuffer(data, np.int8)
    elif benchmark == "ad01":
        floats = np.frombuffer(data, "<f4")
        x = np.clip(np.round(floats / in_scale) + in_zp, -128, 127).astype(np.int8)
    else:
        x = (np.frombuffer(data, np.uint8).astype(int) - 128).astype(np.int8)
    interpreter.set_input(x.reshape(inp["shape"]), 0)
    interpreter.invoke()
    q = out["quantization_parameters"]
    raw = interpreter.get_output(0).reshape(-1).astype(np.float32)
    y = (raw - int(q["zero_points"][0])) * np.float32(q["scales"][0])  # float32, as the firmware computes
    if benchmark == "ad01":
        return [float(np.mean((floats - y) ** 2))]
    return [float(v) for v in y]


def _as_reference_prints(benchmark: str, value: float) -> float:
    """KWS reference firmware cuts each float32 score toward zero at 3 decimals; the others print %0.3f."""
    if benchmark == "kws01":
        return int(np.float32(value) * np.float32(1000)) / 1000
    return float(f"{value:0.3f}")


@pytest.mark.parametrize(("benchmark", "nbytes"), [("kws01", 490), ("vww01", 27648), ("ad01", 2560), ("ic01", 3072)])
def test_device_results_equal_tflm_host_reference(benchmark: str, nbytes: int) -> None:
    rng = np.random.default_rng(7)
    with start_sim_board("sim-nucleo-l4r5zi", benchmark, model_path(benchmark)) as sim:
        link = open_link(sim.url, 115200)
        device = Device(LegacyClient(link))
        try:
            for _ in range(3):
                if benchmark == "ad01":
                    data = rng.uniform(-60, 10, nbytes // 4).astype("<f4").tobytes()
                else:
                    data = rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes()
                device.load(data)
                got = device.infer(1, 0, timeout_s=30).values
                expected = [_as_reference_prints(benchmark, v) for v in _host_reference(benchmark, data)]
                assert list(got) == expected
                # the sim re-copies the input before every inference: repeated runs answer the same
                assert device.infer(5, 1, timeout_s=30).values == got
        finally:
            link.close()


def test_sim_over_tcp_socket_url() -> None:
    with start_sim_board("sim-nucleo-l4r5zi", "kws01", model_path("kws01"), tcp_port=0) as sim:
        assert sim.url.startswith("socket://127.0.0.1:")
        link = open_link(sim.url, 115200)
        try:
            assert Device(LegacyClient(link)).identify().model == "kws01"
        finally:
            link.close()


def test_realtime_pacing_takes_wire_time() -> None:
    """At 9600 baud a 490-byte load (17 commands, ~1.2 kB of hex and replies) takes > 1 s of wall time."""
    import time

    with start_sim_board("sim-nucleo-l4r5zi", "kws01", model_path("kws01"), pacing="realtime", baud=9600) as sim:
        link = open_link(sim.url, 9600)
        try:
            device = Device(LegacyClient(link, timeout_s=10))
            started = time.monotonic()
            device.load(bytes(490))
            wall = time.monotonic() - started
            result = device.infer(2, 0, timeout_s=10)
        finally:
            link.close()
    assert wall > 1.0
    assert 0.15 < result.elapsed_us / 2e6 < 0.25  # KWS modelled at ~0.19 s per inference


def test_energy_mode_banner() -> None:
    from tinyperf.sim.board.clock import SimClock
    from tinyperf.sim.board.device import SimDevice
    from tinyperf.sim.wire import PowerWireSender

    device = SimDevice("v", "ad01", lambda data: [0.0], 0.01, 64, SimClock("virtual"),
                       power_wire=PowerWireSender(Path("/nonexistent/wire")))
    assert device.boot_banner() == b"m-timestamp-mode-energy\r\nm-init-done\r\nm-ready\r\n"


def test_infer_before_any_load_runs_on_zeros_instead_of_crashing(sim_kws) -> None:
    from tinyperf.device.link import open_link
    from tinyperf.device.protocol.client import LegacyClient

    with open_link(sim_kws.url, 115200) as link:
        client = LegacyClient(link, 10.0)
        client.drain()
        reply = client.command("infer 1 0")
        assert "m-infer-done" in reply.lines
        assert sim_kws.process.poll() is None


def test_a_garbled_command_byte_is_echoed_back_not_a_crash(sim_kws) -> None:
    """A corrupted link can deliver any byte: the board answers it as unknown (echoing the byte, as
    firmware's printf does) and keeps serving."""
    from tinyperf.deadline import Deadline
    from tinyperf.device.link import open_link

    with open_link(sim_kws.url, 115200) as link:
        link.write(b"na\xffme%")
        got = b""
        deadline = Deadline(5.0)
        while not got.endswith(b"m-ready\r\n") and not deadline.expired():
            got += link.read_some(deadline)
        assert got == b"e-[Unknown command: na\xffme]\r\nm-ready\r\n"
        link.write(b"name%")
        got = b""
        deadline = Deadline(5.0)
        while not got.endswith(b"m-ready\r\n") and not deadline.expired():
            got += link.read_some(deadline)
        assert got.startswith(b"m-name-dut-[")
