"""The energy monitor (firmware, rates, supply voltage, a few seconds of streaming without a dropped
sample) and the wiring between it and the DUT (the timestamp edge arrives; the DUT lives on the
monitor's supply and nowhere else)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from tinyperf.doctor.findings import Findings
from tinyperf.errors import MonitorError, TinyperfError
from tinyperf.power.monitor import Monitor, MonitorSpec

MIN_FIRMWARE = {"lpm01a": (1, 0, 6)}  # MLPerf Tiny's energy runner needs PowerShield firmware 1.0.6
EDGE_WAIT_S = 2.0
IDLE_CURRENT_MIN_A = 50e-6  # any running MCU draws more; less means the supply feeds nothing
IDLE_WINDOW_S = 0.5
STREAM_GRACE_S = 5.0
BOOT_S = 0.5  # a DUT's boot after its supply comes on


def check_identity(monitor: Monitor, spec: MonitorSpec, findings: Findings) -> bool:
    try:
        facts = monitor.identify()
    except TinyperfError as e:
        findings.fail("monitor", f"{spec.label} does not answer: {e}")
        return False
    said = ", ".join(f"{k} {v!r}" for k, v in facts.items())
    needed = MIN_FIRMWARE.get(spec.kind)
    version = re.search(r"(\d+)\.(\d+)\.(\d+)", facts.get("version", ""))
    if needed and version and tuple(int(v) for v in version.groups()) < needed:
        findings.fail("monitor", f"{spec.label}: firmware {version.group(0)} is older than the "
                                 f"{'.'.join(map(str, needed))} MLPerf Tiny needs: update it with ST's "
                                 "STM32CubeProgrammer (X-NUCLEO-LPM01A firmware package)")
    elif needed and not version:
        findings.warn("monitor", f"{spec.label} answers ({said}) but names no firmware version")
    else:
        findings.ok("monitor", f"{spec.label} answers: {said}")
    return True


def check_setup(spec: MonitorSpec, voltage_v: float, rate_hz: int, findings: Findings) -> bool:
    """The rates it streams and the voltage it will apply, against what a run asks of it."""
    from tinyperf.power.monitor import spec_profile

    profile = spec_profile(spec)
    streamable = [r for r in profile.rates_hz if r <= profile.continuous_max_hz]
    try:
        profile.check_setup(voltage_v, rate_hz)
    except TinyperfError as e:
        findings.fail("monitor", f"setup: {e}")
        return False
    findings.ok("monitor", f"rates: streams continuously at {min(streamable)}..{max(streamable)} Hz; runs use "
                           f"{rate_hz} Hz")
    limits = profile.voltage_v
    findings.ok("monitor", f"supply: will apply {voltage_v:.2f} V to the DUT (the {profile.name} gives "
                           f"{limits.min:g}-{limits.max:g} V)")
    return True


def check_silent_unpowered(probe: Callable[[], bool], findings: Findings) -> bool:
    """Before the supply is switched on: a DUT that answers now is powered from somewhere else."""
    if probe():
        findings.fail("wiring", "power: the DUT answered name% while the monitor's supply was off: it is "
                                "powered from elsewhere (USB or the ST-LINK's 3V3); remove that jumper so only the "
                                "monitor powers it, or energy figures miss what it draws")
        return False
    return True


def check_timestamp_edge(monitor: Monitor, send_timestamp: Callable[[], None], findings: Findings) -> None:
    trace = monitor.trace
    assert trace is not None
    before = len(trace.edges)
    try:
        send_timestamp()
    except TinyperfError as e:
        findings.fail("wiring", f"timestamp: the DUT did not take timestamp%: {e}")
        return
    sent = time.monotonic()
    try:
        monitor.wait_for_edges(before + 1, EDGE_WAIT_S)
    except MonitorError:
        hint = getattr(monitor, "edge_hint", "")
        findings.fail("wiring", f"timestamp: no edge reached the monitor within {EDGE_WAIT_S:g} s of timestamp% "
                                f"({len(trace.edges)} edges in {trace.samples} samples): wire the DUT's timestamp "
                                f"pin to the monitor's timestamp input and share ground ({hint})")
        return
    findings.ok("wiring", f"timestamp: the edge of timestamp% reached the monitor (seen {time.monotonic() - sent:.2f} "
                          f"s later, at sample {trace.edges[before]})")


def check_supply_current(monitor: Monitor, voltage_v: float, findings: Findings) -> None:
    """The DUT idling on the monitor's supply must draw something."""
    trace = monitor.trace
    assert trace is not None
    count = max(1, round(IDLE_WINDOW_S / trace.period_s))
    wanted = trace.samples + count
    deadline = time.monotonic() + IDLE_WINDOW_S + STREAM_GRACE_S
    while trace.samples < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    energies = trace.energies_j[-count:]
    if not len(energies):
        findings.fail("wiring", "supply current: the monitor sent no samples to measure it from")
        return
    current_a = float(energies.mean()) / (voltage_v * trace.period_s)
    if current_a < IDLE_CURRENT_MIN_A:
        findings.fail("wiring", f"supply current: {1e3 * current_a:.3f} mA while the DUT idles at {voltage_v:.2f} V: "
                                "it draws nothing from the monitor (powered from USB?), so energy figures would be "
                                "near zero; power the DUT only from the monitor's output")
    else:
        findings.ok("wiring", f"supply current: {1e3 * current_a:.2f} mA while the DUT idles at {voltage_v:.2f} V")


def check_stream(monitor: Monitor, started: float, seconds: float, findings: Findings) -> None:
    """At least `seconds` of samples since the acquisition `started` (by the monitor's own count), then
    its dropped-sample findings."""
    trace = monitor.trace
    assert trace is not None
    rate = round(1.0 / trace.period_s)
    wanted = round(seconds * rate)
    deadline = time.monotonic() + seconds + STREAM_GRACE_S
    while trace.samples < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    took = time.monotonic() - started
    try:
        monitor.stop()
    except TinyperfError as e:
        findings.warn("monitor", f"stream: stopping the acquisition failed: {e}")
    if trace.gaps:
        findings.fail("monitor", f"stream: dropped samples in {seconds:g} s at {rate} Hz ({len(trace.gaps)} of its "
                                 f"own checks disagree; first: {trace.gaps[0]}): give it a USB port of its own, or "
                                 "lower --monitor-rate")
    elif trace.samples < 0.9 * wanted:
        findings.fail("monitor", f"stream: {trace.samples} of {wanted} samples in {took:.1f} s at {rate} Hz: it "
                                 "cannot keep up at this rate here; lower --monitor-rate")
    else:
        findings.ok("monitor", f"stream: {trace.samples} samples ({trace.samples / rate:.1f} s) at {rate} Hz, none "
                               "dropped")
