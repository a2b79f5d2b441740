"""The tinyperf extension's wire format: CRC-checked frames, COBS-encoded, between 0x00 delimiters.

Pure (no I/O) so both sides, the host client and the simulated board, share one tested codec.
A frame is `kind(1) seq(2, LE) body crc32(4, LE)`; the CRC (zlib/IEEE) covers kind, seq and body.
On the wire: 0x00, COBS(frame), 0x00. COBS leaves no 0x00 inside, so a receiver finds the next frame
whatever was lost or garbled before it; legacy text never contains 0x00, so both share one stream.
See firmware/PROTOCOL.md for the commands carried inside.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

DELIMITER = 0
KIND_COMMAND = ord("C")  # host -> device: a command's text (legacy or tp-*), no '%'
KIND_DATA = ord("D")  # host -> device: bytes for an input buffer
KIND_REPLY = ord("R")  # device -> host: the reply lines of frame `seq`, exactly as legacy text
KIND_ACCEPTED = ord("A")  # device -> host: command frame `seq` arrived intact; its reply follows when done
KIND_NAK = ord("N")  # device -> host: a frame arrived broken (its seq is unknown)
KINDS = {KIND_COMMAND, KIND_DATA, KIND_REPLY, KIND_ACCEPTED, KIND_NAK}
NAK_SEQ = 0xFFFF
SEQ_MODULO = 0xFFFF  # seq 0xFFFF is reserved for NAK
_HEADER = struct.Struct("<BH")
_DATA_HEADER = struct.Struct("<BI")  # buffer index, byte offset
_CRC = struct.Struct("<I")
MIN_FRAME_BYTES = _HEADER.size + _CRC.size


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: at most one extra byte per 254, no 0x00 in the output."""
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out.extend(block)
            block.clear()
            continue
        block.append(byte)
        if len(block) == 254:
            out.append(255)
            out.extend(block)
            block.clear()
    out.append(len(block) + 1)
    out.extend(block)
    return bytes(out)


class FrameError(ValueError):
    """A frame that fails COBS, length, kind or CRC checks; it is dropped and resent."""


def cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0:
            raise FrameError("COBS data holds a 0x00")
        end = i + code
        if end > len(data):
            raise FrameError(f"COBS block of {code - 1} bytes runs past the frame end")
        out.extend(data[i + 1 : end])
        i = end
        if code != 255 and i < len(data):
            out.append(0)
    return bytes(out)


@dataclass(frozen=True)
class Frame:
    kind: int
    seq: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("ascii", "backslashreplace")


def encode_frame(kind: int, seq: int, body: bytes) -> bytes:
    """The bytes on the wire for one frame, delimiters included."""
    raw = _HEADER.pack(kind, seq) + body
    raw += _CRC.pack(zlib.crc32(raw))
    return bytes([DELIMITER]) + cobs_encode(raw) + bytes([DELIMITER])


def decode_frame(encoded: bytes) -> Frame:
    """COBS-encoded bytes between two delimiters -> Frame, or FrameError saying what is wrong."""
    raw = cobs_decode(encoded)
    if len(raw) < MIN_FRAME_BYTES:
        raise FrameError(f"frame of {len(raw)} bytes is shorter than its {MIN_FRAME_BYTES}-byte header and CRC")
    (crc,) = _CRC.unpack_from(raw, len(raw) - _CRC.size)
    if zlib.crc32(raw[: -_CRC.size]) != crc:
        raise FrameError("frame CRC-32 mismatch")
    kind, seq = _HEADER.unpack_from(raw)
    if kind not in KINDS:
        raise FrameError(f"unknown frame kind 0x{kind:02x}")
    return Frame(kind, seq, raw[_HEADER.size : -_CRC.size])


def data_body(buffer: int, offset: int, chunk: bytes) -> bytes:
    return _DATA_HEADER.pack(buffer, offset) + chunk


def parse_data_body(body: bytes) -> tuple[int, int, bytes]:
    if len(body) < _DATA_HEADER.size:
        raise FrameError(f"data frame body of {len(body)} bytes has no buffer/offset header")
    buffer, offset = _DATA_HEADER.unpack_from(body)
    return buffer, offset, body[_DATA_HEADER.size :]


def data_frame_bytes(chunk_bytes: int) -> int:
    """Wire bytes of one data frame carrying `chunk_bytes` (delimiters and worst-case COBS included)."""
    raw = _HEADER.size + _DATA_HEADER.size + chunk_bytes + _CRC.size
    return raw + raw // 254 + 1 + 2


@dataclass(frozen=True)
class TextPiece:
    """Bytes outside any frame, ended by the text terminator (a legacy line or command)."""

    data: bytes


@dataclass(frozen=True)
class BadFrame:
    reason: str


Piece = TextPiece | Frame | BadFrame


class StreamDemux:
    """Splits one byte stream into legacy text pieces and frames; fed bytes, returns what completed.

    `terminator` ends a text piece: b'\\n' for device lines, b'%' for host commands. A 0x00 opens a
    frame (an unfinished text piece before it is dropped: it was garbage); the next 0x00 closes it. An
    empty frame (two 0x00 in a row) is a resync point, not an error, so a lost delimiter costs one frame.
    """

    def __init__(self, terminator: bytes, max_frame_bytes: int = 1 << 20, max_text_bytes: int = 4096) -> None:
        self.terminator = terminator[0]
        self.max_frame_bytes = max_frame_bytes
        self.max_text_bytes = max_text_bytes  # an endless text piece is dropped (counted), not kept
        self._text = bytearray()
        self._frame = bytearray()
        self._in_frame = False
        self._overflow = False
        self.dropped_text_bytes = 0

    @property
    def pending_text(self) -> bytes:
        return bytes(self._text)

    def reset(self) -> None:
        self._text.clear()
        self._frame.clear()
        self._in_frame = self._overflow = False

    def feed(self, data: bytes) -> list[Piece]:
        pieces: list[Piece] = []
        start = 0
        while start < len(data):
            if self._in_frame:
                end = data.find(b"\0", start)
                stop = len(data) if end < 0 else end
                if not self._overflow:
                    self._frame.extend(data[start:stop])
                    if len(self._frame) > self.max_frame_bytes:
                        self._overflow = True
                        self._frame.clear()
                        pieces.append(BadFrame(f"frame longer than {self.max_frame_bytes} bytes"))
                if end < 0:
                    break
                start = end + 1
                if self._frame or self._overflow:
                    if not self._overflow:
                        pieces.append(self._decode(bytes(self._frame)))
                    self._frame.clear()
                    self._in_frame = self._overflow = False
                continue
            zero = data.find(b"\0", start)
            stop = len(data) if zero < 0 else zero
            self._take_text(data[start:stop], pieces)
            if zero < 0:
                break
            self.dropped_text_bytes += len(self._text)
            self._text.clear()
            self._in_frame = True
            start = zero + 1
        return pieces

    def _take_text(self, data: bytes, pieces: list[Piece]) -> None:
        self._text.extend(data)
        while (end := self._text.find(self.terminator)) >= 0:
            pieces.append(TextPiece(bytes(self._text[: end + 1])))
            del self._text[: end + 1]
        if len(self._text) > self.max_text_bytes:
            self.dropped_text_bytes += len(self._text)
            self._text.clear()

    @staticmethod
    def _decode(encoded: bytes) -> Piece:
        try:
            return decode_frame(encoded)
        except FrameError as e:
            return BadFrame(str(e))
