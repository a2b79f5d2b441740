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
from collections import deque

from tinyperf.deadline import Deadline
from tinyperf.device.link.base import Link
from tinyperf.device.protocol.legacy import LineSplitter
from tinyperf.errors import MonitorError
from tinyperf.power.profiles import InstrumentProfile
from tinyperf.power.streaming import STALL_TIMEOUT_S, StreamingMonitor
from tinyperf.power.trace import Trace

PROMPT = "PowerShield > "
TOKEN = re.compile(r"^(\d{4})([+-])(\d{2})$")
EVENT = re.compile(r"^event (\d+) (ris|fal)$")
TIMESTAMP = re.compile(r"^TimeStamp: (\d+)s (\d+)ms, buff (\d+)%$")
RATE_WORDS = {100_000: "100k", 50_000: "50k", 20_000: "20k", 10_000: "10k", 5_000: "5k", 2_000: "2k", 1_000: "1k"}
REPLY_TIMEOUT_S = 2.0


def parse_token(text: str) -> float | None:
    match = TOKEN.match(text)
    if not match:
        return None
    mantissa, sign, exponent = match.groups()
    return int(mantissa) * 10.0 ** (int(exponent) if sign == "+" else -int(exponent))


class Lpm01a(StreamingMonitor):
    """A reader thread drains the port all the time (a PowerShield at 5 kHz sends ~45 kB/s)."""

    edge_hint = "is D7 wired to the DUT?"

    def __init__(self, link: Link, profile: InstrumentProfile, reply_timeout_s: float = REPLY_TIMEOUT_S,
                 stall_timeout_s: float = STALL_TIMEOUT_S) -> None:
        super().__init__(profile, stall_timeout_s)
        self.name = f"LPM01A at {link.url}"
        self.link = link
        self.reply_timeout_s = reply_timeout_s
        self.splitter = LineSplitter(source=f"LPM01A at {link.url}")
        self.messages: deque[str] = deque()
        self.acquiring = False
        self._refused = ""
        self._start_reader(self._read_lines)

    def _read_lines(self) -> bool:
        data = self.link.read_some(Deadline(0.1))
        if not data:
            return False
        with self._changed:
            for line in self.splitter.feed(data):
                self._dispatch(line.strip())
        return True

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
            self.trace.add_edges([self.trace.samples - 1], self.name)
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
        self.profile.check_setup(voltage_v, rate_hz)
        if rate_hz > self.profile.continuous_max_hz:
            raise MonitorError(f"{rate_hz} Hz cannot stream continuously in ascii_dec with energy output "
                               f"(at most {self.profile.continuous_max_hz} Hz)")
        self.rate_hz = rate_hz
        for command in ("htc", "pwr off", "acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal",
                        "output energy", "format ascii_dec", f"freq {RATE_WORDS.get(rate_hz, str(rate_hz))}",
                        f"volt {round(voltage_v * 1000)}m"):
            self.command(command)

    def identify(self) -> dict[str, str]:
        """Board presence, firmware version and status, as `tinyperf monitor probe` shows them."""
        self.command("htc")
        facts = {query: self.command(query) for query in ("powershield", "version", "status")}
        self.command("hrc")
        return facts

    def power_on(self) -> None:
        self.command("pwr on nostatus")

    def start(self) -> Trace:
        self._new_trace(1.0 / self.rate_hz)
        self.command("start")
        self.acquiring = True
        return self.trace

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
        self._stop_reader()
        self.link.close()
