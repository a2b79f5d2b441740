"""The host side of the tinyperf extension: negotiated, CRC-checked frames with retries and pipelining.

`negotiate` asks `tp-caps%`; legacy firmware answers its unknown-command error and the run stays
legacy. `ExtendedClient` sends command and data frames, keeps a few data frames in flight, resends
what was lost (timeout or NAK) and raises DeviceUnresponsive once a frame has used all its tries.
"""

from __future__ import annotations

import re
import time
import zlib
from dataclasses import dataclass

from tinyperf.deadline import Deadline
from tinyperf.device.link.base import Link
from tinyperf.device.protocol.client import LegacyClient, Reply
from tinyperf.device.protocol.frames import (
    KIND_ACCEPTED,
    KIND_COMMAND,
    KIND_DATA,
    KIND_NAK,
    KIND_REPLY,
    SEQ_MODULO,
    BadFrame,
    Frame,
    StreamDemux,
    TextPiece,
    data_body,
    encode_frame,
)
from tinyperf.device.protocol.legacy import MAX_LINE_BYTES, ErrorLine, InitDone, Ready, parse_line
from tinyperf.errors import DeviceError, DeviceRebooted, DeviceUnresponsive, ProtocolError

MAX_TRIES = 3
ACK_MARGIN_S = 0.3  # beyond the wire time: device and host scheduling (first try; doubled on each retry)
DATA_WINDOW = 4  # data frames in flight before waiting for acks
BAUD_CONFIRM_S = 1.0  # after tp-baud, a device that gets no valid frame at the new rate in this goes back
PING_S = 2.0  # a running command is asked about this often, where the device can answer while it runs
_CAPS = re.compile(r"^m-tp-caps-\[(.*)\]$")


@dataclass(frozen=True)
class Capabilities:
    version: int
    frame_bytes: int
    buffers: int
    buffer_bytes: int
    features: frozenset[str]
    bauds: tuple[int, ...]
    engine: str = ""  # "tflm/cmsis-nn", "ref", "test"; "" from firmware older than the field
    arena_used: int = 0
    arena_bytes: int = 0
    model_sha256: str = ""  # first hex digits of the model file's sha256 ("" from firmware that does not say)

    @classmethod
    def parse(cls, line: str) -> Capabilities:
        match = _CAPS.match(line)
        if not match:
            raise ProtocolError(f"expected m-tp-caps-[...] in device line {line!r}")
        fields = dict(item.partition("=")[::2] for item in match.group(1).split())
        try:
            used, _, size = fields.get("arena", "0/0").partition("/")
            return cls(int(fields["v"]), int(fields["frame"]), int(fields["buffers"]), int(fields["buffer-bytes"]),
                       frozenset(filter(None, fields.get("features", "").split(","))),
                       tuple(int(b) for b in filter(None, fields.get("bauds", "").split(","))),
                       fields.get("engine", ""), int(used), int(size or 0), fields.get("model", ""))
        except (KeyError, ValueError) as e:
            raise ProtocolError(f"malformed capabilities line {line!r}: {e}") from e


_UNKNOWN_COMMAND = re.compile(r"Unknown command:?\s*([^\]\s]*)")


def negotiate(client: LegacyClient) -> Capabilities | None:
    """Ask for the extension; None means a legacy device (it rejected `tp-caps` as unknown).

    Only a refusal of `tp-caps` itself says so: a noisy link that garbles the command into another
    word gets that word refused, and taking that for a legacy device would quietly run the rest of
    the session (and every recovery after it) without the extension."""
    try:
        reply = client.command("tp-caps")
    except DeviceError as e:
        unknown = _UNKNOWN_COMMAND.search(e.line)
        if unknown is None:
            raise
        if unknown.group(1) in ("", "tp-caps"):
            return None
        raise ProtocolError(f"'tp-caps%' reached the device as {unknown.group(1)!r} ({e.line}): the link "
                            "garbled it") from None
    for line in reply.lines:
        if line.startswith("m-tp-caps-"):
            return Capabilities.parse(line)
    raise ProtocolError(f"reply to 'tp-caps%' has no m-tp-caps line: {list(reply.lines)}")


def reply_from_body(command: str, body: bytes) -> Reply:
    """A reply frame's body holds the legacy lines of the reply, m-ready last."""
    lines = [line for line in body.decode("ascii", "backslashreplace").split("\r\n") if line]
    longest = max((len(line) for line in lines), default=0)
    if longest > MAX_LINE_BYTES:
        raise ProtocolError(f"reply frame to {command!r} holds a line of {longest} bytes (at most {MAX_LINE_BYTES})")
    events = [parse_line(line) for line in lines]
    if not events or not isinstance(events[-1], Ready):
        raise ProtocolError(f"reply frame to {command!r} does not end with m-ready: {lines[-3:]}")
    errors = [e for e in events if isinstance(e, ErrorLine)]
    if errors:
        raise DeviceError(command, errors[0].text)
    return Reply(command, tuple(lines[:-1]), tuple(events[:-1]))


@dataclass
class _Pending:
    what: str
    wire: bytes
    kind: int
    budget_s: float  # device time a command needs once accepted
    command: str = ""
    reads_frames: bool = False  # a command during which even a non-`overlap` device takes frames in
    accepted: bool = False
    deadline: float = 0.0
    tries: int = 0
    reply: Frame | None = None
    ping_due: float = 0.0  # accepted commands: when to send the frame again, to hear "still running"
    ping_deadline: float | None = None  # a ping is out: its A (or the cached reply) is due by then

    @property
    def awaiting_answer(self) -> bool:
        """Not yet acked (data) or accepted (command): the device has not shown it got this frame."""
        return self.reply is None and (self.kind == KIND_DATA or not self.accepted)


def ack_margin_s(tries: int) -> float:
    """How long past its wire time a frame's answer may take on try `tries` (1, 2, ...): doubled on each
    retry, so a lossy link is retried quickly and a host stalled by load (QEMU beside other work) is
    not taken for a dead device."""
    return ACK_MARGIN_S * 2 ** max(0, tries - 1)


@dataclass
class LinkStats:
    frames_sent: int = 0
    resent: int = 0  # frames sent again because their answer did not come (a fault on the link)
    pings: int = 0  # a running command's frame sent again on schedule to hear "still running" (no fault)
    naks: int = 0
    bad_frames: int = 0
    bytes_sent: int = 0


class ExtendedClient:
    """Frames over a link. `command` waits for its reply; `start`/`finish` let a command run on the
    device while data frames for the next input stream into the other buffer."""

    def __init__(self, link: Link, caps: Capabilities, baud: int, timeout_s: float = 5.0,
                 stats: LinkStats | None = None) -> None:
        self.link = link
        self.caps = caps
        self.timeout_s = timeout_s
        self.set_baud(baud)
        self._seq = 0
        self._pending: dict[int, _Pending] = {}
        self._demux = StreamDemux(b"\n")
        self._wire_free = 0.0
        self.stats = stats if stats is not None else LinkStats()  # shared across reconnects

    def set_baud(self, baud: int) -> None:
        self.baud = baud
        self._seconds_per_byte = 10.0 / baud

    # ---- sending ---------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) % SEQ_MODULO
        return self._seq

    def _transmit(self, seq: int, pending: _Pending) -> None:
        """Write a frame; it must be acked (data) or accepted (command) within its wire time + margin."""
        now = time.monotonic()
        self._wire_free = max(now, self._wire_free) + len(pending.wire) * self._seconds_per_byte
        pending.tries += 1
        pending.deadline = self._wire_free + ack_margin_s(pending.tries)
        pending.accepted = False
        self._write(pending)

    def _write(self, pending: _Pending) -> None:
        self.stats.frames_sent += 1
        self.stats.bytes_sent += len(pending.wire)
        self.link.write(pending.wire)

    def _send(self, kind: int, body: bytes, what: str, budget_s: float, command: str = "",
              reads_frames: bool = False) -> int:
        seq = self._next_seq()
        pending = _Pending(what, encode_frame(kind, seq, body), kind, budget_s, command, reads_frames)
        self._pending[seq] = pending
        self._transmit(seq, pending)
        return seq

    def start(self, text: str, timeout_s: float | None = None, reads_frames: bool = False) -> int:
        """Send a command frame and return its ticket; `finish(ticket)` collects the reply.
        `reads_frames`: the command itself takes data frames in as it runs (a streaming slide)."""
        budget_s = self.timeout_s if timeout_s is None else timeout_s
        return self._send(KIND_COMMAND, text.encode("ascii"), f"command frame {text!r}", budget_s, text,
                          reads_frames)

    def finish(self, ticket: int) -> Reply:
        command = self._pending[ticket].command
        frame = self._await(ticket)
        return reply_from_body(command, frame.body)

    def command(self, text: str, timeout_s: float | None = None) -> Reply:
        return self.finish(self.start(text, timeout_s))

    def write_buffer(self, buffer: int, data: bytes, on_progress=None) -> None:  # type: ignore[no-untyped-def]
        """Fill `buffer` with `data` in data frames, DATA_WINDOW in flight; resends until each is acked."""
        chunk = self.caps.frame_bytes
        sent: list[int] = []
        for offset in range(0, len(data), chunk):
            if len([s for s in sent if s in self._pending]) >= DATA_WINDOW:
                self._await(sent[len(sent) - DATA_WINDOW])
            body = data_body(buffer, offset, data[offset : offset + chunk])
            sent.append(self._send(KIND_DATA, body, f"data frame at {offset} of buffer {buffer}", 0.0))
            if on_progress is not None:
                on_progress(min(offset + chunk, len(data)))
        for seq in sent:
            if seq in self._pending:
                self._await(seq)

    # ---- receiving -------------------------------------------------------------------------------

    def _await(self, seq: int) -> Frame:
        """Read until frame `seq` is answered, resending whatever timed out meanwhile."""
        while True:
            pending = self._pending[seq]
            if pending.reply is not None:
                del self._pending[seq]
                if pending.kind == KIND_DATA:
                    _check_ack(pending, pending.reply)
                return pending.reply
            self._resend_expired()
            timed = self._timed()
            wait_s = max(0.001, min(p.deadline for p in timed) - time.monotonic()) if timed else 0.5
            data = self.link.read_some(Deadline(min(wait_s, 0.5)))
            if data:
                self._route(data)

    @property
    def overlaps(self) -> bool:
        """Whether the device takes frames in while a command runs (else they wait in its UART buffer)."""
        return "overlap" in self.caps.features

    def _running(self) -> _Pending | None:
        """The command the device is busy with, if it reads no frames meanwhile."""
        running = next((p for p in self._pending.values()
                        if p.kind == KIND_COMMAND and p.accepted and p.reply is None), None)
        return None if running is None or running.reads_frames else running

    def _timed(self) -> list[_Pending]:
        """Unanswered frames whose clock runs. On a device without `overlap`, while a command runs
        only it is timed: the rest are read once it is done, and their clocks start then."""
        running = None if self.overlaps else self._running()
        return [p for p in self._pending.values() if p.reply is None and (running is None or p is running)]

    def _pingable(self, pending: _Pending) -> bool:
        """An accepted command the device can be asked about while it runs (it reads frames meanwhile)."""
        return pending.kind == KIND_COMMAND and pending.accepted and (self.overlaps or pending.reads_frames)

    def _ping(self, pending: _Pending, now: float) -> None:
        """The same frame again: a device still running it accepts it again (and runs it once); one that
        finished answers from its reply cache, so a lost reply costs a ping interval, not the budget."""
        self.stats.pings += 1
        self._write(pending)
        pending.ping_deadline = now + len(pending.wire) * self._seconds_per_byte + ack_margin_s(pending.tries)
        pending.ping_due = now + _ping_interval(pending)

    def _check_running(self, pending: _Pending, now: float) -> None:
        """Pings an accepted command. An unanswered ping, or one sent after the command's budget ran
        out, uses a try; the device is unresponsive when they are used up."""
        unanswered = pending.ping_deadline is not None and now >= pending.ping_deadline
        due = pending.ping_deadline is None and now >= pending.ping_due
        if not (unanswered or due):
            return
        if unanswered or now >= pending.deadline:
            pending.tries += 1
            if pending.tries > MAX_TRIES:
                limit = ack_margin_s(MAX_TRIES) if unanswered else pending.budget_s + ACK_MARGIN_S
                raise DeviceUnresponsive(pending.what, pending.tries - 1, limit)
        self._ping(pending, now)

    def _resend_expired(self) -> None:
        now = time.monotonic()
        timed = {id(p) for p in self._timed()}
        for seq, pending in self._pending.items():
            if id(pending) in timed and self._pingable(pending):
                self._check_running(pending, now)
            elif id(pending) in timed and now >= pending.deadline:
                if pending.tries >= MAX_TRIES:
                    limit = pending.budget_s + ACK_MARGIN_S if pending.accepted else ack_margin_s(pending.tries)
                    raise DeviceUnresponsive(pending.what, pending.tries, limit)
                self._resend(seq, pending)

    def _resend(self, seq: int, pending: _Pending) -> None:
        self.stats.resent += 1
        self._transmit(seq, pending)

    def _route(self, data: bytes) -> None:
        for piece in self._demux.feed(data):
            if isinstance(piece, TextPiece):
                line = piece.data.rstrip(b"\r\n").decode("ascii", "backslashreplace")
                if isinstance(parse_line(line), InitDone):
                    self._pending.clear()
                    raise DeviceRebooted(f"the device rebooted (printed {line!r}) while frames were pending")
            elif isinstance(piece, BadFrame):
                self.stats.bad_frames += 1
            elif piece.kind == KIND_NAK:
                self.stats.naks += 1
                self._resend_oldest_unanswered()
            elif piece.kind == KIND_ACCEPTED and piece.seq in self._pending:
                pending = self._pending[piece.seq]
                pending.ping_deadline = None  # accepted (again): it is running
                if not pending.accepted:
                    pending.accepted = True
                    pending.deadline = time.monotonic() + pending.budget_s + ACK_MARGIN_S
                    pending.ping_due = time.monotonic() + _ping_interval(pending)
                    self._delivered(piece.seq)
            elif piece.kind == KIND_REPLY and piece.seq in self._pending:
                finished = self._pending[piece.seq]
                finished.reply = piece
                self._delivered(piece.seq)
                if not self.overlaps and finished.kind == KIND_COMMAND:
                    self._restart_waiting()

    def _delivered(self, seq: int) -> None:
        """Frame `seq` got through, so the wire is not as far behind as the baud rate alone says (a pty,
        QEMU or a USB serial port moves bytes faster): what was sent after it is due from now."""
        due = time.monotonic()
        after = False
        for other, pending in self._pending.items():
            if other == seq:
                after = True
            elif after and pending.awaiting_answer:
                due += len(pending.wire) * self._seconds_per_byte
                pending.deadline = min(pending.deadline, due + ack_margin_s(pending.tries))
        self._wire_free = min(self._wire_free, due)

    def _restart_waiting(self) -> None:
        """A device without `overlap` reads what waited behind a command only now: each waiting frame
        gets its wire time, in order, from here."""
        due = time.monotonic()
        for pending in self._pending.values():
            if pending.awaiting_answer:
                due += len(pending.wire) * self._seconds_per_byte
                pending.deadline = max(pending.deadline, due + ack_margin_s(pending.tries))

    def _resend_oldest_unanswered(self) -> None:
        """A NAK says a frame arrived broken. The device answers in order, so every frame sent before
        the broken one is acked or accepted by now: the oldest one that is not is resent at once (if
        the guess is wrong, the real one's own timeout still catches it)."""
        for seq, pending in self._pending.items():
            if pending.awaiting_answer:
                if pending.tries < MAX_TRIES:
                    self._resend(seq, pending)
                return

    def abandon(self) -> None:
        """Forget every pending frame (after a reset nothing sent before it will be answered)."""
        self._pending.clear()
        self._demux.reset()


def _ping_interval(pending: _Pending) -> float:
    """Short commands are asked about sooner: a lost reply should not cost more than the command."""
    return min(PING_S, max(0.5, pending.budget_s / 2))


def _check_ack(pending: _Pending, reply: Frame) -> None:
    if reply.body:
        reply_from_body(pending.what, reply.body)  # an e- line raises DeviceError naming the frame


def buffer_crc(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"
