"""The LPM01A driver against a scripted PowerShield on a real pseudo-terminal: the normal setup,
and every fault the issue names (malformed token, missing ack, error reply, stream stopping), each a
clear MonitorError with the samples received before it kept in the trace."""

from __future__ import annotations

import os
import threading
import tty
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyperf.device.link import open_link
from tinyperf.errors import MonitorError
from tinyperf.power.lpm01a import Lpm01a, parse_token
from tinyperf.power.profiles import instrument_profile
from tinyperf.sim.instruments.lpm01a import format_token

pytestmark = pytest.mark.no_models  # runs without the official models

ACK = "PowerShield > ack {}\r\n"


class ScriptedPowerShield:
    """Answers each CR LF command line with whatever `answer(line)` returns; records what it got."""

    def __init__(self, answer: Callable[[str], bytes]) -> None:
        self.answer = answer
        self.received: list[str] = []
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        buffer = b""
        while not self._stop:
            try:
                buffer += os.read(self.master, 4096)
            except OSError:
                return
            while b"\r\n" in buffer:
                line, buffer = buffer.split(b"\r\n", 1)
                self.received.append(line.decode())
                reply = self.answer(line.decode())
                if reply:
                    os.write(self.master, reply)

    def push(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        self._stop = True
        os.close(self._slave)
        os.close(self.master)


def ack_everything(line: str) -> bytes:
    if line == "stop":
        return (ACK.format(line) + "PowerShield > Acquisition completed\r\n").encode()
    return ACK.format(line).encode()


@pytest.fixture
def driver_for():
    made: list[tuple[ScriptedPowerShield, Lpm01a]] = []

    def make(answer: Callable[[str], bytes] = ack_everything, stall_s: float = 1.0) -> tuple:
        peer = ScriptedPowerShield(answer)
        driver = Lpm01a(open_link(peer.path, 3686400), instrument_profile("lpm01a"), reply_timeout_s=1.0,
                        stall_timeout_s=stall_s)
        made.append((peer, driver))
        return peer, driver

    yield make
    for peer, driver in made:
        driver.close()
        peer.close()


def test_mlperf_setup_sequence(driver_for) -> None:
    peer, driver = driver_for()
    driver.configure(1.8, 1000)
    driver.power_on()
    assert peer.received == ["htc", "pwr off", "acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal",
                             "output energy", "format ascii_dec", "freq 1k", "volt 1800m", "pwr on nostatus"]


def test_stream_samples_events_and_timestamps(driver_for) -> None:
    peer, driver = driver_for()
    driver.configure(1.8, 10)
    trace = driver.start()
    tokens = [format_token(1e-6 * (i + 1)) for i in range(30)]
    stream = [*tokens[:4], "event 1 ris", *tokens[4:10], "TimeStamp: 001s 000ms, buff 00%", *tokens[10:15],
              "event 2 ris", *tokens[15:20], "TimeStamp: 002s 000ms, buff 00%", *tokens[20:]]
    peer.push(("\r\n".join(stream) + "\r\n").encode())
    assert driver.wait_for_edges(2, 5.0) == [3, 14]
    assert trace.samples == 30 and trace.gaps == []
    assert trace.energies_j[0] == pytest.approx(1e-6) and trace.energies_j[29] == pytest.approx(3e-5)


def test_dropped_samples_are_reported_not_hidden(driver_for) -> None:
    peer, driver = driver_for()
    driver.configure(1.8, 10)
    trace = driver.start()
    peer.push(("\r\n".join([format_token(1e-6)] * 9 + ["TimeStamp: 001s 000ms, buff 90%"]) + "\r\n").encode())
    with pytest.raises(MonitorError):
        driver.wait_for_edges(1, 0.5)
    assert trace.gaps and "9 samples received, 10 expected" in trace.gaps[0]


def test_malformed_token_is_named_and_earlier_samples_kept(driver_for) -> None:
    peer, driver = driver_for()
    driver.configure(1.8, 1000)
    trace = driver.start()
    peer.push(b"6409-07\r\n6410-07\r\n64x0-07\r\n6411-07\r\n")
    with pytest.raises(MonitorError, match=r"malformed line after sample 2: '64x0-07'"):
        driver.wait_for_edges(2, 5.0)
    assert trace.energies_j == pytest.approx([6.409e-4, 6.41e-4])


def test_missing_ack_times_out_with_advice(driver_for) -> None:
    _, driver = driver_for(lambda line: b"" if line == "freq 1k" else ack_everything(line))
    with pytest.raises(MonitorError, match=r"did not acknowledge 'freq 1k' within 1 s.*0483:5740"):
        driver.configure(1.8, 1000)


def test_error_reply_carries_the_detail(driver_for) -> None:
    def refuse_volt(line: str) -> bytes:
        if line.startswith("volt"):
            return f"PowerShield > error {line}\r\nPowerShield > Error detail: voltage out of range\r\n".encode()
        return ack_everything(line)

    _, driver = driver_for(refuse_volt)
    with pytest.raises(MonitorError, match=r"refused 'volt 1800m': voltage out of range"):
        driver.configure(1.8, 1000)


def test_stream_that_stops_is_an_error_not_a_hang(driver_for) -> None:
    peer, driver = driver_for(stall_s=0.5)
    driver.configure(1.8, 1000)
    trace = driver.start()
    peer.push(b"6409-07\r\nevent 1 ris\r\n6409-07\r\n")
    with pytest.raises(MonitorError, match=r"stopped streaming after 2 samples \(nothing for 0.5 s\)"):
        driver.wait_for_edges(2, 30.0)
    assert trace.samples == 2 and trace.edges == [0]


def test_rates_beyond_continuous_ascii_are_refused_before_sending(driver_for) -> None:
    peer, driver = driver_for()
    # the list of rates offered is the list of rates that work: 10000 is refused and not offered
    usable = r"choose one of \[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000\]$"
    with pytest.raises(MonitorError, match=r"^10000 Hz is too fast to stream continuously \(a run needs that\) for "
                       r"the ST X-NUCLEO-LPM01A \(PowerShield\); " + usable):
        driver.configure(1.8, 10000)
    with pytest.raises(MonitorError, match=r"^3000 Hz is not one of its rates for the ST X-NUCLEO-LPM01A "
                       r"\(PowerShield\); " + usable):
        driver.configure(1.8, 3000)
    assert peer.received == []


@given(st.floats(min_value=1e-12, max_value=1e3, allow_nan=False))
def test_token_format_round_trips_to_four_digits(value: float) -> None:
    token = format_token(value)
    assert parse_token(token) == pytest.approx(value, rel=6e-4)
