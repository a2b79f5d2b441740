"""The device under test, spoken to only through the legacy protocol client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tinyperf.errors import ProtocolError
from tinyperf.protocol.client import LegacyClient
from tinyperf.protocol.legacy import (
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


def _single(reply_events: list, what: str, command: str):  # type: ignore[no-untyped-def]
    if len(reply_events) != 1:
        raise ProtocolError(f"expected one {what} line in the reply to {command!r}, got {len(reply_events)}")
    return reply_events[0]


class Device:
    """name/profile/load/infer/results/timestamp, each checked against what the protocol promises."""

    def __init__(self, client: LegacyClient, chunk_bytes: int = 31) -> None:
        self.client = client
        self.chunk_bytes = chunk_bytes

    def identify(self) -> Identity:
        name = _single(self.client.command("name").of_type(Name), "m-name-dut", "name%").text
        reply = self.client.command("profile")
        profile = _single(reply.of_type(Profile), "m-profile", "profile%").text
        model = _single(reply.of_type(ModelId), "m-model", "profile%").text
        return Identity(name, profile, model)

    def timestamp(self) -> int:
        return _single(self.client.command("timestamp").of_type(LapUs), "m-lap-us", "timestamp%").microseconds

    def load(self, data: bytes, on_chunk: Callable[[int], None] | None = None) -> None:
        """Fill the device input buffer with `data` (hex chunks, one command each)."""
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

    def infer(self, count: int, warmup: int, timeout_s: float) -> InferResult:
        command = f"infer {count} {warmup}"
        reply = self.client.command(command, timeout_s)
        laps = reply.of_type(LapUs)
        if len(laps) != 2 or not reply.of_type(InferDone):
            raise ProtocolError(
                f"reply to {command!r} needs two m-lap-us lines and m-infer-done; got {list(reply.lines)}"
            )
        results = _single(reply.of_type(Results), "m-results", command)
        return InferResult(count, warmup, laps[0].microseconds, laps[1].microseconds, results.values)

    def infer_energy(self, count: int, warmup: int, timeout_s: float) -> tuple[float, ...]:
        """Energy mode: the timestamps are GPIO edges the monitor sees, so the reply carries no m-lap-us."""
        command = f"infer {count} {warmup}"
        reply = self.client.command(command, timeout_s)
        if reply.of_type(LapUs):
            raise ProtocolError(f"the device answered {command!r} with m-lap-us lines: it is in performance "
                                "mode; energy runs need firmware built for energy mode (timestamp = GPIO edge)")
        if not reply.of_type(InferDone):
            raise ProtocolError(f"reply to {command!r} has no m-infer-done; got {list(reply.lines)}")
        return _single(reply.of_type(Results), "m-results", command).values

    def results(self) -> tuple[float, ...]:
        return _single(self.client.command("results").of_type(Results), "m-results", "results%").values
