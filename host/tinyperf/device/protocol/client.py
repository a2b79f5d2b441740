"""Sends legacy commands over a link and collects the typed events of each reply."""

from __future__ import annotations

from dataclasses import dataclass

from tinyperf.deadline import Deadline
from tinyperf.device.link.base import Link
from tinyperf.device.protocol.legacy import (
    ErrorLine,
    Event,
    InitDone,
    LineSplitter,
    LineTooLong,
    Ready,
    TimestampMode,
    encode_command,
    parse_line,
)
from tinyperf.errors import DeviceError, DeviceTimeout, ProtocolError


@dataclass(frozen=True)
class Reply:
    command: str
    lines: tuple[str, ...]
    events: tuple[Event, ...]

    def of_type(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


DUT_PREFIX = "[dut]: "
#: most bytes of device lines one reply may hold: `db print` of the largest reference buffer (27648 B as
#: 8-byte `m-buffer` lines) is ~160 kB; a device that talks on past this is broken, not busy
MAX_REPLY_BYTES = 1 << 20


TAIL_BYTES = 120  # how much of what a device said an error quotes


class LegacyClient:
    """One command at a time, each awaited up to its `m-ready` under a deadline.

    With `passthrough`, the link is an energy-mode interface board: each command goes as `dut <cmd>%`
    and only the lines it relays with the `[dut]: ` prefix are the device's reply; the board's own
    lines (`m-dut-passthrough(...)`, its `m-ready`) are kept in `interface_lines`.
    """

    def __init__(self, link: Link, timeout_s: float = 5.0, passthrough: bool = False) -> None:
        self.link = link
        self.timeout_s = timeout_s
        self.passthrough = passthrough
        self._splitter = LineSplitter()
        self._heard = b""  # the last bytes received during the current command
        self.unsolicited: list[str] = []
        self.interface_lines: list[str] = []

    def _device_line(self, line: str) -> str | None:
        """The device's own line, or None for an interface-board line (which may be an error)."""
        if not self.passthrough:
            return line
        if line.startswith(DUT_PREFIX):
            return line[len(DUT_PREFIX) :]
        self.interface_lines.append(line)
        if line.startswith("e-"):
            raise DeviceError("interface board", line)
        return None

    def _read_lines(self, deadline: Deadline, awaited: str) -> list[str]:
        """The next lines, under the command's one deadline: a device that keeps talking without ever
        ending its reply times out as surely as a silent one."""
        data = self.link.read_some(deadline)
        if data:
            self._heard = (self._heard + data)[-TAIL_BYTES:]
        if not data or deadline.expired():
            # what came during this command, not only in this last read: at the deadline a read returns
            # nothing even from a device that talked all along
            raise DeviceTimeout(awaited, deadline.limit_s, self._splitter.pending or self._heard,
                                still_talking=bool(self._heard))
        return self._splitter.feed(data)

    def command(self, text: str, timeout_s: float | None = None) -> Reply:
        """Send `text%`, return its reply; an `e-` line raises DeviceError after `m-ready`."""
        self.link.write(encode_command(f"dut {text}" if self.passthrough else text))
        self._heard = b""
        deadline = Deadline(timeout_s if timeout_s is not None else self.timeout_s)
        lines: list[str] = []
        events: list[Event] = []
        in_banner = False
        received = 0
        while True:
            for raw in self._read_lines(deadline, f"'{text}%'"):
                line = self._device_line(raw)
                if line is None:
                    continue
                received += len(line) + 2
                if received > MAX_REPLY_BYTES:
                    raise ProtocolError(f"the reply to '{text}%' ran past {MAX_REPLY_BYTES} bytes without m-ready "
                                        f"(last line {line[:60]!r}): the device is not speaking the protocol")
                event = parse_line(line)
                if isinstance(event, TimestampMode | InitDone):
                    in_banner = True  # a (re)boot banner: its m-ready is not our reply
                if in_banner:
                    self.unsolicited.append(line)
                    in_banner = not isinstance(event, Ready)
                    continue
                if isinstance(event, Ready):
                    errors = [e for e in events if isinstance(e, ErrorLine)]
                    if errors:
                        raise DeviceError(text, errors[0].text)
                    return Reply(text, tuple(lines), tuple(events))
                lines.append(line)
                events.append(event)

    def drain(self, quiet_s: float = 0.2, limit_s: float = 2.0) -> list[str]:
        """Read and keep whatever the device says unprompted (boot banner) until it is quiet."""
        overall = Deadline(limit_s)
        drained: list[str] = []
        while not overall.expired():
            data = self.link.read_some(Deadline(min(quiet_s, overall.remaining())))
            if not data:
                break
            try:
                drained.extend(self._splitter.feed(data))
            except LineTooLong as e:  # what is drained is thrown away anyway: note it, keep draining
                drained.append(f"({e})")
        self._splitter = LineSplitter()  # a partial banner line must not prefix the next reply
        self.unsolicited.extend(drained)
        return drained
