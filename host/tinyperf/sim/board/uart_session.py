"""The device's side of one byte stream, whatever carries it (pty or TCP): commands split at '%',
answered by the device (or relayed by the simulated interface board), paced at the UART's baud rate."""

from __future__ import annotations

from pathlib import Path

from tinyperf.device.protocol.legacy import take_frames
from tinyperf.sim.bench_faults import supply_off
from tinyperf.sim.board.device import SimDevice
from tinyperf.sim.board.extension import ExtendedDevice
from tinyperf.sim.board.interface_board import InterfaceBoard


class CommandFramer:
    """Splits the incoming byte stream at '%' into commands."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._pending.extend(data)
        return [frame.decode("latin-1") for frame in take_frames(self._pending, b"%")]


class DeviceSession:
    """Feeds one byte stream to the device and paces replies at the board's baud rate.

    With `interface_baud`, the stream comes through a simulated enhanced interface board
    (sim/board/interface_board.py), which relays `dut <cmd>%` to a device whose UART runs at `interface_baud`.
    """

    def __init__(self, device: SimDevice, baud: int, interface_baud: int | None = None,
                 extension: ExtendedDevice | None = None, sd_card: Path | None = None,
                 device_baud: int | None = None, supply_wire: Path | None = None) -> None:
        self.device = device
        self.baud = baud
        self.seconds_per_byte = 10.0 / baud  # 8N1: start + 8 data + stop bits
        self.device_baud = device_baud or interface_baud  # the firmware's UART rate behind the interface board
        self.supply_wire = supply_wire  # energy mode: the monitor's supply powers the device
        self.unpowered = False
        self.interface = (InterfaceBoard(self._relay, device.clock.spend, sd_card, dut_baud=interface_baud)
                          if interface_baud else None)
        self.handle = extension.handle_text if extension is not None else device.handle
        self.framer = CommandFramer()

    def account_incoming(self, nbytes: int) -> None:
        """Wire time of bytes the host sent (the pty board paces them in its receiver instead)."""
        self.device.clock.spend(nbytes * self.seconds_per_byte)

    def on_bytes(self, data: bytes) -> bytes:
        out = bytearray()
        for command in self.framer.feed(data):
            reply = self.interface.handle(command) if self.interface else self.handle(command)
            self.device.clock.spend(len(reply) * self.seconds_per_byte)
            out.extend(reply)
        self.device.tell_time()
        return bytes(out)

    def _relay(self, command: str) -> bytes:
        """The interface board's UART to the device: at a rate the device does not run at, the device
        hears noise and never answers (the real board then waits for ever; we send nothing)."""
        assert self.interface is not None and self.device_baud is not None
        if self.supply_wire is not None and supply_off(self.supply_wire):
            self.unpowered = True  # a device without power hears nothing and says nothing
            return b""
        if self.unpowered:  # powered again: it boots afresh (the banner goes to the interface board)
            self.unpowered = False
            self.device.reset()
        if self.interface.dut_baud != self.device_baud:
            return b""
        seconds_per_byte = 10.0 / self.device_baud
        self.device.clock.spend((len(command) + 1) * seconds_per_byte)
        reply = self.device.handle(command)
        self.device.clock.spend(len(reply) * seconds_per_byte)
        return reply

    def on_idle(self, seconds: float) -> None:
        self.device.clock.idle(seconds)
        self.device.tell_time()
