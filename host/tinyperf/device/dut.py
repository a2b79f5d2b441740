"""The device under test, spoken to only through the legacy protocol client."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tinyperf.device.protocol.client import LegacyClient, Reply
from tinyperf.device.protocol.extended import ExtendedClient, buffer_crc
from tinyperf.device.protocol.legacy import (
    ExactResults,
    Expecting,
    InferDone,
    LapUs,
    LoadDone,
    ModelId,
    Name,
    Profile,
    Results,
    load_commands,
)
from tinyperf.errors import ProtocolError

LAP_US_WRAP = 2**32  # m-lap-us is an unsigned 32-bit microsecond counter on the device


@dataclass(frozen=True)
class Identity:
    name: str
    profile: str
    model: str


@dataclass(frozen=True)
class InferResult:
    count: int
    warmup: int
    start_us: int
    end_us: int
    values: tuple[float, ...]

    @property
    def elapsed_us(self) -> int:
        """Wrap-aware difference of the two device timestamps."""
        return (self.end_us - self.start_us) % LAP_US_WRAP


def checked_results(values: tuple[float, ...], expected: int | None, command: str) -> tuple[float, ...]:
    """A result vector as the model's output spec allows it: `expected` values (when known), all finite.
    Checked before anything journals or scores it, so a broken reply is a protocol error the run
    recovers from, never a record that poisons scoring and every --resume after it."""
    if expected is not None and len(values) != expected:
        raise ProtocolError(f"the device answered {command!r} with {len(values)} result values; the model has "
                            f"{expected} outputs")
    if not all(math.isfinite(v) for v in values):
        shown = ", ".join(repr(v) for v in values[:12])
        raise ProtocolError(f"the device answered {command!r} with non-finite results [{shown}]: NaN or inf is "
                            "no score (a broken model, arena or output conversion)")
    return values


def _single(reply_events: list, what: str, command: str):  # type: ignore[no-untyped-def]
    if len(reply_events) != 1:
        raise ProtocolError(f"expected one {what} line in the reply to {command!r}, got {len(reply_events)}")
    return reply_events[0]


@dataclass(frozen=True)
class Staged:
    """An input written to one of the extension's buffers; commands name it by buffer, length and CRC."""

    buffer: int
    length: int
    crc: str

    def words(self) -> str:
        return f"{self.buffer} {self.length} {self.crc}"


class Device:
    """name/profile/load/infer/results/timestamp, each checked against what the protocol promises.

    Over an ExtendedClient the same calls go in CRC-checked frames (loads as binary data frames into
    buffer 0), and `stage`/`start_*`/`finish_*` overlap the next input's download with an inference.
    """

    def __init__(self, client: LegacyClient | ExtendedClient, chunk_bytes: int = 31,
                 outputs: int | None = None) -> None:
        self.client = client
        self.chunk_bytes = chunk_bytes
        self.outputs = outputs  # values each result must hold (None: not known, e.g. `tinyperf flash`)
        self._loaded: Staged | None = None

    def _results(self, reply: Reply, command: str) -> tuple[float, ...]:
        """The outputs, exactly where the device sent them exactly (extension), else as printed."""
        exact = reply.of_type(ExactResults)
        printed = _single(reply.of_type(Results), "m-results", command).values
        values = _single(exact, "m-results-f32", command).values if exact else printed
        if exact and len(values) != len(printed):
            raise ProtocolError(f"the device answered {command!r} with {len(printed)} printed and {len(values)} "
                                "exact results")
        return checked_results(values, self.outputs, command)

    @property
    def extended(self) -> ExtendedClient | None:
        return self.client if isinstance(self.client, ExtendedClient) else None

    @property
    def protocol(self) -> str:
        return "extended" if self.extended else "legacy"

    def identify(self) -> Identity:
        name = _single(self.client.command("name").of_type(Name), "m-name-dut", "name%").text
        reply = self.client.command("profile")
        profile = _single(reply.of_type(Profile), "m-profile", "profile%").text
        model = _single(reply.of_type(ModelId), "m-model", "profile%").text
        return Identity(name, profile, model)

    def timestamp(self) -> int:
        return _single(self.client.command("timestamp").of_type(LapUs), "m-lap-us", "timestamp%").microseconds

    def stage(self, buffer: int, data: bytes, on_chunk: Callable[[int], None] | None = None) -> Staged:
        """Extension only: write `data` into `buffer` (binary frames, CRC-checked, resent when lost)."""
        assert self.extended is not None, "staging into buffers needs the tinyperf extension"
        self.extended.write_buffer(buffer, data, on_chunk)
        return Staged(buffer, len(data), buffer_crc(data))

    def load(self, data: bytes, on_chunk: Callable[[int], None] | None = None) -> None:
        """Fill the device input buffer with `data` (legacy: hex chunks, one command each)."""
        if self.extended is not None:
            self._loaded = self.stage(0, data, on_chunk)
            return
        first, *chunks = load_commands(data, self.chunk_bytes)
        expecting = _single(self.client.command(first).of_type(Expecting), "m-[Expecting N bytes]", first)
        if expecting.nbytes != len(data):
            raise ProtocolError(f"device expects {expecting.nbytes} bytes after {first!r}")
        for i, chunk in enumerate(chunks):
            reply = self.client.command(chunk)
            last = i == len(chunks) - 1
            if bool(reply.of_type(LoadDone)) != last:
                where = "missing after the last chunk" if last else f"early, after chunk {i + 1}/{len(chunks)}"
                raise ProtocolError(f"device's m-load-done came {where} of a {len(data)}-byte load")
            if on_chunk is not None:
                on_chunk((i + 1) * self.chunk_bytes)

    def loaded_ref(self, command: str) -> str:
        """The loaded input's `B LEN CRC`, which extension commands take (tp-infer, tp-profile, tp-duty)."""
        if self._loaded is None:
            raise ProtocolError(f"nothing loaded: load an input before {command} over the extension")
        return self._loaded.words()

    def on_loaded(self, command: str) -> str:
        return f"{command} {self.loaded_ref(command)}"

    def _infer_command(self, count: int, warmup: int) -> str:
        if self.extended is None:
            return f"infer {count} {warmup}"
        return f"{self.on_loaded('tp-infer')} {count} {warmup}"

    def infer(self, count: int, warmup: int, timeout_s: float) -> InferResult:
        command = self._infer_command(count, warmup)
        reply = self.client.command(command, timeout_s)
        return _infer_result(command, reply, count, warmup, self._results(reply, command))

    def start_results_only(self, staged: Staged, timeout_s: float) -> int:
        """One inference whose reply is only its m-results line (fewer bytes back per accuracy sample)."""
        assert self.extended is not None
        return self.extended.start(f"tp-infer {staged.words()} 1 0 results", timeout_s)

    def finish_results_only(self, ticket: int) -> tuple[float, ...]:
        assert self.extended is not None
        reply = self.extended.finish(ticket)
        return self._results(reply, reply.command)

    def start_slide(self, staged: Staged, window: int, stride: int, timeout_s: float) -> int:
        """Device-side sliding windows: one inference per `window` bytes, `stride` apart."""
        assert self.extended is not None
        return self.extended.start(f"tp-slide {staged.words()} {window} {stride}", timeout_s)

    @property
    def streams(self) -> bool:
        """Whether the device can slide over a buffer while it is still filling (`stream` feature)."""
        return self.extended is not None and "stream" in self.extended.caps.features

    def stream_slide(self, buffer: int, data: bytes, window: int, stride: int, timeout_s: float) -> int:
        """The slide command first, then the data: the device runs window i as soon as its bytes are
        in, so a wire-bound file is inferred while it downloads. `timeout_s` is for the inferences;
        the data's wire time (with a margin) is added."""
        assert self.extended is not None
        staged = Staged(buffer, len(data), buffer_crc(data))
        wire_s = 1.5 * len(data) * 10.0 / self.extended.baud
        ticket = self.extended.start(f"tp-slide {staged.words()} {window} {stride} stream", timeout_s + wire_s,
                                     reads_frames=True)
        self.extended.write_buffer(buffer, data)
        return ticket

    def finish_slide(self, ticket: int, expected_windows: int) -> list[tuple[float, ...]]:
        assert self.extended is not None
        reply = self.extended.finish(ticket)
        exact = reply.of_type(ExactResults)
        chosen = exact if exact else reply.of_type(Results)
        values = [checked_results(r.values, self.outputs, reply.command) for r in chosen]
        if len(values) != expected_windows:
            raise ProtocolError(f"{reply.command!r} answered {len(values)} windows, expected {expected_windows}")
        return values

    def infer_energy(self, count: int, warmup: int, timeout_s: float) -> tuple[float, ...]:
        """Energy mode: the timestamps are GPIO edges the monitor sees, so the reply carries no m-lap-us."""
        command = self._infer_command(count, warmup)
        reply = self.client.command(command, timeout_s)
        if reply.of_type(LapUs):
            raise ProtocolError(f"the device answered {command!r} with m-lap-us lines: it is in performance "
                                "mode; energy runs need firmware built for energy mode (timestamp = GPIO edge)")
        if not reply.of_type(InferDone):
            raise ProtocolError(f"reply to {command!r} has no m-infer-done; got {list(reply.lines)[-3:]}")
        return self._results(reply, command)

    def results(self) -> tuple[float, ...]:
        return self._results(self.client.command("results"), "results%")


def _infer_result(command: str, reply: Reply, count: int, warmup: int, values: tuple[float, ...]) -> InferResult:
    laps = reply.of_type(LapUs)
    if len(laps) != 2 or not reply.of_type(InferDone):
        raise ProtocolError(f"reply to {command!r} needs two m-lap-us lines and m-infer-done; "
                            f"got {list(reply.lines)[-4:]}")
    return InferResult(count, warmup, laps[0].microseconds, laps[1].microseconds, values)
