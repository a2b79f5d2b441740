"""A simulated Nordic PPK2 (Power Profiler Kit II) on a pty, fed by the simulated board's power wire.

It speaks the byte protocol `ppk2-api` drives: one-byte opcodes with fixed argument counts
(0x19 metadata, 0x0d regulator mV, 0x11 power mode, 0x0c DUT power, 0x06/0x07 start/stop), metadata
as "key: value" lines ending in "END", and while measuring a 100 kHz stream of 4-byte little-endian
words: ADC (bits 0-13), current range (14-16), a 6-bit sample counter (18-23, as nRF Connect Power
Profiler reads it to detect lost samples) and the 8 digital inputs (24-31). The timestamp GPIO is
wired to D0. Each word holds the mean current of its 10 us period, coded in the lowest range that
fits the board's level, and D0 as sampled at the period's end.
"""

from __future__ import annotations

import sys

import numpy as np

from tinyperf.power.profiles import BoardPowerModel
from tinyperf.sim.instruments.instrument_host import emulator_main
from tinyperf.sim.instruments.timeline import SampleMaker, Timeline

RATE_HZ = 100_000
# shunt resistors per range (ohms), as the metadata reports them; ADC volts per count * 4
RESISTORS = (1031.64, 101.65, 10.15, 0.94, 0.043)
ADC_VOLTS = 1.8 / 163840
ARGUMENT_BYTES = {0x01: 3, 0x02: 1, 0x03: 1, 0x04: 1, 0x05: 0, 0x06: 0, 0x07: 0, 0x08: 1, 0x09: 1, 0x0A: 0,
                  0x0C: 1, 0x0D: 2, 0x0E: 1, 0x0F: 1, 0x11: 1, 0x12: 1, 0x15: 0, 0x16: 0, 0x19: 0, 0x20: 0,
                  0x25: 5}
TIMESTAMP_CHANNEL = 0  # D0


def metadata_text(vdd_mv: int) -> str:
    lines = ["Calibrated: 0"]
    lines += [f"R{i}: {r}" for i, r in enumerate(RESISTORS)]
    lines += [f"GS{i}: 0" for i in range(5)] + [f"GI{i}: 1" for i in range(5)]
    lines += [f"O{i}: 0" for i in range(5)] + [f"S{i}: 0" for i in range(5)] + [f"I{i}: 0" for i in range(5)]
    lines += [f"UG{i}: 1" for i in range(5)]
    lines += [f"VDD: {vdd_mv}", "HW: 9173", "mode: 2", "IA: 56", "SIMULATED: tinyperf", "END"]
    return "\n".join(lines) + "\n"


def encode_samples(current_a: np.ndarray, level_a: np.ndarray, pin_high: np.ndarray, first_counter: int) -> bytes:
    """4-byte words as the PPK2 sends them. The range follows the noiseless level (the instrument's
    auto-ranging reacts to the signal, not to this model's white noise)."""
    ranges = np.full(len(current_a), len(RESISTORS) - 1)
    for index in reversed(range(len(RESISTORS))):
        fits = level_a * 1.5 * RESISTORS[index] / (4 * ADC_VOLTS) < 16383
        ranges = np.where(fits, index, ranges)
    adc = np.clip(np.round(current_a * np.take(RESISTORS, ranges) / (4 * ADC_VOLTS)), 0, 16383).astype(np.uint32)
    counter = (first_counter + np.arange(len(current_a))) % 64
    logic = np.where(pin_high, 0xFF, 0xFF & ~(1 << TIMESTAMP_CHANNEL)).astype(np.uint32)
    words = adc | (ranges.astype(np.uint32) << 14) | (counter.astype(np.uint32) << 18) | (logic << 24)
    return words.astype("<u4").tobytes()


class Ppk2Emulator:
    def __init__(self, power: BoardPowerModel, seed: int = 0) -> None:
        self.power = power
        self.timeline = Timeline()
        self.maker = SampleMaker(self.timeline, power, RATE_HZ, seed)
        self.pending = bytearray()
        self.vdd_mv = 3000
        self.measuring = False

    def feed(self, data: bytes) -> bytes:
        self.pending += data
        out = bytearray()
        while self.pending:
            opcode = self.pending[0]
            size = 1 + ARGUMENT_BYTES.get(opcode, 0)
            if len(self.pending) < size:
                break
            args = bytes(self.pending[1:size])
            del self.pending[:size]
            out += self.produce()
            out += self._command(opcode, args)
        return bytes(out)

    def _command(self, opcode: int, args: bytes) -> bytes:
        if opcode == 0x19:
            return metadata_text(self.vdd_mv).encode()
        if opcode == 0x0D:  # regulator: (b1 - 3) * 256 + b2 - 32 + 800 mV
            self.vdd_mv = (args[0] - 3) * 256 + args[1] - 32 + 800
        elif opcode == 0x0C:
            self.maker.powered = args[0] == 1
        elif opcode == 0x06 and not self.measuring:
            self.measuring = True
            self.maker.start(RATE_HZ)
        elif opcode == 0x07:
            self.measuring = False
        return b""

    def produce(self) -> bytes:
        if not self.measuring:
            return b""
        made = self.maker.make(limit=RATE_HZ)  # at most 1 s of samples per write burst
        if made is None:
            return b""
        level = np.full(len(made.current_a), max(self.power.active_current_a, self.power.idle_current_a))
        words = encode_samples(made.current_a, level, made.pin_high, made.first)
        return words + self.produce()


def main(argv: list[str] | None = None) -> int:
    return emulator_main("python -m tinyperf.sim.instruments.ppk2", __doc__ or "", Ppk2Emulator, "pty", argv)


if __name__ == "__main__":
    sys.exit(main())
