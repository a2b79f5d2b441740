"""Opening a device over a link, choosing the protocol, and getting it back after a fault.

`open()` asks for the tinyperf extension (legacy firmware refuses `tp-caps%` and the run stays
legacy) and optionally switches to a faster baud rate with a fallback. `recover()` resets the board
where it can (simulated board reset line, flasher reset), re-syncs with `name%` and negotiates again,
so a mode continues from the sample it was on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tinyperf.device.dut import Device
from tinyperf.device.link.base import Link
from tinyperf.device.protocol.client import LegacyClient
from tinyperf.device.protocol.extended import BAUD_CONFIRM_S, Capabilities, ExtendedClient, LinkStats, negotiate
from tinyperf.errors import ConfigError, DeviceUnresponsive, LinkError, ProtocolError
from tinyperf.run.modes import Journal

Protocol = Literal["auto", "legacy", "extended"]
RESYNC_TRIES = 3
RESYNC_TIMEOUT_S = 2.0
PROBE_TIMEOUT_S = 0.2


@dataclass(frozen=True)
class ConnectionSettings:
    baud: int  # the rate the device boots at
    protocol: Protocol = "auto"
    fast_baud: int | None = None  # extension only: switch to this rate after negotiating
    timeout_s: float = 5.0
    passthrough: bool = False  # through an energy-mode interface board: legacy only
    outputs: int | None = None  # values each result vector must hold (the model's output spec)


class Connection:
    """One device on one link; `device` is always the current, usable Device."""

    def __init__(self, link: Link, settings: ConnectionSettings, reset: Callable[[], None] | None = None,
                 journal: Journal = lambda record: None) -> None:
        if settings.passthrough and settings.protocol == "extended":
            raise ConfigError("--protocol extended cannot pass through an interface board (it relays text only)")
        self.link = link
        self.settings = settings
        self.reset = reset
        self.journal = journal
        self.baud = settings.baud
        self.caps: Capabilities | None = None
        self.recoveries = 0
        self.device: Device | None = None
        self.stats = LinkStats()  # extension frame counts over the whole run, reconnects included

    def open(self) -> Device:
        legacy = LegacyClient(self.link, self.settings.timeout_s, passthrough=self.settings.passthrough)
        legacy.drain()
        self.device = self._choose_protocol(legacy)
        return self.device

    def _choose_protocol(self, legacy: LegacyClient) -> Device:
        if self.settings.protocol == "legacy" or self.settings.passthrough:
            return Device(legacy, outputs=self.settings.outputs)
        try:
            self.caps = negotiate(legacy)
        except ProtocolError as e:  # a garbled caps reply (a noisy link): ask once more before giving up
            self.journal({"event": "negotiate-retry", "error": str(e)})
            legacy.drain(quiet_s=0.3, limit_s=2.0)
            self.caps = negotiate(legacy)
        if self.caps is None:
            if self.settings.protocol == "extended":
                raise ConfigError("the device does not offer the tinyperf extension (it answered tp-caps% as an "
                                  "unknown command); use --protocol auto or legacy")
            self.journal({"event": "protocol", "protocol": "legacy", "why": "device answered tp-caps% unknown"})
            return Device(legacy, outputs=self.settings.outputs)
        client = ExtendedClient(self.link, self.caps, self.baud, self.settings.timeout_s, self.stats)
        self.journal({"event": "protocol", "protocol": "extended", "caps": repr(self.caps)})
        if self.settings.fast_baud and self.settings.fast_baud != self.baud:
            self._switch_baud(client, self.settings.fast_baud)
        return Device(client, outputs=self.settings.outputs)

    def _set_baud(self, client: ExtendedClient | None, baud: int) -> None:
        self.link.set_baud(baud)
        if client is not None:
            client.set_baud(baud)
        self.baud = baud

    def _switch_baud(self, client: ExtendedClient, rate: int) -> None:
        """`tp-baud R`, then both ends move; a probe that fails at R sends both back to the old rate."""
        assert self.caps is not None
        if rate not in self.caps.bauds:
            raise ConfigError(f"the device cannot switch to {rate} baud; it offers {list(self.caps.bauds)}")
        old = self.baud
        client.command(f"tp-baud {rate}")
        switched = time.monotonic()
        self._set_baud(client, rate)
        try:
            client.command("tp-caps", PROBE_TIMEOUT_S)
            self.journal({"event": "baud", "baud": rate})
            return
        except (LinkError, ProtocolError) as e:
            self.journal({"event": "baud-fallback", "tried": rate, "back_to": old, "error": str(e)})
        client.abandon()
        self._set_baud(client, old)
        time.sleep(max(0.0, switched + BAUD_CONFIRM_S * 1.2 - time.monotonic()))  # the device falls back too
        client.command("tp-caps")

    def recover(self, error: Exception) -> Device:
        """Reset (where possible), re-sync by `name%`, negotiate again; raises if the device stays silent.

        Each of RESYNC_TRIES attempts does all three, so a fault that hits the recovery itself (a lost
        `tp-caps%`, a corrupted reply) costs one more attempt, not the run.
        """
        self.recoveries += 1
        self.journal({"event": "recover", "error": str(error), "reset": self.reset is not None})
        last: Exception = error
        for _ in range(RESYNC_TRIES):
            if self.reset is not None:
                self.reset()
            if self.baud != self.settings.baud:
                self._set_baud(None, self.settings.baud)  # a reset device boots at its default rate
            legacy = LegacyClient(self.link, RESYNC_TIMEOUT_S, passthrough=self.settings.passthrough)
            legacy.drain(quiet_s=0.3, limit_s=3.0)
            try:
                legacy.command("name")
                self.device = self._choose_protocol(LegacyClient(self.link, self.settings.timeout_s,
                                                                 passthrough=self.settings.passthrough))
                return self.device
            except (LinkError, ProtocolError) as e:
                last = e
                self.journal({"event": "recover-retry", "error": str(e)})
        hint = "" if self.reset is not None else " (no reset line for this board: power-cycle it)"
        raise DeviceUnresponsive(f"'name%' after {error}{hint}; last: {last}", RESYNC_TRIES, RESYNC_TIMEOUT_S)
