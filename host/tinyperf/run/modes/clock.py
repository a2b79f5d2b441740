"""Is the device clock believable? Its count of a command against the host's monotonic clock.

Every figure of performance mode comes from the device's `m-lap-us` stamps, so a clock that is
stopped, counts in the wrong unit, ticks too coarsely for one inference, or jumps back would turn into
an absurd inference count (`infer 10500000 1`: the board computing for an hour) or a division by zero.
A host clock sees the same command from outside: the device cannot have counted much less than the
host waited (the link adds to the host's figure, never to the device's), and a real device cannot have
counted more than the host waited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tinyperf.errors import ProtocolError

#: a device counting less than this share of what the host saw is stopped, not slow (an emulator under
#: instruction counting runs at a fraction of real time, never at a twentieth)
MIN_RATE = 0.05
#: host time before a clock that counted (next to) nothing is judged: below it, link time dominates
JUDGE_AFTER_S = 1.0
#: a real board cannot count more than the host waited; this much slack covers host scheduling
ABOVE_SLACK = 1.05
ABOVE_SLACK_S = 0.05
#: device time calibration must count: a 1 kHz tick is then off by at most a quarter
MIN_CALIBRATION_US = 4000
CALIBRATION_HOST_LIMIT_S = 20.0
#: largest inference count a window may ask for (the command must fit the device's 80 characters anyway)
MAX_COUNT = 100_000_000


T = TypeVar("T")


class DeviceClockError(ProtocolError):
    """The device's timestamps disagree with the host clock beyond what any link explains."""


def check_device_clock(device_s: float, host_s: float, what: str, realtime: bool, clock: str = "device clock",
                       ) -> None:
    """Raise DeviceClockError when `device_s` (the device's count of `what`) cannot be true given that the
    host waited `host_s` for it. `realtime`: the device is real silicon (simulated and emulated boards
    keep virtual time, which may run ahead of the host)."""
    if host_s >= JUDGE_AFTER_S and device_s < MIN_RATE * host_s:
        raise DeviceClockError(
            f"the {clock} looks coarse or stopped: it counted {1e6 * device_s:.0f} us for {what} that took "
            f"{host_s:.2f} s on the host; check the firmware's timestamp timer (it must count microseconds)")
    if realtime and device_s > ABOVE_SLACK * host_s + ABOVE_SLACK_S:
        raise DeviceClockError(
            f"the {clock} runs ahead or jumped: it counted {device_s:.3f} s for {what} that took "
            f"{host_s:.3f} s on the host; check the firmware's timestamp timer and its wrap handling")


def timed(command: Callable[[], T]) -> tuple[T, float]:
    """(what `command` returns, the host's seconds around it)."""
    started = time.monotonic()
    value = command()
    return value, time.monotonic() - started


def calibrate(run: Callable[[int], tuple[float | None, float]], realtime: bool, clock: str = "device clock",
              ) -> tuple[float, int]:
    """Latency per inference in seconds, and the count that measured it. `run(count)` runs `count`
    inferences and returns (the clock's seconds, or None when the run was shorter than the clock can
    resolve; the host's seconds for the same command). Grows the count tenfold until the clock has
    counted MIN_CALIBRATION_US, so a coarse tick cannot make a fast model measure 0 us; a clock that
    never moves ends in DeviceClockError, never in an endless escalation."""
    count = 1
    while True:
        device_s, host_s = run(count)
        if device_s is not None:
            check_device_clock(device_s, host_s, f"{count} inference(s)", realtime, clock)
            if device_s * 1e6 >= MIN_CALIBRATION_US:
                return device_s / count, count
        device_s = device_s or 0.0
        if host_s >= CALIBRATION_HOST_LIMIT_S or count * 10 > MAX_COUNT:
            raise DeviceClockError(
                f"the {clock} looks coarse or stopped: {count} inferences counted {1e6 * device_s:.0f} us "
                f"in {host_s:.2f} s on the host")
        count *= 10


def bounded_count(count: int, what: str) -> int:
    if count > MAX_COUNT:
        raise DeviceClockError(f"{what} would need {count} inferences (more than {MAX_COUNT}): the device clock "
                               "looks coarse or stopped")
    return count
