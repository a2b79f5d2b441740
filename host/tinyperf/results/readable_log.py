"""A session transcript (escaped bytes, both directions) as a log a person reads: for submission log.txt.

Legacy text stays as the device sent it, one line per command and per device line. Frames of the
tinyperf protocol become one line each: a command frame shows its text, a reply its lines joined by
" | ", a data frame its buffer, offset and size; the raw bytes stay in the session's own log.txt.
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.device.link.recorder import read_transcript
from tinyperf.device.protocol.frames import (
    KIND_ACCEPTED,
    KIND_COMMAND,
    KIND_DATA,
    KIND_NAK,
    KIND_REPLY,
    BadFrame,
    Frame,
    StreamDemux,
    TextPiece,
    parse_data_body,
)

HEADER = ("# tinyperf log: '>' host to device, '<' device to host, seconds since the port opened.\n"
          "# Text is shown as sent; tinyperf-protocol frames are summarised (raw bytes: the session's log.txt).\n")


def _text(data: bytes) -> str:
    """Printable text; any other byte as \\xNN so the log stays one readable line per event."""
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in data)


def _frame_line(frame: Frame) -> str:
    if frame.kind == KIND_COMMAND:
        return f"[frame {frame.seq} command] {_text(frame.body)}%"
    if frame.kind == KIND_REPLY and not frame.body:
        return f"[frame {frame.seq} stored]"
    if frame.kind == KIND_REPLY:
        lines = [line for line in frame.body.decode("latin-1").split("\r\n") if line]
        return f"[frame {frame.seq} reply] " + " | ".join(_text(line.encode("latin-1")) for line in lines)
    if frame.kind == KIND_DATA:
        try:
            buffer, offset, chunk = parse_data_body(frame.body)
        except ValueError:
            return f"[frame {frame.seq} data] {len(frame.body)} bytes (malformed)"
        return f"[frame {frame.seq} data] buffer {buffer} offset {offset}: {len(chunk)} bytes"
    if frame.kind == KIND_ACCEPTED:
        return f"[frame {frame.seq} accepted]" + (f" {_text(frame.body)}" if frame.body else "")
    if frame.kind == KIND_NAK:
        return "[frame nak] the device received a broken frame"
    return f"[frame {frame.seq} kind {frame.kind}] {len(frame.body)} bytes"


def readable_lines(transcript: Path) -> list[str]:
    demux = {">": StreamDemux(b"%"), "<": StreamDemux(b"\n")}
    lines: list[str] = []
    for seconds, direction, data in read_transcript(transcript):
        if direction not in demux:
            continue
        for piece in demux[direction].feed(data):
            if isinstance(piece, TextPiece):
                text = piece.data.rstrip(b"\r\n") if direction == "<" else piece.data
                shown = _text(text)
            elif isinstance(piece, BadFrame):
                shown = f"[broken frame: {piece.reason}]"
            else:
                shown = _frame_line(piece)
            lines.append(f"{seconds:12.6f} {direction} {shown}")
    return lines


def write_readable_log(transcript: Path, out: Path) -> None:
    out.write_text(HEADER + "\n".join(readable_lines(transcript)) + "\n", encoding="utf-8")
