"""The host codec against the recorded byte-exact session with real TFLM reference firmware."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import transcript
from tinyperf.deadline import Deadline
from tinyperf.device.dut import Device
from tinyperf.device.link.base import Link
from tinyperf.device.protocol.client import LegacyClient
from tinyperf.device.protocol.legacy import (
    BufferBytes,
    Expecting,
    LapUs,
    LineSplitter,
    LoadDone,
    Name,
    Results,
    encode_command,
    load_commands,
    parse_line,
)
from tinyperf.errors import DeviceError, ProtocolError

pytestmark = pytest.mark.no_models  # runs without the official models


class TranscriptLink(Link):
    """Plays the device side of a recorded transcript; every host write must equal the recorded tx."""

    url = "transcript://kws01"

    def __init__(self, steps: list[tuple[str, str]]) -> None:
        self.steps = [s for s in steps if not (s[0] == "rx" and s[1] == "")]
        self.pending = b""

    def write(self, data: bytes) -> None:
        direction, text = self.steps.pop(0)
        assert direction == "tx"
        assert data == text.encode("ascii"), f"host sent {data!r}, firmware session had {text!r}"
        direction, reply = self.steps.pop(0)
        assert direction == "rx"
        self.pending += reply.encode("ascii")

    def read_some(self, deadline: Deadline) -> bytes:
        data, self.pending = self.pending[:7], self.pending[7:]  # odd chunks: lines split mid-way
        return data

    def close(self) -> None:
        pass


def _tx_commands() -> list[str]:
    return [text for d, text in transcript() if d == "tx"]


def test_every_transcript_reply_line_parses() -> None:
    for direction, text in transcript():
        if direction == "rx":
            for line in LineSplitter().feed(text.encode("ascii")):
                parse_line(line)


def test_load_commands_match_reference_chunks() -> None:
    tx = _tx_commands()
    start = tx.index("db load 490%")
    chunks = [t[:-1] for t in tx[start + 1 : start + 17]]
    data = bytes.fromhex("".join(c[3:] for c in chunks))
    assert len(data) == 490
    assert [encode_command(c).decode() for c in load_commands(data)] == tx[start : start + 17]


def test_device_drives_recorded_session_byte_exact() -> None:
    steps = transcript()
    tx = _tx_commands()
    start = tx.index("db load 490%")
    data = bytes.fromhex("".join(t[3:-1] for t in tx[start + 1 : start + 17]))
    client = LegacyClient(TranscriptLink(steps), timeout_s=1.0)
    device = Device(client)
    identity = device.identify()
    assert (identity.name, identity.model) == ("qemu-mps2-an386-tflm", "kws01")
    assert identity.profile == "ULPMark for tinyML Firmware V0.0.1"
    help_reply = client.command("help")
    assert help_reply.lines[0] == "ULPMark for tinyML Firmware V0.0.1"
    assert device.timestamp() == 100002
    with pytest.raises(DeviceError, match=r"'foo'.*e-\[Unknown command: foo\]"):
        client.command("foo")
    for bad, message in [("db", "requires a subcommand"), ("db load", "requires the # of bytes"),
                         ("db load 0", "must be >0 bytes")]:
        with pytest.raises(DeviceError, match=message):
            client.command(bad)
    device.load(data)
    printed = b"".join(e.data for e in client.command("db print 16 0").of_type(BufferBytes))
    assert printed == data
    with pytest.raises(DeviceError, match="Invalid hex digit 'zz'"):
        client.command("db zz")
    with pytest.raises(DeviceError, match="Insufficent number of hex digits"):
        client.command("db 1")
    single = device.infer(1, 0, timeout_s=1.0)
    assert (single.start_us, single.end_us, single.elapsed_us) == (125005, 132704, 7699)
    assert single.values[1] == pytest.approx(0.070) and single.values[11] == pytest.approx(0.930)
    assert device.results() == single.values
    with pytest.raises(DeviceError, match="iterations must be >0"):
        device.infer(0, 0, timeout_s=1.0)
    with pytest.raises(DeviceError, match="warmup must be >=0"):
        device.infer(3, -1, timeout_s=1.0)
    ten = device.infer(10, 2, timeout_s=1.0)
    assert ten.elapsed_us == 229018 - 152031


def test_typed_events() -> None:
    assert parse_line("m-lap-us-4294967295") == LapUs(4294967295)
    assert parse_line("m-[Expecting 490 bytes]") == Expecting(490)
    assert parse_line("m-load-done") == LoadDone()
    assert parse_line("m-name-dut-[x y]") == Name("x y")
    assert parse_line("m-results-[1.5,2,]") == Results((1.5, 2.0))
    assert parse_line("m-results-[12.345]") == Results((12.345,))


@pytest.mark.parametrize("line", ["m-lap-us-12a", "m-results-[0.1,abc]", "m-name-dut-noBrackets", "m-buffer-zz"])
def test_malformed_known_lines_raise_naming_the_line(line: str) -> None:
    with pytest.raises(ProtocolError, match=line.replace("[", r"\[")):
        parse_line(line)


def test_commands_never_exceed_80_chars_or_carry_terminators() -> None:
    with pytest.raises(ValueError, match="80"):
        encode_command("x" * 80)
    with pytest.raises(ValueError, match="CR or LF"):
        encode_command("name\r\n")


@given(st.binary(min_size=1, max_size=3000), st.integers(min_value=1, max_value=38))
def test_load_commands_round_trip_within_80_chars(data: bytes, chunk: int) -> None:
    commands = load_commands(data, chunk)
    assert commands[0] == f"db load {len(data)}"
    assert all(len(encode_command(c)) <= 80 for c in commands)
    assert bytes.fromhex("".join(c[3:] for c in commands[1:])) == data


@given(st.lists(st.text(alphabet="abcm-[]0123456789 ", max_size=30), max_size=20), st.data())
def test_line_splitter_is_independent_of_chunking(lines: list[str], data: st.DataObject) -> None:
    stream = "".join(f"{line}\r\n" for line in lines).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    splitter = LineSplitter()
    got = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        got += splitter.feed(stream[a:b])
    assert got == lines


class ScriptedLink(Link):
    """Answers each write with a fixed reply (for cases no transcript covers)."""

    url = "scripted://"

    def __init__(self, replies: list[bytes]) -> None:
        self.replies = replies
        self.pending = b""

    def write(self, data: bytes) -> None:
        self.pending += self.replies.pop(0)

    def read_some(self, deadline: Deadline) -> bytes:
        data, self.pending = self.pending, b""
        return data

    def close(self) -> None:
        pass


def test_boot_banner_ahead_of_a_reply_is_not_taken_for_it() -> None:
    banner = b"m-timestamp-mode-performance\r\nm-lap-us-12\r\nm-init-done\r\nm-ready\r\n"
    client = LegacyClient(ScriptedLink([banner + b"m-name-dut-[x]\r\nm-ready\r\n"]))
    assert client.command("name").lines == ("m-name-dut-[x]",)
    assert client.unsolicited[0] == "m-timestamp-mode-performance"


def test_silent_device_times_out_with_the_command_and_the_tail() -> None:
    from tinyperf.errors import DeviceTimeout

    client = LegacyClient(ScriptedLink([b"m-name-du"]), timeout_s=0.2)
    with pytest.raises(DeviceTimeout, match=r"'name%' within 0.2 s.*m-name-du"):
        client.command("name")


def test_a_device_that_talks_until_the_deadline_is_reported_as_talking() -> None:
    """At the deadline a read returns nothing even from a device that talked all along: the error must
    still say it kept sending, and quote what it said (a CI run once reported such a device as silent)."""
    from tinyperf.device.protocol.client import LegacyClient
    from tinyperf.errors import DeviceTimeout

    class Chatter:
        def __init__(self) -> None:
            self.reads = 0

        def write(self, data: bytes) -> None:
            pass

        def read_some(self, deadline) -> bytes:  # type: ignore[no-untyped-def]
            self.reads += 1
            if self.reads <= 3:
                return f"m-chatter-{self.reads}\r\n".encode()
            while not deadline.expired():
                time.sleep(0.01)
            return b""  # the deadline passed between two lines

    with pytest.raises(DeviceTimeout, match=r"last bytes received: .*m-chatter-3\\r\\n.*kept sending without ever "
                       r"ending its reply"):
        LegacyClient(Chatter(), timeout_s=0.2).command("name")  # type: ignore[arg-type]
