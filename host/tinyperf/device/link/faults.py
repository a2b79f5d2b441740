"""A fault injector between the runner and its link: drop, corrupt, duplicate or delay what is
written, corrupt what is read, and hang or reset the device, each with a seeded probability per
write. Tests and benchmarks drive the recovery paths with it; nothing is faked about the device.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, fields
from typing import Protocol

from tinyperf.deadline import Deadline
from tinyperf.device.link.base import Link
from tinyperf.errors import ConfigError


class DeviceControl(Protocol):
    """What a fault injector can do to a device besides its wire (a simulated board offers both)."""

    def hang(self) -> None: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class FaultPlan:
    """Probabilities per write (`corrupt` also per read), and the seed that makes a run repeatable."""

    drop: float = 0.0
    corrupt: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    delay_s: float = 0.05
    hang: float = 0.0
    reset: float = 0.0
    seed: int = 0
    hang_at: int = 0  # also hang the device on exactly this write (1-based; 0: never), for a fault a test can count on

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        """`corrupt=0.01,hang=0.002,seed=3`: unknown names and bad numbers are refused by name."""
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, float | int] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, value = item.partition("=")
            if name not in known:
                raise ConfigError(f"fault plan {text!r}: unknown fault {name!r}; known: {', '.join(known)}")
            try:
                values[name] = int(value) if name in ("seed", "hang_at") else float(value)
            except ValueError:
                raise ConfigError(f"fault plan {text!r}: {name} needs a number, got {value!r}") from None
            if name not in ("seed", "delay_s", "hang_at") and not 0.0 <= values[name] <= 1.0:
                raise ConfigError(f"fault plan {text!r}: {name} is a probability, 0..1")
        return cls(**values)  # type: ignore[arg-type]

    def describe(self) -> str:
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name))


class FaultLink(Link):
    """Wraps a link; `injected` counts every fault it caused, by kind."""

    def __init__(self, inner: Link, plan: FaultPlan, device: DeviceControl | None = None) -> None:
        if (plan.hang or plan.reset or plan.hang_at) and device is None:
            raise ConfigError("hang and reset faults need a device that can be hung and reset (a simulated board)")
        self._inner = inner
        self.url = inner.url
        self.plan = plan
        self.device = device
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(plan.seed)
        self._writes = 0

    def _happens(self, probability: float) -> bool:
        return probability > 0 and self._rng.random() < probability

    def _corrupted(self, data: bytes) -> bytes:
        spoiled = bytearray(data)
        spoiled[self._rng.randrange(len(spoiled))] ^= self._rng.randrange(1, 256)
        return bytes(spoiled)

    def write(self, data: bytes) -> None:
        self._writes += 1
        if self.device is not None and self._happens(self.plan.reset):
            self.injected["reset"] += 1
            self.device.reset()
        if self.device is not None and (self._happens(self.plan.hang) or self._writes == self.plan.hang_at):
            self.injected["hang"] += 1
            self.device.hang()
        if self._happens(self.plan.drop):
            self.injected["drop"] += 1
            return
        if data and self._happens(self.plan.corrupt):
            self.injected["corrupt"] += 1
            data = self._corrupted(data)
        if self._happens(self.plan.delay):
            self.injected["delay"] += 1
            time.sleep(self.plan.delay_s)
        self._inner.write(data)
        if self._happens(self.plan.duplicate):
            self.injected["duplicate"] += 1
            self._inner.write(data)

    def read_some(self, deadline: Deadline) -> bytes:
        data = self._inner.read_some(deadline)
        if data and self._happens(self.plan.corrupt):
            self.injected["corrupt-read"] += 1
            data = self._corrupted(data)
        return data

    def set_baud(self, baud: int) -> None:
        self._inner.set_baud(baud)

    def close(self) -> None:
        self._inner.close()
