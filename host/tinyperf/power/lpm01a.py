"""Driver for the ST X-NUCLEO-LPM01A (PowerShield) over its serial protocol (UM2269).

Commands are ASCII lines ended by CR LF, each answered "PowerShield > ack <cmd> [value]" or
"PowerShield > error <cmd>" plus "Error detail: ...". During an acquisition the same port streams
one ascii_dec token per sample (with `output energy`: joules over one sample period), a
"TimeStamp: SSSs MMMms, buff NN%" line each second, and "event N ris" after the sample during which
a D7 edge fell. Every wait is bounded: a missing ack, a malformed line or a silent stream raises
MonitorError with what was expected, while the samples already received stay in `trace`.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable

from tinyperf.deadline import Deadline
from tinyperf.errors import MonitorError
from tinyperf.link.base import Link
from tinyperf.power.energy import LEVEL_SAMPLES
from tinyperf.power.profiles import InstrumentProfile
from tinyperf.power.trace import Trace
from tinyperf.protocol.legacy import LineSplitter

PROMPT = "PowerShield > "
TOKEN = re.compile(r"^(\d{4})([+-])(\d{2})$")
EVENT = re.compile(r"^event (\d+) (ris|fal)$")
TIMESTAMP = re.compile(r"^TimeStamp: (\d+)s (\d+)ms, buff (\d+)%$")
RATE_WORDS = {100_000: "100k", 50_000: "50k", 20_000: "20k", 10_000: "10k", 5_000: "5k", 2_000: "2k", 1_000: "1k"}
REPLY_TIMEOUT_S = 2.0
STALL_TIMEOUT_S = 3.0


def parse_token(text: str) -> float | None:
    match = TOKEN.match(text)
    if not match:
        return None
    mantissa, sign, exponent = match.groups()
    return int(mantissa) * 10.0 ** (int(exponent) if sign == "+" else -int(exponent))


class Lpm01a:
    """A reader thread drains the port all the time (the DUT's `infer` keeps the main thread busy for
    10 s and more, and a PowerShield at 5 kHz sends ~45 kB/s), so no sample is dropped for lack of reading."""

    def __init__(self, link: Link, profile: InstrumentProfile, reply_timeout_s: float = REPLY_TIMEOUT_S,
                 stall_timeout_s: float = STALL_TIMEOUT_S) -> None:
        self.link = link
        self.profile = profile
        self.reply_timeout_s = reply_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.splitter = LineSplitter()
        self.messages: deque[str] = deque()
        self.trace: Trace | None = None
        self.rate_hz = profile.default_rate_hz
        self.acquiring = False
        self._changed = threading.Condition()
        self._failure: MonitorError | None = None
        self._refused = ""
        self._last_data = time.monotonic()
        self._closing = False
        self._reader = threading.Thread(target=self._read_forever, name="lpm01a-reader", daemon=True)
        self._reader.start()

    # ---- lines (reader thread) ----------------------------------------------------------------
    def _read_forever(self) -> None:
        try:
            while not self._closing:
                data = self.link.read_some(Deadline(0.1))
                if not data:
                    continue
                with self._changed:
                    self._last_data = time.monotonic()
                    for line in self.splitter.feed(data):
                        self._dispatch(line.strip())
                    self._changed.notify_all()
        except MonitorError as e:
            failure = e
        except Exception as e:  # a port that vanished (unplugged monitor) ends up here
            failure = MonitorError(f"reading the LPM01A at {self.link.url} failed: {e}")
        else:
            return
        with self._changed:
            self._failure = failure
            self._changed.notify_all()

    def _dispatch(self, line: str) -> None:
        if not line:
            return
        if line.startswith(PROMPT) or line.startswith("Error detail"):
            self.messages.append(line.removeprefix(PROMPT))
            return
        if self.trace is None:
            self.messages.append(line)  # e.g. a banner before any acquisition
            return
        value = parse_token(line)
        if value is not None:
            self.trace.append(value)
            return
        if EVENT.match(line):
            if not self.trace.samples:
                raise MonitorError(f"LPM01A reported '{line}' before its first sample")
            self.trace.edges.append(self.trace.samples - 1)
            return
        stamp = TIMESTAMP.match(line)
        if stamp:
            seconds = int(stamp.group(1)) + int(stamp.group(2)) / 1000.0
            expected = round(seconds * self.rate_hz)
            if expected != self.trace.samples:
                self.trace.gaps.append(f"{line}: {self.trace.samples} samples received, {expected} expected")
            return
        raise MonitorError(f"LPM01A sent a malformed line after sample {self.trace.samples}: {line!r} "
                           "(expected a token like 6409-07, 'event N ris' or a TimeStamp line)")

    def _wait(self, ready: Callable[[], bool], deadline: Deadline, stalled: Callable[[], MonitorError] | None,
              expired: Callable[[], MonitorError]) -> None:
        """Block until `ready()`; raise the reader's failure, a stall, or `expired()` at the deadline."""
        with self._changed:
            while not ready():
                if self._failure is not None:
                    raise self._failure
                if stalled is not None and time.monotonic() - self._last_data > self.stall_timeout_s:
                    raise stalled()
                if deadline.expired():
                    raise expired()
                self._changed.wait(min(0.1, max(deadline.remaining(), 0.001)))

    # ---- commands -----------------------------------------------------------------------------
    def command(self, command: str) -> str:
        """Send one command; return the ack's value (text after the command) or raise on error/silence."""
        reply: list[str] = []

        def answered() -> bool:
            while self.messages:
                message = self.messages.popleft()
                if message.startswith(f"ack {command}"):
                    reply.append(message[len(f"ack {command}") :].strip())
                    return True
                if message.startswith(f"error {command}"):
                    reply.append("")
                    self._refused = command
                    return True
            return False

        self._refused = ""
        self.link.write(f"{command}\r\n".encode("ascii"))
        deadline = Deadline(self.reply_timeout_s)
        self._wait(answered, deadline, None, lambda: MonitorError(
            f"LPM01A did not acknowledge '{command}' within {self.reply_timeout_s:g} s; check that "
            f"{self.link.url} is a PowerShield (USB 0483:5740, {self.profile.baud} baud, firmware >= 1.0.6)"))
        if self._refused:
            raise MonitorError(f"LPM01A refused '{command}': {self._error_detail(deadline)}")
        return reply[0]

    def _error_detail(self, deadline: Deadline) -> str:
        detail: list[str] = []

        def found() -> bool:
            while self.messages:
                message = self.messages.popleft()
                if message.startswith("Error detail"):
                    detail.append(message.split(":", 1)[1].strip())
                    return True
            return False

        try:
            self._wait(found, deadline, None, lambda: MonitorError("no detail"))
        except MonitorError:
            return "no detail given"
        return detail[0]

    def configure(self, voltage_v: float, rate_hz: int) -> None:
        """The MLPerf Tiny setup: host control, energy output, ascii_dec, D7 falling-edge events."""
        if rate_hz not in self.profile.rates_hz:
            raise MonitorError(f"{rate_hz} Hz is not an LPM01A rate; choose one of {list(self.profile.rates_hz)}")
        if rate_hz > self.profile.continuous_max_hz:
            raise MonitorError(f"{rate_hz} Hz cannot stream continuously in ascii_dec with energy output "
                               f"(at most {self.profile.continuous_max_hz} Hz)")
        limits = self.profile.voltage_v
        if not limits.min <= voltage_v <= limits.max:
            raise MonitorError(f"{voltage_v} V is outside the LPM01A's {limits.min}-{limits.max} V")
        self.rate_hz = rate_hz
        for command in ("htc", "pwr off", "acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal",
                        "output energy", "format ascii_dec", f"freq {RATE_WORDS.get(rate_hz, str(rate_hz))}",
                        f"volt {round(voltage_v * 1000)}m"):
            self.command(command)

    def identify(self) -> dict[str, str]:
        """Board presence, firmware version and status, as `tinyperf monitor probe` shows them."""
        return {query: self.command(query) for query in ("powershield", "version", "status")}

    def power_on(self) -> None:
        self.command("pwr on nostatus")

    def start(self) -> Trace:
        with self._changed:
            self.trace = Trace(1.0 / self.rate_hz)
            self._last_data = time.monotonic()
        self.command("start")
        self.acquiring = True
        return self.trace

    def wait_for_edges(self, count: int, timeout_s: float) -> list[int]:
        """Wait until `count` edges are in and enough samples follow the last one to see its step."""
        trace = self.trace
        if trace is None:
            raise MonitorError("no acquisition is running (call start first)")
        self._wait(
            lambda: len(trace.edges) >= count and trace.samples > trace.edges[count - 1] + LEVEL_SAMPLES,
            Deadline(timeout_s),
            lambda: MonitorError(f"LPM01A stopped streaming after {trace.samples} samples "
                                 f"(nothing for {self.stall_timeout_s:g} s)"),
            lambda: MonitorError(f"waited {timeout_s:g} s for {count} timestamp edges; the monitor saw "
                                 f"{len(trace.edges)} in {trace.samples} samples (is D7 wired to the DUT?)"),
        )
        return trace.edges[:count]

    def stop(self) -> None:
        """End the acquisition ("Acquisition completed"), switch the DUT off, hand control back."""
        if self.acquiring:
            self.acquiring = False
            self.command("stop")
            self._wait(lambda: any("Acquisition completed" in m for m in self.messages), Deadline(self.reply_timeout_s),
                       None, lambda: MonitorError("LPM01A did not report 'Acquisition completed' after 'stop'"))
            self.messages.clear()
        self.command("pwr off")
        self.command("hrc")

    def close(self) -> None:
        self._closing = True
        self._reader.join(timeout=2.0)
        self.link.close()
