"""Faults a simulated bench can be started with, so `tinyperf doctor` (or any runner) meets the mistakes
real benches are built with: each is a wiring or firmware error users of the official runners report.

The board process and the monitor process each take the faults that concern their side; a fault that
concerns both (a USB-powered DUT) is given to both. The monitor also tells the board whether its supply
is on, through a small file beside the power wire, as the supply rail does on a bench.
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.errors import ConfigError

BENCH_FAULTS: dict[str, str] = {
    "no-timestamp-wire": "the DUT's timestamp pin is not wired to the monitor's D7 input (no edges arrive)",
    "usb-powered": "the DUT is powered from its USB port: the monitor's supply carries no current, and "
                   "switching it off does not stop the DUT",
    "stopped-clock": "the firmware's microsecond timer does not run (every m-lap-us is the same)",
    "slow-baud": "the firmware's UART runs slower than the bench expects (9600 baud instead of the board's "
                 "rate; 4800 behind the interface board instead of 9600)",
    "monitor-drops": "the monitor drops samples while it streams (its TimeStamp lines count more than it sent)",
    "old-monitor-firmware": "the LPM01A runs firmware 1.0.4 (MLPerf Tiny needs 1.0.6 or later)",
}
BOARD_FAULTS = frozenset({"no-timestamp-wire", "usb-powered", "stopped-clock", "slow-baud"})
MONITOR_FAULTS = frozenset({"usb-powered", "monitor-drops", "old-monitor-firmware"})
SLOW_BAUD = 9600
SLOW_INTERFACE_BAUD = 4800


def check_faults(faults: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [f for f in faults if f not in BENCH_FAULTS]
    if unknown:
        raise ConfigError(f"unknown bench fault {unknown[0]!r}; known: {', '.join(BENCH_FAULTS)}")
    return tuple(dict.fromkeys(faults))


def supply_path(wire: Path) -> Path:
    """Where the simulated monitor writes whether its supply output is on ("on"/"off")."""
    return wire.with_suffix(".supply")


def write_supply(wire: Path, on: bool) -> None:
    path = supply_path(wire)
    temporary = path.with_suffix(".supply-new")
    temporary.write_text("on" if on else "off", encoding="ascii")
    temporary.replace(path)  # atomic: the board never reads half a word


def supply_off(wire: Path) -> bool:
    """True only after the monitor switched its supply off: before any `pwr` command the DUT runs (as
    when a previous run left the supply on), so tools that power the DUT late still find it."""
    try:
        return supply_path(wire).read_text(encoding="ascii") == "off"
    except OSError:
        return False
