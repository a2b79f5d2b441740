"""sww01: during a short `play`, the DUT's detection and processing lines must reach the interface
board (an interrupt that never fires, mlcommons/tiny #175, shows here as no edges at all)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from tinyperf.doctor.device_check import Connected
from tinyperf.doctor.findings import Findings
from tinyperf.errors import TinyperfError

if TYPE_CHECKING:
    from tinyperf.doctor.walk import BenchPlan

PLAY_LIMIT_S = 120.0  # the longest file doctor waits for (`play` blocks for the file's length)


def check_sww(plan: BenchPlan, connected: Connected, findings: Findings) -> None:
    from tinyperf.device.link import open_link
    from tinyperf.suite.sww.bench import InterfaceBoard, StreamingDevice, TextPort

    if plan.interface_port is None:
        findings.skip("sww01", "no --interface-board given: the detection and processing lines are not checked")
        return
    with contextlib.ExitStack() as stack:
        try:
            link = stack.enter_context(open_link(plan.interface_port, plan.board.baud))
        except TinyperfError as e:
            findings.fail("sww01", f"cannot open the interface board at {plan.interface_port}: {e}")
            return
        interface = InterfaceBoard(TextPort(link, "interface board", plan.timeout_s))
        device = StreamingDevice(TextPort(connected.client.link, "device", plan.timeout_s))
        try:
            files = [f for f in interface.files() if f.lower().endswith(".wav")]
        except TinyperfError as e:
            findings.fail("sww01", f"the interface board does not list its SD card (ls%): {e}")
            return
        chosen = plan.play or (files[0] if files else None)
        if chosen is None:
            findings.fail("sww01", "the interface board's SD card holds no WAV file: copy the sww01 test files on it")
            return
        try:
            device.stop()
            device.start()
            interface.record_detections()
            interface.play(chosen, PLAY_LIMIT_S)
            device.stop()
            detections = interface.detections_ms()
            starts, stops = interface.dutycycle()
        except TinyperfError as e:
            findings.fail("sww01", f"play {chosen}: {e}")
            return
    if not detections:
        findings.fail("sww01", f"detection line: no pulse during play {chosen} (not even the first frame's marker): "
                               "wire the DUT's WW_DETECTED pin to the interface board and check its interrupt")
    else:
        findings.ok("sww01", f"detection line: {len(detections)} pulse(s) during play {chosen}")
    if not starts or not stops:
        findings.fail("sww01", f"processing line: no edges during play {chosen}: wire the DUT's PROCESSING pin to "
                               "the interface board")
    else:
        busy = sum(b - a for a, b in zip(starts, stops, strict=False))
        findings.ok("sww01", f"processing line: {len(starts)} frames timed ({busy:.2f} s busy)")
