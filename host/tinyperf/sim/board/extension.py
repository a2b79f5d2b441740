"""The device side of the tinyperf protocol extension, as the simulated board offers it.

Legacy commands keep working unchanged; `tp-caps%` tells a host the extension is here. Inside frames:
data frames fill one of two input buffers (handled as they arrive, even while an inference runs, as a
UART DMA would), command frames carry legacy or `tp-*` commands, and a repeated command frame (same
seq: its reply was lost) gets the cached reply without running again. firmware/PROTOCOL.md is the spec.
"""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections.abc import Callable

from tinyperf.device.protocol.frames import (
    KIND_ACCEPTED,
    KIND_NAK,
    KIND_REPLY,
    NAK_SEQ,
    Frame,
    FrameError,
    encode_frame,
    parse_data_body,
)
from tinyperf.sim.board.device import COMMAND_BUFFER_CHARS, SimDevice, c_atoi, reply_bytes
from tinyperf.sim.wire import ACTIVE, IDLE, SLEEP
from tinyperf.suite.device_math import exact_results

EXTENSION_VERSION = 1
MAX_DATA_CHUNK = 1024  # data bytes per frame the device accepts
REPLY_CACHE = 4  # command replies kept for repeats (the host has at most two commands in flight)
STALL_S = 5.0  # a streaming slide whose data stops this long gives up


def _hex_crc(word: str) -> int | None:
    try:
        return int(word, 16)
    except ValueError:
        return None


class ExtendedDevice:
    """Two input buffers, the command cache, the caps line and the baud switch, around a SimDevice."""

    def __init__(self, device: SimDevice, buffer_bytes: int, bauds: tuple[int, ...],
                 on_baud: Callable[[int], None] = lambda baud: None) -> None:
        self.device = device
        self.buffer_bytes = buffer_bytes
        self.bauds = bauds
        self.on_baud = on_baud
        self.recent: dict[int, bytes] = {}  # replies to the last few command frames, by seq
        self.lock = threading.Condition()  # data frames (receiver thread) vs commands (main thread)
        self.arrived: list[set[int]] = [set(), set()]  # frame-aligned chunks stored this fill
        self.filled = [0, 0]  # bytes from offset 0 that have all arrived
        self.fill_end = [0, 0]  # the furthest byte any frame of the fill reached
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.buffers = [bytearray(self.buffer_bytes), bytearray(self.buffer_bytes)]
            self._end_fills()
            self.recent = {}

    def _end_fills(self, *indices: int) -> None:
        """What has arrived of a buffer's fill, by frame-aligned chunk (a streaming slide waits on it).
        A fill ends when a command has used the buffer: the host fills it again only after that reply."""
        for index in indices or range(len(self.buffers)):
            self.arrived[index], self.filled[index], self.fill_end[index] = set(), 0, 0

    def caps_line(self) -> str:
        bauds = ",".join(str(b) for b in self.bauds)
        return (f"m-tp-caps-[v={EXTENSION_VERSION} frame={MAX_DATA_CHUNK} buffers={len(self.buffers)} "
                f"buffer-bytes={self.buffer_bytes} features=crc,seq,slide,stream,overlap,exact bauds={bauds}"
                f"{' model=' + self.device.model_sha256[:16] if self.device.model_sha256 else ''}]")

    # ---- frames ---------------------------------------------------------------------------------

    def on_data(self, frame: Frame) -> bytes:
        """Store a data frame's bytes, in any order; the ack is an empty reply with the frame's seq."""
        try:
            index, offset, chunk = parse_data_body(frame.body)
        except FrameError as e:
            return encode_frame(KIND_REPLY, frame.seq, reply_bytes([f"e-[tp data: {e}]"]))
        if index >= len(self.buffers) or len(chunk) > MAX_DATA_CHUNK or offset + len(chunk) > self.buffer_bytes:
            return encode_frame(KIND_REPLY, frame.seq, reply_bytes(
                [f"e-[tp data: {len(chunk)} bytes at {offset} do not fit buffer {index} "
                 f"({len(self.buffers)} x {self.buffer_bytes} bytes, {MAX_DATA_CHUNK} per frame)]"]))
        with self.lock:
            self.buffers[index][offset : offset + len(chunk)] = chunk
            if offset % MAX_DATA_CHUNK == 0 and chunk:
                self.arrived[index].add(offset // MAX_DATA_CHUNK)
                self.fill_end[index] = max(self.fill_end[index], offset + len(chunk))
                while (self.filled[index] < self.fill_end[index]
                       and self.filled[index] // MAX_DATA_CHUNK in self.arrived[index]):
                    self.filled[index] = min(self.filled[index] + MAX_DATA_CHUNK, self.fill_end[index])
                self.lock.notify_all()
        return encode_frame(KIND_REPLY, frame.seq, b"")

    def on_command(self, frame: Frame) -> bytes:
        """Run a command frame once; a repeat of one of the last REPLY_CACHE gets the same reply again."""
        if frame.seq in self.recent:
            return self.recent[frame.seq]
        reply = encode_frame(KIND_REPLY, frame.seq, self.handle_text(frame.text, framed=True))
        self.recent[frame.seq] = reply
        while len(self.recent) > REPLY_CACHE:
            del self.recent[next(iter(self.recent))]
        return reply

    @staticmethod
    def accepted(frame: Frame) -> bytes:
        """Sent as a command frame arrives, before it runs: the host then waits as long as it takes."""
        return encode_frame(KIND_ACCEPTED, frame.seq, b"")

    @staticmethod
    def nak() -> bytes:
        return encode_frame(KIND_NAK, NAK_SEQ, b"")

    # ---- commands (also accepted as text, so `tp-caps%` negotiates) -----------------------------

    def handle_text(self, command: str, framed: bool = False) -> bytes:
        words = command[:COMMAND_BUFFER_CHARS].split(" ")
        word = words[0]
        if word == "tp-caps":  # negotiation starts a session: the new host numbers its frames from 1 again
            with self.lock:
                self.recent = {}
                self._end_fills()
            return reply_bytes([self.caps_line()])
        if word == "tp-infer":
            return self._infer(words[1:])
        if word == "tp-slide":
            return self._slide(words[1:], framed)
        if word == "tp-baud":
            return self._baud(words[1:])
        if word == "tp-profile":
            return self._profile(words[1:])
        if word == "tp-duty":
            return self._duty(words[1:])
        return self.device.handle(command)

    def _buffer_ref(self, args: list[str], command: str) -> tuple[tuple[int, int, int] | None, str | None]:
        """`B LEN CRC` -> (buffer, length, crc), or the error line."""
        if len(args) < 3:
            return None, f"e-[{command} needs BUFFER LENGTH CRC32]"
        index, length, crc = c_atoi(args[0]), c_atoi(args[1]), _hex_crc(args[2])
        if not 0 <= index < len(self.buffers) or not 0 < length <= self.buffer_bytes or crc is None:
            return None, f"e-[{command}: buffer {args[0]} length {args[1]} crc {args[2]} out of range]"
        return (index, length, crc), None

    def _crc_error(self, ref: tuple[int, int, int], command: str) -> str | None:
        index, length, crc = ref
        with self.lock:
            actual = zlib.crc32(self.buffers[index][:length])
        return None if actual == crc else f"e-[{command}: buffer {index} CRC {actual:08x}, expected {crc:08x}]"

    def _use_buffer(self, args: list[str], command: str) -> bytes | None:
        """`B LEN CRC`: the first LEN bytes of buffer B become the input if their CRC-32 is CRC (hex);
        the fill ends. None, or the error reply (as the firmware's use_buffer)."""
        ref, error = self._buffer_ref(args, command)
        if ref is None:
            return reply_bytes([str(error)])
        error = self._crc_error(ref, command)
        index, length, _ = ref
        with self.lock:
            self._end_fills(index)
            if error is not None:
                return reply_bytes([error])
            self.device.buffer = bytearray(self.buffers[index][:length])
        return None

    def _infer(self, args: list[str]) -> bytes:
        """`tp-infer B LEN CRC N W [results]`: checks the buffer, then answers exactly as `infer N W`
        (with `results`, only its m-results line: accuracy runs need no timestamps)."""
        if (refused := self._use_buffer(args, "tp-infer")) is not None:
            return refused
        rest = " ".join(args[3:5]) or "1"
        reply = self._with_exact(self.device.handle(f"infer {rest}"))
        if args[5:6] == ["results"]:
            kept = [line for line in reply.decode("ascii").split("\r\n") if line.startswith(("m-results-", "e-"))]
            return reply_bytes(kept)
        return reply

    def _with_exact(self, reply: bytes) -> bytes:
        """After the printed m-results line, the same outputs exactly: `m-results-f32-[bits,...]`, each
        value's float32 bits in hex, so the host scores what the model output, not a 3-decimal print."""
        marker = b"\r\nm-results-"
        at = reply.find(marker)
        if at < 0:
            return reply
        end = reply.index(b"\r\n", at + 2) + 2
        exact = f"m-results-f32-{exact_results(self.device.results)}\r\n".encode("ascii")
        return reply[:end] + exact + reply[end:]

    def _slide(self, args: list[str], framed: bool) -> bytes:
        """`tp-slide B LEN CRC WIN STRIDE [stream]`: one inference per window, one m-results line each.
        With `stream` the command comes before the data and window i runs once its bytes are in; the
        CRC is checked at the end (windows run on anything else are not reported)."""
        ref, error = self._buffer_ref(args, "tp-slide")
        if ref is None:
            return reply_bytes([str(error)])
        index, length, _ = ref
        window = c_atoi(args[3]) if len(args) > 3 else 0
        stride = c_atoi(args[4]) if len(args) > 4 else 0
        stream = args[5:6] == ["stream"]
        if window <= 0 or stride <= 0 or window > length:
            return reply_bytes([f"e-[tp-slide: window {window} stride {stride} do not fit {length} bytes]"])
        if stream and not framed:
            return reply_bytes(["e-[tp-slide: stream needs a command frame]"])
        try:
            return reply_bytes(self._slide_windows(ref, window, stride, stream))
        finally:
            with self.lock:
                self._end_fills(index)

    def _slide_windows(self, ref: tuple[int, int, int], window: int, stride: int, stream: bool) -> list[str]:
        index, length, _ = ref
        if not stream and (error := self._crc_error(ref, "tp-slide")) is not None:
            return [error]
        lines = []
        for offset in range(0, length - window + 1, stride):
            piece = self._window(index, offset, window, wait=stream)
            if piece is None:
                return [f"e-[tp-slide: data stopped at byte {self.filled[index]} of {length}]"]
            self.device.infer_once(piece)
            lines += [self.device.results_line(), f"m-results-f32-{exact_results(self.device.results)}"]
        if stream and (error := self._crc_error(ref, "tp-slide")) is not None:
            return [error]
        return [*lines, f"m-tp-slide-done-{len(lines)}"]

    def _window(self, index: int, offset: int, window: int, wait: bool) -> bytes | None:
        """The window's bytes; with `wait`, once they have arrived (None after STALL_S without progress)."""
        with self.lock:
            progress, deadline = self.filled[index], time.monotonic() + STALL_S
            while wait and self.filled[index] < offset + window:
                if self.filled[index] != progress:
                    progress, deadline = self.filled[index], time.monotonic() + STALL_S
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.lock.wait(remaining)
            return bytes(self.buffers[index][offset : offset + window])

    def _profile(self, args: list[str]) -> bytes:
        """`tp-profile [B LEN CRC]`: one inference on that buffer (or the current input) with each operator's
        cycles, as our firmware's ref engine reports them: `m-tp-op-[index,OP_TYPE,cycles]`, then the total."""
        if not self.device.op_cycles:
            return reply_bytes(["e-[tp-profile: this device has no per-operator timing]"])
        if args and (refused := self._use_buffer(args, "tp-profile")) is not None:
            return refused
        factor = self.device.command_factor()
        self.device.infer_once(bytes(self.device.buffer), factor)
        lines = [f"m-tp-op-[{i},{op},{round(cycles * factor)}]" for i, (op, cycles) in enumerate(self.device.op_cycles)]
        total = round(sum(cycles for _, cycles in self.device.op_cycles) * factor)
        return reply_bytes([*lines, f"m-tp-profile-total-[{total}]", f"m-tp-clock-hz-[{self.device.clock_hz}]"])

    def _duty(self, args: list[str]) -> bytes:
        """`tp-duty RATE COUNT periodic|poisson [SEED [B LEN CRC]]`: the always-on scenario, as our firmware
        runs it, on that buffer or the current input. A
        timestamp (an edge in energy mode, m-lap-us otherwise), then COUNT requests arriving at RATE per
        second (periodic, or Poisson: uniform times given the count) over COUNT / RATE seconds, the core
        asleep between them, a request that finds it busy queued; then the closing timestamp, the count
        and period, and the time spent awake."""
        device = self.device
        try:
            rate = float(args[0])
        except (IndexError, ValueError):
            rate = 0.0
        count = c_atoi(args[1]) if len(args) > 1 else 0
        arrivals = args[2] if len(args) > 2 else "periodic"
        if rate <= 0 or count <= 0 or arrivals not in ("periodic", "poisson"):
            return reply_bytes(["e-[tp-duty needs RATE>0 COUNT>0 periodic|poisson [SEED [B LEN CRC]]]"])
        if len(args) > 4 and (refused := self._use_buffer(args[4:], "tp-duty")) is not None:
            return refused
        span = count / rate
        rng = random.Random(c_atoi(args[3]) if len(args) > 3 else 0)
        times = ([k / rate for k in range(count)] if arrivals == "periodic"
                 else sorted(rng.uniform(0.0, span) for _ in range(count)))
        lines = device._timestamp()
        start = device.clock.now_us() / 1e6
        busy = 0.0
        self._power_state(start, SLEEP)
        for arrival in times:
            gap = start + arrival - device.clock.now_us() / 1e6
            if gap > 0:
                device.clock.spend(gap)
            woke = device.clock.now_us() / 1e6
            self._power_state(woke, ACTIVE)
            device.infer_once(bytes(device.buffer))
            busy += device.clock.now_us() / 1e6 - woke
            self._power_state(device.clock.now_us() / 1e6, SLEEP)
        rest = start + span - device.clock.now_us() / 1e6
        if rest > 0:
            device.clock.spend(rest)
        end = device.clock.now_us() / 1e6
        lines += device._timestamp()
        self._power_state(end, IDLE)
        device.tell_time()
        return reply_bytes([*lines, f"m-tp-duty-[{count},{end - start:.6f}]", f"m-tp-duty-busy-[{busy:.6f}]"])

    def _power_state(self, at_s: float, state: int) -> None:
        if self.device.power_wire is not None:
            self.device.power_wire.state(at_s, state)

    def _baud(self, args: list[str]) -> bytes:
        rate = c_atoi(args[0]) if args else 0
        if rate not in self.bauds:
            return reply_bytes([f"e-[tp-baud: {rate} is not one of {','.join(str(b) for b in self.bauds)}]"])
        self.on_baud(rate)
        return reply_bytes([f"m-tp-baud-[{rate}]"])
