"""Our C firmware's side of the tinyperf extension (firmware/core/extension.c), built for real and
driven over real links: the posix build on a pty, the Cortex-M build in QEMU. Frames are made and
read with the host codec, replies are compared with the simulated board's for the same commands, and
results with the test engine's CRC formula."""

from __future__ import annotations

import json
import os
import select
import struct
import termios
import time
import tty
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import model_path, run_cli
from tests.firmware.test_firmware import _build, _need, crc_engine_results
from tinyperf.deadline import Deadline
from tinyperf.device.boards import get_board
from tinyperf.device.connection import Connection, ConnectionSettings
from tinyperf.device.dut import Device
from tinyperf.device.emulate import start_emulated_board
from tinyperf.device.link import open_link
from tinyperf.device.link.base import Link
from tinyperf.device.protocol.extended import ExtendedClient
from tinyperf.device.protocol.frames import (
    KIND_ACCEPTED,
    KIND_COMMAND,
    KIND_DATA,
    KIND_NAK,
    KIND_REPLY,
    Frame,
    StreamDemux,
    data_body,
    encode_frame,
)
from tinyperf.errors import DeviceError
from tinyperf.sim.board.extension import ExtendedDevice
from tinyperf.sim.board.server import build_device
from tinyperf.suite.smoke.store import smoke_dataset, smoke_subset

PORT_BAUDS = (115200, 230400, 460800, 921600, 2000000)  # what the posix and QEMU ports offer
AD_FILE = 102400  # bytes of one ad01 file: 196 windows of 2560 bytes, 512 apart


@pytest.fixture(scope="module")
def posix_kws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need("cmake", "gcc")
    return _build(tmp_path_factory.mktemp("kws"), "posix-host", "kws01", engine="test")


@pytest.fixture(scope="module")
def posix_ad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need("cmake", "gcc")
    return _build(tmp_path_factory.mktemp("ad"), "posix-host", "ad01", engine="test")


def _device(firmware: Path, board: str = "posix-host") -> Iterator[tuple[Device, Link]]:
    with start_emulated_board(get_board(board), firmware) as running, open_link(running.url, 115200) as link:
        yield Connection(link, ConnectionSettings(115200)).open(), link


@pytest.fixture
def kws_device(posix_kws: Path) -> Iterator[tuple[Device, Link]]:
    yield from _device(posix_kws)


@pytest.fixture
def ad_device(posix_ad: Path) -> Iterator[tuple[Device, Link]]:
    yield from _device(posix_ad)


def _frames(link: Link, demux: StreamDemux, done: Callable[[list[Frame]], bool], limit_s: float = 10.0) -> list[Frame]:
    got: list[Frame] = []
    deadline = Deadline(limit_s)
    while not done(got) and not deadline.expired():
        got += [p for p in demux.feed(link.read_some(deadline)) if isinstance(p, Frame)]
    return got


def _has(kind: int, count: int = 1) -> Callable[[list[Frame]], bool]:
    return lambda got: sum(f.kind == kind for f in got) >= count


def _results_line(data: bytes, count: int) -> str:
    return crc_engine_results(data, count).decode()


def _float_bits(line: str) -> float:
    """`m-results-f32-[3e700000]` -> the float32 those bits are (one value)."""
    return struct.unpack(">f", bytes.fromhex(line[len("m-results-f32-["):-1]))[0]


# ---- negotiation and replies ---------------------------------------------------------------------


def test_firmware_offers_the_extension_in_text_byte_for_byte(posix_kws: Path) -> None:
    with start_emulated_board(get_board("posix-host"), posix_kws) as running, open_link(running.url, 115200) as link:
        link.write(b"tp-caps%")
        got = b""
        deadline = Deadline(5.0)
        while not got.endswith(b"m-ready\r\n") and not deadline.expired():
            got += link.read_some(deadline)
    assert got == (b"m-tp-caps-[v=1 frame=1024 buffers=2 buffer-bytes=490 features=crc,seq,slide,stream,exact "
                   b"bauds=115200,230400,460800,921600,2000000 engine=test arena=0/0 model=aeea436800704fce]\r\n"
                   b"m-ready\r\n")  # model=: the first 16 hex digits of the official kws01 model's sha256


def test_pipelined_results_equal_the_crc_engine_formula(kws_device: tuple[Device, Link]) -> None:
    device, _ = kws_device
    assert device.protocol == "extended" and device.extended is not None
    inputs = [os.urandom(490) for _ in range(6)]
    tickets = []
    for i, data in enumerate(inputs):  # each input goes in while the one before it is (queued to be) inferred
        tickets.append(device.start_results_only(device.stage(i % 2, data), 5.0))
        if i >= 1:
            values = device.finish_results_only(tickets[i - 1])
            assert f"m-results-[{','.join(f'{v:.3f}' for v in values)}]" == _results_line(inputs[i - 1], 12)
    device.finish_results_only(tickets[-1])
    device.load(inputs[0])
    assert device.infer(3, 1, 5.0).values == device.infer(1, 0, 5.0).values  # the legacy path, over frames


@pytest.mark.parametrize("command", [
    "tp-infer", "tp-infer 5 10 00000000 1 0", "tp-infer 0 10 zz 1 0", "tp-infer 0 0 00000000",
    "tp-infer 0 100 00000000 1 0", "tp-infer 1 131072 00000000 1 0", "tp-infer 0 131073 0 1 0",
    "tp-slide 0 100 00000000", "tp-slide 0 100 00000000 2560 512", "tp-slide 0 3000 00000000 2560 0",
    "tp-slide 0 3000 00000000 2560 512", "tp-baud 1234", "tp-baud 2000000", "bogus",
])
def test_firmware_answers_bad_and_good_commands_as_the_simulated_board_does(
        ad_device: tuple[Device, Link], command: str) -> None:
    """Same error lines, same wording: a host cannot tell our firmware from the sim board by its replies."""
    _, link = ad_device
    sim = ExtendedDevice(build_device(get_board("sim-nucleo-l4r5zi"), "ad01", model_path("ad01"), "virtual"),
                         131072, PORT_BAUDS)
    demux = StreamDemux(b"\n")
    link.write(encode_frame(KIND_COMMAND, 9, command.encode()))
    reply = [f for f in _frames(link, demux, _has(KIND_REPLY)) if f.kind == KIND_REPLY]
    assert reply and reply[0].body == sim.handle_text(command, framed=True)


def test_data_frames_that_do_not_fit_are_refused_in_the_sims_words(ad_device: tuple[Device, Link]) -> None:
    _, link = ad_device
    sim = ExtendedDevice(build_device(get_board("sim-nucleo-l4r5zi"), "ad01", model_path("ad01"), "virtual"),
                         131072, PORT_BAUDS)
    demux = StreamDemux(b"\n")
    for seq, body in enumerate([data_body(2, 0, b"x"), data_body(0, 131000, bytes(100)), b"\x00\x01"], start=1):
        link.write(encode_frame(KIND_DATA, seq, body))
        (answer,) = [f for f in _frames(link, demux, _has(KIND_REPLY)) if f.kind == KIND_REPLY]
        assert encode_frame(KIND_REPLY, seq, answer.body) == sim.on_data(Frame(KIND_DATA, seq, body))
    # longer than any frame it takes (the sim keeps up to 4 KiB): dropped as broken, like a garbled one
    link.write(encode_frame(KIND_DATA, 9, data_body(0, 0, bytes(1025))))
    assert [f.kind for f in _frames(link, demux, _has(KIND_NAK))] == [KIND_NAK]


def test_repeated_command_frame_is_answered_from_cache_and_broken_frames_get_a_nak(
        kws_device: tuple[Device, Link]) -> None:
    device, link = kws_device
    data = bytes(range(256)) + bytes(234)
    device.stage(1, data)
    command = f"tp-infer 1 490 {zlib.crc32(data):08x} 3 0".encode()
    demux = StreamDemux(b"\n")
    answers = []
    for _ in range(2):  # the same seq twice, as after a lost reply
        link.write(encode_frame(KIND_COMMAND, 77, command))
        got = _frames(link, demux, _has(KIND_REPLY))
        assert [f.kind for f in got] == [KIND_ACCEPTED, KIND_REPLY]
        answers.append(got[1].body)
    assert answers[0] == answers[1] and b"m-infer-start-3" in answers[0]  # same m-lap-us: not run again
    spoiled = bytearray(encode_frame(KIND_COMMAND, 78, b"name"))
    spoiled[5] ^= 0x40
    link.write(bytes(spoiled))
    (nak,) = _frames(link, demux, _has(KIND_NAK))
    assert nak.seq == 0xFFFF and nak.body == b""
    link.write(b"\x00\x00\x00" + encode_frame(KIND_COMMAND, 79, b"name"))  # empty frames are resync points
    reply = [f for f in _frames(link, demux, _has(KIND_REPLY)) if f.kind == KIND_REPLY]
    assert reply[0].seq == 79 and reply[0].body == b"m-name-dut-[tinyperf-posix-host]\r\nm-ready\r\n"


def test_frames_out_of_order_are_stored_and_a_streaming_slide_waits_for_the_gap(ad_device: tuple[Device, Link]) -> None:
    """A lost frame's resend comes after later ones: they are kept, and window i runs only once every
    byte of it is in, so the results are those of the whole, ordered input."""
    _, link = ad_device
    data = os.urandom(3072)
    demux = StreamDemux(b"\n")
    link.write(encode_frame(KIND_COMMAND, 1, f"tp-slide 0 3072 {zlib.crc32(data):08x} 2560 512 stream".encode()))
    for seq, offset in ((2, 2048), (3, 0), (4, 1024)):  # the frame at 1024 "lost", then resent last
        link.write(encode_frame(KIND_DATA, seq, data_body(0, offset, data[offset : offset + 1024])))
    got = _frames(link, demux, lambda frames: any(f.kind == KIND_REPLY and f.seq == 1 for f in frames))
    assert sorted(f.seq for f in got if f.kind == KIND_REPLY and not f.body) == [2, 3, 4]
    (reply,) = [f.body.decode() for f in got if f.kind == KIND_REPLY and f.seq == 1]
    lines = reply.split("\r\n")
    assert [line for line in lines if not line.startswith("m-results-f32-")] == [
        _results_line(data[:2560], 1), _results_line(data[512:3072], 1), "m-tp-slide-done-2", "m-ready", ""]
    exact = [_float_bits(line) for line in lines if line.startswith("m-results-f32-")]
    assert [f"m-results-[{v:.3f}]" for v in exact] == [lines[0], lines[2]]  # each exact value under its print


# ---- device-side windows ---------------------------------------------------------------------------


def test_streaming_slide_matches_the_slide_after_download_and_legacy_windows(ad_device: tuple[Device, Link]) -> None:
    device, _ = ad_device
    data = os.urandom(AD_FILE)
    streamed = device.finish_slide(device.stream_slide(0, data, 2560, 512, 30.0), 196)
    after = device.finish_slide(device.start_slide(device.stage(1, data), 2560, 512, 30.0), 196)
    assert streamed == after
    for i in (0, 1, 195):
        window = data[i * 512 : i * 512 + 2560]
        assert f"m-results-[{streamed[i][0]:.3f}]" == _results_line(window, 1)


def test_streaming_slide_over_bytes_that_are_not_the_hosts_reports_only_the_crc_error(
        ad_device: tuple[Device, Link]) -> None:
    device, _ = ad_device
    assert device.extended is not None
    client: ExtendedClient = device.extended
    data = os.urandom(8192)
    ticket = client.start(f"tp-slide 0 8192 {zlib.crc32(data) ^ 1:08x} 2560 512 stream", 10.0)
    client.write_buffer(0, data)
    with pytest.raises(DeviceError, match=r"^device rejected .*e-\[tp-slide: buffer 0 CRC [0-9a-f]{8}, expected"):
        client.finish(ticket)


# ---- whole runs, as a user types them ------------------------------------------------------------


def _accuracy(tmp_path: Path, board: str, benchmark: str, dataset: Path, name: str, *extra: str) -> dict:
    ran = run_cli("run", "--board", board, "--benchmark", benchmark, "--mode", "accuracy", "--dataset",
                  str(dataset), "--sessions-dir", str(tmp_path / name), *extra, cwd=tmp_path, timeout=600)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (session,) = (tmp_path / name).iterdir()
    return json.loads((session / "results.json").read_text())


def _built(tmp_path: Path, board: str, benchmark: str) -> None:
    built = run_cli("build", "--board", board, "--benchmark", benchmark, cwd=tmp_path)
    assert built.returncode == 0, built.stderr


def test_ad01_accuracy_on_our_firmware_is_identical_over_extension_legacy_and_a_faulty_link(tmp_path: Path) -> None:
    _need("cmake", "gcc")
    rows = (smoke_dataset("ad01") / "y_labels.csv").read_text().splitlines()
    picked = [next(r for r in rows if r.split(",")[2] == label).split(",")[0] for label in "01"]
    dataset = smoke_subset("ad01", picked, tmp_path / "ds")
    _built(tmp_path, "posix-host", "ad01")
    extended = _accuracy(tmp_path, "posix-host", "ad01", dataset, "ext")
    legacy = _accuracy(tmp_path, "posix-host", "ad01", dataset, "legacy", "--protocol", "legacy")
    faulty = _accuracy(tmp_path, "posix-host", "ad01", dataset, "faulty", "--inject-faults",
                       "corrupt=0.02,drop=0.01,duplicate=0.01,seed=5")
    assert extended["link"]["protocol"] == "extended" and legacy["link"]["protocol"] == "legacy"
    exact = [s["score"] for s in extended["samples"]]
    assert exact == [s["score"] for s in faulty["samples"]]  # a faulty link changes nothing
    # legacy scores the 3-decimal prints of the same windows; the extension their exact float32 values
    assert all(abs(e - p) <= 0.0005 + 1e-9 for e, p in zip(exact, [s["score"] for s in legacy["samples"]],
                                                            strict=True))
    assert sum(faulty["link"]["faults_injected"].values()) > 0 and faulty["valid"] is True


def test_qemu_firmware_streams_a_slide_and_runs_kws01_accuracy_over_the_extension(tmp_path: Path) -> None:
    _need("cmake", "arm-none-eabi-gcc", "qemu-system-arm")
    elf = _build(tmp_path / "ad-build", "qemu-mps2-an386", "ad01", engine="test")
    data = os.urandom(16384)
    for device, _ in _device(elf, "qemu-mps2-an386"):
        assert device.protocol == "extended"
        streamed = device.finish_slide(device.stream_slide(0, data, 2560, 512, 60.0), 28)
        assert [f"m-results-[{v[0]:.3f}]" for v in streamed[:3]] == [
            _results_line(data[i * 512 : i * 512 + 2560], 1) for i in range(3)]
    dataset = smoke_subset("kws01", 12, tmp_path / "ds")
    _built(tmp_path, "qemu-mps2-an386", "kws01")
    extended = _accuracy(tmp_path, "qemu-mps2-an386", "kws01", dataset, "ext")
    legacy = _accuracy(tmp_path, "qemu-mps2-an386", "kws01", dataset, "legacy", "--protocol", "legacy")
    assert extended["link"]["protocol"] == "extended"
    for ext, leg in zip(extended["samples"], legacy["samples"], strict=True):  # exact against printed
        assert all(abs(e - p) <= 0.0005 + 1e-9 for e, p in zip(ext["values"], leg["values"], strict=True))



def _line_speed(fd: int) -> int:
    return termios.tcgetattr(fd)[5]  # ospeed


def _read_until(fd: int, end: bytes, limit_s: float = 5.0) -> bytes:
    got = b""
    deadline = time.monotonic() + limit_s
    while end not in got and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            got += os.read(fd, 4096)
    return got


def test_baud_switch_falls_back_after_a_second_without_a_frame_and_stays_after_one(posix_kws: Path) -> None:
    """The posix port sets the pty's line speed, which the host's end shares, as a board moves its UART.
    A raw fd, not pyserial: pyserial re-applies its own rate whenever it changes a timeout."""
    with start_emulated_board(get_board("posix-host"), posix_kws) as running:
        fd = os.open(running.url, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            os.write(fd, b"tp-baud 921600%")
            # the boot banner may still arrive first (its own m-ready) on a loaded machine: read up to the reply
            reply = b"m-tp-baud-[921600]\r\nm-ready\r\n"
            assert _read_until(fd, reply).endswith(reply)
            time.sleep(0.3)
            assert _line_speed(fd) == termios.B921600
            time.sleep(1.2)  # no frame at the new rate: the device goes back
            assert _line_speed(fd) == termios.B115200
            os.write(fd, b"tp-baud 921600%")
            _read_until(fd, b"m-ready\r\n")
            os.write(fd, encode_frame(KIND_COMMAND, 1, b"tp-caps"))  # a valid frame at the new rate confirms it
            assert b"m-tp-caps-" in _read_until(fd, b"m-ready\r\n")
            time.sleep(1.2)
            assert _line_speed(fd) == termios.B921600
        finally:
            os.close(fd)
