"""Which serial port is which: USB identity (VID:PID and serial number), a `name%` probe where two
ports look alike (two ST-LINKs share 0483:374B), and whether another program holds a port."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from tinyperf.device.ports import PortInfo
from tinyperf.doctor.findings import Findings
from tinyperf.errors import LinkError

PROC_SCAN_LIMIT = 4096  # processes looked at when naming who holds a port


def holders(device: str, proc: Path = Path("/proc")) -> list[str]:
    """'name (pid N)' of each other process with `device` open (Linux /proc; empty elsewhere)."""
    try:
        target = os.path.realpath(device)
        pids = [p for p in os.listdir(proc) if p.isdigit()][:PROC_SCAN_LIMIT]
    except OSError:
        return []
    found = []
    for pid in pids:
        if int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(proc / pid / "fd")
            if any(os.path.realpath(proc / pid / "fd" / fd) == target for fd in fds):
                name = (proc / pid / "comm").read_text(encoding="utf-8", errors="replace").strip()
                found.append(f"{name} (pid {pid})")
        except OSError:
            continue  # gone, or not ours to look at
    return found


def busy(device: str) -> str | None:
    """Why `device` cannot be opened exclusively (as tinyperf opens a board), or None when it can."""
    from tinyperf.device.link.serial_link import open_link

    try:
        open_link(device, 9600).close()
    except LinkError as e:
        return str(e)
    return None


def check_usb_ports(ports: list[PortInfo], serials: dict[str, str], probe: Callable[[str], str | None],
                    findings: Findings) -> None:
    """One line per port that looks like a board, monitor or interface board; alike ones are probed."""
    known = [p for p in ports if p.looks_like]
    if not ports:
        findings.warn("ports", "no serial ports found: connect the board (and monitor) over USB, or pass "
                               "--port / --interface-board / --monitor")
        return
    if not known:
        findings.warn("ports", f"{len(ports)} serial port(s), none with a known USB id (VID:PID): "
                               + ", ".join(f"{p.device} ({p.usb_id or 'no USB id'})" for p in ports))
    alike: dict[str, list[PortInfo]] = defaultdict(list)
    for port in known:
        alike[port.usb_id or ""].append(port)
    for usb_id, group in alike.items():
        for port in group:
            serial = serials.get(port.device, "")
            said = f"{port.device}: USB {usb_id} ({port.looks_like})" + (f", serial {serial}" if serial else "")
            held = busy(port.device)
            if held:
                who = holders(port.device)
                findings.fail("ports", f"{said} is busy ({'held by ' + ', '.join(who) if who else held}): close "
                                       "the program that holds it before a run")
                continue
            if len(group) > 1:
                answer = probe(port.device)
                said += f", answers name% as {answer!r}" if answer else ", does not answer name%"
                findings.warn("ports", f"{said}: {len(group)} ports share this USB id; pass the one you mean with "
                                       "--port (the serial number tells them apart)")
                continue
            findings.ok("ports", said)


def check_bench_ports(roles: dict[str, tuple[str, str, str]], findings: Findings) -> None:
    """A simulated bench: each role's pty, and the device and USB id that role has on a real bench."""
    for role, (port, name, usb_id) in roles.items():
        held = busy(port)
        label = f"{port}: {role}, simulated {name} (USB {usb_id} on a real bench)"
        if held:
            findings.fail("ports", f"{label} is busy ({held})")
        else:
            findings.ok("ports", label)
