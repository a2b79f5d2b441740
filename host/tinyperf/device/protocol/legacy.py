"""The legacy MLPerf Tiny / EEMBC device protocol: command encoding and line parsing.

Host -> device: ASCII words ended by '%', never more than 80 characters, no CR/LF.
Device -> host: lines ended by CR LF; 'm-' messages, 'e-' errors, every command ends 'm-ready'.
This module is pure (no I/O): a splitter fed bytes yields lines, a parser turns lines into typed
events, so it is tested against recorded transcripts without any port.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from tinyperf.errors import ProtocolError

MAX_COMMAND_CHARS = 80
#: longest device line accepted: far above any real reply line (12 scores, an 8-byte `m-buffer` line),
#: so a device that never ends its line costs bounded memory and a named error, not the host's RAM
MAX_LINE_BYTES = 4096
#: longest unsigned integer a device line may carry (a 64-bit counter has 20 digits)
MAX_INT_DIGITS = 20
#: bytes per `db` chunk: what the reference runner sends ("db " + 62 hex digits + "%" = 66 chars)
DEFAULT_CHUNK_BYTES = 31
#: most bytes that still fit: "db " + 76 hex digits + "%" = 80 chars
MAX_CHUNK_BYTES = (MAX_COMMAND_CHARS - len("db %")) // 2


def encode_command(text: str) -> bytes:
    """Frame one command; refuses what reference firmware would truncate or misread."""
    if "%" in text or "\r" in text or "\n" in text:
        raise ValueError(f"command {text!r} must not contain '%', CR or LF")
    framed = text + "%"
    if len(framed) > MAX_COMMAND_CHARS:
        raise ValueError(f"command is {len(framed)} characters; device buffers hold {MAX_COMMAND_CHARS}")
    return framed.encode("ascii")


def load_commands(data: bytes, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> list[str]:
    """`db load N` followed by the hex chunks that fill the device buffer."""
    if not 1 <= chunk_bytes <= MAX_CHUNK_BYTES:
        raise ValueError(f"chunk size must be 1..{MAX_CHUNK_BYTES} bytes")
    if not data:
        raise ValueError("cannot load an empty input")
    chunks = [data[i : i + chunk_bytes].hex() for i in range(0, len(data), chunk_bytes)]
    return [f"db load {len(data)}"] + [f"db {c}" for c in chunks]


def take_frames(buffer: bytearray, delimiter: bytes) -> list[bytes]:
    """Remove and return every complete frame (without its delimiter) from the front of `buffer`."""
    frames = []
    while (end := buffer.find(delimiter)) >= 0:
        frames.append(bytes(buffer[:end]))
        del buffer[: end + len(delimiter)]
    return frames


class LineTooLong(ProtocolError):
    """A peer sent more than `max_line` bytes without a line end."""


class LineSplitter:
    """Accumulates bytes and yields complete lines (CR LF or LF ended), without terminators.

    A line longer than `max_line` bytes raises LineTooLong and its bytes are dropped up to the next line
    end, so memory stays bounded whatever the peer sends and the stream stays usable after the error."""

    def __init__(self, max_line: int = MAX_LINE_BYTES, source: str = "device") -> None:
        self._buffer = bytearray()
        self.max_line = max_line
        self.source = source
        self._discarding = False

    def feed(self, data: bytes) -> list[str]:
        self._buffer.extend(data)
        if self._discarding:
            end = self._buffer.find(b"\n")
            if end < 0:
                self._buffer.clear()
                return []
            del self._buffer[: end + 1]
            self._discarding = False
        raws = take_frames(self._buffer, b"\n")
        longest = max((len(raw) for raw in raws), default=0)
        if longest > self.max_line or len(self._buffer) > self.max_line:
            head = bytes(next((raw for raw in raws if len(raw) > self.max_line), self._buffer)[:40])
            self._discarding = len(self._buffer) > self.max_line
            self._buffer.clear()
            raise LineTooLong(f"{self.source} sent a line longer than {self.max_line} bytes "
                              f"(starting {head.decode('ascii', 'backslashreplace')!r})")
        return [raw.rstrip(b"\r").decode("ascii", "backslashreplace") for raw in raws]

    @property
    def pending(self) -> bytes:
        return bytes(self._buffer)


# ---- typed events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    pass


@dataclass(frozen=True)
class ErrorLine:
    text: str


@dataclass(frozen=True)
class LapUs:
    microseconds: int


@dataclass(frozen=True)
class Results:
    values: tuple[float, ...]


@dataclass(frozen=True)
class ExactResults:
    """`m-results-f32-[bits,...]`: the same outputs as the m-results line before it, exactly."""

    values: tuple[float, ...]


@dataclass(frozen=True)
class Name:
    text: str


@dataclass(frozen=True)
class Profile:
    text: str


@dataclass(frozen=True)
class ModelId:
    text: str


@dataclass(frozen=True)
class Expecting:
    nbytes: int


@dataclass(frozen=True)
class LoadDone:
    pass


@dataclass(frozen=True)
class WarmupStart:
    count: int


@dataclass(frozen=True)
class WarmupDone:
    pass


@dataclass(frozen=True)
class InferStart:
    count: int


@dataclass(frozen=True)
class InferDone:
    pass


@dataclass(frozen=True)
class TimestampMode:
    mode: str


@dataclass(frozen=True)
class InitDone:
    pass


@dataclass(frozen=True)
class BufferBytes:
    data: bytes


@dataclass(frozen=True)
class Message:
    """Any other `m-` line: kept, never dropped."""

    text: str


@dataclass(frozen=True)
class Text:
    """A line with neither prefix (help text, blank lines)."""

    text: str


Event = (
    Ready | ErrorLine | LapUs | Results | ExactResults | Name | Profile | ModelId | Expecting | LoadDone | WarmupStart
    | WarmupDone | InferStart | InferDone | TimestampMode | InitDone | BufferBytes | Message | Text
)

MAX_NUMBER_CHARS = 64  # a printed float; longer digit strings are garbage, not precision
_BRACKETED = re.compile(r"^\[(.*)\]$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf)$", re.IGNORECASE)


def _bracketed(line: str, body: str) -> str:
    match = _BRACKETED.match(body)
    if not match:
        raise ProtocolError(f"expected '[...]' in device line {line!r}")
    return match.group(1)


def _int(line: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_INT_DIGITS:
        raise ProtocolError(f"expected an unsigned integer of at most {MAX_INT_DIGITS} digits in device line "
                            f"{line[:80]!r}")
    return int(text)


def parse_results(line: str, body: str) -> Results:
    """`[v0,v1,...]`, tolerating spaces and a trailing comma (firmwares differ)."""
    inner = _bracketed(line, body).strip()
    items = [item.strip() for item in inner.split(",")]
    if items and items[-1] == "":
        items.pop()
    values = []
    for item in items:
        if len(item) > MAX_NUMBER_CHARS or not _NUMBER.match(item):
            raise ProtocolError(f"result {item[:40]!r} is not a number in device line {line[:80]!r}")
        values.append(float(item))
    return Results(tuple(values))


_FLOAT_BITS = re.compile(r"^[0-9a-f]{8}$")


def parse_exact_results(line: str, body: str) -> ExactResults:
    """`[3f6e0000,...]`: float32 bits, 8 lowercase hex digits each."""
    words = _bracketed(line, body).split(",")
    if len(words) > 1 << 16 or not all(_FLOAT_BITS.match(word) for word in words):
        raise ProtocolError(f"expected float32 bits (8 hex digits each) in device line {line[:80]!r}")
    return ExactResults(tuple(struct.unpack(f">{len(words)}f", bytes.fromhex("".join(words)))))


def _buffer_bytes(line: str, body: str) -> BufferBytes:
    try:
        return BufferBytes(bytes(int(h, 16) for h in body.split("-")))
    except ValueError as e:
        raise ProtocolError(f"expected hex bytes in device line {line!r}") from e


_PREFIXED = (
    ("m-lap-us-", lambda line, body: LapUs(_int(line, body))),
    ("m-results-f32-", parse_exact_results),
    ("m-results-", parse_results),
    ("m-name-dut-", lambda line, body: Name(_bracketed(line, body))),
    ("m-profile-", lambda line, body: Profile(_bracketed(line, body))),
    ("m-model-", lambda line, body: ModelId(_bracketed(line, body))),
    ("m-warmup-start-", lambda line, body: WarmupStart(_int(line, body))),
    ("m-infer-start-", lambda line, body: InferStart(_int(line, body))),
    ("m-timestamp-mode-", lambda line, body: TimestampMode(body)),
    ("m-buffer-", _buffer_bytes),
)
_EXACT = {
    "m-ready": Ready(),
    "m-load-done": LoadDone(),
    "m-warmup-done": WarmupDone(),
    "m-infer-done": InferDone(),
    "m-init-done": InitDone(),
}
_EXPECTING = re.compile(r"^m-\[Expecting (\d{1,20}) bytes\]$")


def parse_line(line: str) -> Event:
    """One device line -> one typed event; a known prefix with a malformed body raises."""
    if line in _EXACT:
        return _EXACT[line]
    if line.startswith("e-"):
        return ErrorLine(line)
    for prefix, make in _PREFIXED:
        if line.startswith(prefix):
            return make(line, line[len(prefix) :])
    expecting = _EXPECTING.match(line)
    if expecting:
        return Expecting(int(expecting.group(1)))
    if line.startswith("m-"):
        return Message(line)
    return Text(line)
