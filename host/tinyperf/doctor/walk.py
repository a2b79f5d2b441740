"""The order an experienced engineer checks a bench in: ports, monitor, the DUT (on its own port, or
powered by the monitor behind the interface board), the wiring between them, then the stream."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

from tinyperf.device.boards import Board
from tinyperf.doctor import device_check, monitor_check, ports_check
from tinyperf.doctor.findings import Findings
from tinyperf.errors import TinyperfError
from tinyperf.power.monitor import MonitorSpec
from tinyperf.sim.board.interface_board import INTERFACE_DUT_BAUD  # the rate an interface board talks to the DUT

OFF_PROBE_S = 1.0


@dataclass
class BenchPlan:
    board: Board
    benchmark: str | None = None  # None: whatever model the device says it runs
    dut_port: str | None = None  # the DUT's own UART (performance/accuracy; sww01's device)
    interface_port: str | None = None  # the enhanced interface board (energy; sww01)
    monitor: MonitorSpec | None = None
    timeout_s: float = 2.0
    clock_s: float = 3.0
    stream_s: float = 3.0
    rate_hz: int | None = None
    models: str = "official"  # or "fallback": the registry reproductions a run with --models fallback uses
    play: str | None = None  # sww01: the SD card's file to play (default: the first listed)
    started: float = 0.0  # when the monitor's acquisition started (host clock)
    # a simulated bench: role -> (port, the device that role is on a real bench, its USB id)
    sim_roles: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    @property
    def energy(self) -> bool:
        return self.interface_port is not None and self.dut_port is None


def walk(plan: BenchPlan, findings: Findings) -> Findings:
    with contextlib.ExitStack() as stack:
        _ports(plan, findings)
        voltage = _voltage(plan)
        monitor = _monitor(plan, voltage, stack, findings)
        connected = None
        if plan.energy:
            connected = _energy_device(plan, monitor, stack, findings)
        else:
            if monitor is not None:
                _start(monitor, plan)
            if plan.dut_port is not None:
                connected = device_check.find_device(plan.dut_port, plan.board, plan.timeout_s, stack, findings)
        benchmark = plan.benchmark
        if connected is not None:
            benchmark = device_check.check_model(connected, plan.benchmark, plan.models, findings)
            if benchmark == "sww01":
                from tinyperf.doctor.sww_check import check_sww

                check_sww(plan, connected, findings)
            elif not connected.passthrough:
                device_check.check_clock(connected, plan.clock_s, findings,
                                         virtual_time=plan.board.simulated and not plan.sim_roles)
            else:
                findings.skip("device", "clock: energy-mode firmware prints no m-lap-us (the monitor times energy "
                                        "runs); run doctor on the performance-mode firmware to check it")
            if benchmark and benchmark != "sww01":
                device_check.check_inference(connected, benchmark, plan.models, findings)
        if monitor is not None and monitor.trace is not None:
            if connected is not None and connected.passthrough:
                monitor_check.check_timestamp_edge(monitor, lambda: connected.client.command("timestamp"), findings)
                monitor_check.check_supply_current(monitor, voltage, findings)
            monitor_check.check_stream(monitor, plan.started, plan.stream_s, findings)
        _not_checked(plan, findings)
    return findings


def _ports(plan: BenchPlan, findings: Findings) -> None:
    if plan.sim_roles:
        ports_check.check_bench_ports(plan.sim_roles, findings)
        return
    from serial.tools import list_ports

    from tinyperf.device.ports import list_serial_ports

    serials = {p.device: p.serial_number or "" for p in list_ports.comports()}

    def probe(port: str) -> str | None:
        with contextlib.ExitStack() as stack:
            quiet = Findings()
            connected = device_check.find_device(port, plan.board, min(plan.timeout_s, 1.0), stack, quiet)
            return connected.identity.name if connected else None

    ports_check.check_usb_ports(list_serial_ports(), serials, probe, findings)


def _voltage(plan: BenchPlan) -> float:
    from tinyperf.power.profiles import supply_voltage

    return supply_voltage(plan.board.id)


def _monitor(plan: BenchPlan, voltage: float, stack: contextlib.ExitStack,  # type: ignore[no-untyped-def]
             findings: Findings):
    """Open and identify the monitor, check its setup and configure it (its supply stays off)."""
    if plan.monitor is None:
        findings.skip("monitor", "no --monitor given: monitor and wiring checks skipped")
        return None
    from tinyperf.power.monitor import default_rate_hz, open_monitor

    spec = plan.monitor
    try:
        monitor = open_monitor(spec, plan.board.id, stack)
    except TinyperfError as e:
        findings.fail("monitor", f"cannot open {spec.label}: {e}")
        return None
    if not monitor_check.check_identity(monitor, spec, findings):
        return None
    rate = plan.rate_hz or default_rate_hz(spec)
    if not monitor_check.check_setup(spec, voltage, rate, findings):
        return None
    try:
        monitor.configure(voltage, rate)
    except TinyperfError as e:
        findings.fail("monitor", f"configure: {e}")
        return None
    return monitor


def _start(monitor, plan: BenchPlan) -> None:  # type: ignore[no-untyped-def]
    monitor.power_on()
    monitor.start()
    plan.started = time.monotonic()


def _energy_device(plan: BenchPlan, monitor, stack: contextlib.ExitStack,  # type: ignore[no-untyped-def]
                   findings: Findings) -> device_check.Connected | None:
    """Energy mode: the DUT must be silent with the supply off and answer once the monitor powers it."""
    assert plan.interface_port is not None
    powered_elsewhere = False
    if monitor is not None:
        def answers_unpowered() -> bool:
            with contextlib.ExitStack() as probe_stack:
                quiet = Findings()
                return device_check.find_device_behind(plan.interface_port, plan.board, INTERFACE_DUT_BAUD, OFF_PROBE_S,
                                                       probe_stack, quiet) is not None
        powered_elsewhere = not monitor_check.check_silent_unpowered(answers_unpowered, findings)
        _start(monitor, plan)
        time.sleep(monitor_check.BOOT_S)
    connected = device_check.find_device_behind(plan.interface_port, plan.board, INTERFACE_DUT_BAUD, plan.timeout_s,
                                                stack, findings)
    if monitor is not None and connected is not None and not powered_elsewhere:
        findings.ok("wiring", "power: the DUT is silent with the monitor's supply off and answers with it on")
    return connected


def _not_checked(plan: BenchPlan, findings: Findings) -> None:
    if plan.dut_port is None and plan.interface_port is None:
        usb = ", ".join(plan.board.usb_ids) or "USB id unknown"
        findings.fail("device", f"no --port given and no {plan.board.name} ({usb}) found on USB: connect it or pass "
                                "--port (`tinyperf doctor --board sim-nucleo-l4r5zi` checks the simulated bench)")
