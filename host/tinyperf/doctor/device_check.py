"""The device: does it answer, at which baud, which model does it run, does its clock count true
microseconds, and does `infer 1 0` on a known input give what TFLM's own interpreter gives?"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from dataclasses import dataclass

from tinyperf.device.boards import Board
from tinyperf.device.dut import LAP_US_WRAP, Device, Identity
from tinyperf.device.protocol.client import LegacyClient
from tinyperf.doctor.findings import Findings
from tinyperf.errors import LinkError, TinyperfError

COMMON_BAUDS = (115200, 9600, 921600, 460800, 230400, 57600, 38400, 19200)
CLOCK_SAMPLES = 8
CLOCK_TOLERANCE = 0.03  # a crystal or a calibrated RC oscillator is well within 3 %
COARSE_TICK_US = 1000  # a clock stepping in milliseconds cannot time a 1 ms inference
RESULT_TOLERANCE = 0.0011  # printed with three decimals (KWS truncates): at most 0.001 from the truth
INFER_TIMEOUT_S = 60.0


def chosen_model(benchmark: str, source: str):  # type: ignore[no-untyped-def]
    """(entry, resolved model) as a run with `--models source` would use them."""
    from tinyperf.suite.models import fallback_entry, get_entry, resolve_model

    if source == "fallback":
        from tinyperf.suite.fallback_models import resolve_fallback

        return fallback_entry(benchmark), resolve_fallback(benchmark)
    return get_entry(benchmark), resolve_model(benchmark)


@dataclass
class Connected:
    """A device that answered: its client (plain, or through the interface board) and what it said."""

    client: LegacyClient
    identity: Identity
    baud: int
    passthrough: bool

    @property
    def device(self) -> Device:
        return Device(self.client)


def _identify(client: LegacyClient) -> Identity:
    client.drain(quiet_s=0.1, limit_s=0.5)
    return Device(client).identify()


def find_device(url: str, board: Board, timeout_s: float, stack: contextlib.ExitStack,
                findings: Findings) -> Connected | None:
    """`name%` and `profile%` at the board's rate, then at the other common rates."""
    from tinyperf.device.link import open_link

    tried = []
    for baud in dict.fromkeys((board.baud, *COMMON_BAUDS)):
        tried.append(baud)
        try:
            link = open_link(url, baud)
        except LinkError as e:
            findings.fail("device", f"cannot open {url}: {e}")
            return None
        started = time.monotonic()
        client = LegacyClient(link, timeout_s)
        try:
            identity = _identify(client)
        except TinyperfError:
            link.close()
            continue
        took = time.monotonic() - started
        stack.callback(link.close)
        said = (f"name {identity.name!r}, firmware {identity.profile!r}, model {identity.model}")
        if baud == board.baud:
            findings.ok("device", f"answers name% and profile% at {baud} baud (the board's rate) in {took:.2f} s: "
                                  f"{said}")
        else:
            findings.fail("device", f"answers only at {baud} baud, not at the board's {board.baud}: build the "
                                    f"firmware's UART for {board.baud} baud, or run with --baud {baud} ({said})")
        return Connected(client, identity, baud, passthrough=False)
    findings.fail("device", f"no answer to name% within {timeout_s:g} s at {', '.join(map(str, tried))} baud: is "
                            f"the firmware flashed and running, and is {url} its port?")
    return None


def find_device_behind(url: str, board: Board, device_baud: int, timeout_s: float, stack: contextlib.ExitStack,
                       findings: Findings) -> Connected | None:
    """Energy mode: the device answers only through the interface board (`dut name%`)."""
    from tinyperf.device.link import open_link

    try:
        link = open_link(url, board.baud)
    except LinkError as e:
        findings.fail("device", f"cannot open the interface board at {url}: {e}")
        return None
    stack.callback(link.close)
    client = LegacyClient(link, timeout_s, passthrough=True)
    try:
        identity = _identify(client)
    except TinyperfError:
        board_name = interface_name(link, timeout_s)
        if board_name is None:
            findings.fail("device", f"the interface board at {url} does not answer name% at {board.baud} baud: is "
                                    "it flashed with the enhanced interface firmware, and is this its port?")
        else:
            findings.fail("wiring", f"pass-through: the interface board ({board_name!r}) answers, the DUT behind "
                                    f"it does not (dut name% at {device_baud} baud, {timeout_s:g} s): check the "
                                    f"UART wires between them and that the energy-mode firmware's UART runs at "
                                    f"{device_baud} baud")
        return None
    findings.ok("device", f"answers name% and profile% through the interface board: name {identity.name!r}, "
                          f"firmware {identity.profile!r}, model {identity.model}")
    findings.ok("wiring", f"pass-through: the interface board relays to the DUT at {device_baud} baud")
    return Connected(client, identity, device_baud, passthrough=True)


def interface_name(link: object, timeout_s: float) -> str | None:
    client = LegacyClient(link, timeout_s)  # type: ignore[arg-type]
    try:
        lines = client.command("name").lines
    except TinyperfError:
        return None
    return next((line.strip() for line in lines if line.strip()), "")


def check_model(connected: Connected, expected: str | None, source: str, findings: Findings) -> str | None:
    """The model the firmware says it runs, against the one tinyperf would use; returns the benchmark."""
    from tinyperf.device.protocol.extended import negotiate
    from tinyperf.suite.models import load_manifest

    known = list(load_manifest().models)
    said = connected.identity.model
    if expected and said != expected:
        findings.fail("device", f"model: the firmware runs {said!r} (m-model), not {expected}: flash the {expected} "
                                f"firmware (tinyperf flash --benchmark {expected})")
        return None
    if said not in known:
        findings.fail("device", f"model: the firmware names {said!r}, which is no MLPerf Tiny benchmark "
                                f"({', '.join(known)})")
        return None
    try:
        _, model = chosen_model(said, source)
    except TinyperfError as e:
        findings.warn("device", f"model: {said} (m-model), but tinyperf cannot find that model here: {e}")
        return said
    caps = None
    if not connected.passthrough:
        with contextlib.suppress(TinyperfError):
            caps = negotiate(connected.client)
    told = getattr(caps, "model_sha256", "") if caps else ""
    where = f"the {'official' if model.official else 'fallback'} {said} model, sha256 {model.sha256[:16]}"
    if told and not model.sha256.startswith(told):
        findings.fail("device", f"model: the firmware's {said} model has sha256 {told}, tinyperf would use {where}: "
                                "rebuild the firmware with that model, or run with --model")
    elif told:
        findings.ok("device", f"model: {said}, the very file tinyperf would use ({where})")
    else:
        findings.ok("device", f"model: {said} (m-model) as tinyperf expects ({where}); this firmware does not tell "
                              "its model's sha256, so the file itself is not compared")
    return said


VIRTUAL_TIME_NOTE = (" (expected of a simulated board keeping virtual time: `tinyperf sim --pacing virtual`; a --bench "
                     "or --pacing realtime counts real time)")


def check_clock(connected: Connected, seconds: float, findings: Findings, virtual_time: bool = False) -> None:
    """`timestamp%` a few times over `seconds`: its microseconds against the host's monotonic clock.
    `virtual_time`: a simulated board that may keep virtual time, where a clock off the host's is expected
    (a warning that says so, not a failure)."""
    good, text = _clock_verdict(connected.device, seconds)
    if good:
        findings.ok("device", text)
    elif virtual_time:
        findings.warn("device", text + VIRTUAL_TIME_NOTE)
    else:
        findings.fail("device", text)


def _clock_verdict(device: Device, seconds: float) -> tuple[bool, str]:
    """(whether the clock is believable, the line that says so or what is wrong)."""
    stamps: list[tuple[float, int, float]] = []  # (host mid-point, m-lap-us, round trip)
    pause = seconds / (CLOCK_SAMPLES - 1)
    anchor = 0.0  # the end of the first sample's round trip: the last starts `seconds` after it
    try:
        for index in range(CLOCK_SAMPLES):
            # each sample at its own time from the anchor (a late one does not push all after it), so both
            # clocks are compared over at least `seconds`
            time.sleep(max(0.0, anchor + index * pause - time.monotonic()))
            before = time.monotonic()
            lap = device.timestamp()
            after = time.monotonic()
            stamps.append(((before + after) / 2, lap, after - before))
            anchor = anchor or after
    except TinyperfError as e:
        return False, f"clock: timestamp% failed: {e}"
    steps = [(b[1] - a[1]) % LAP_US_WRAP for a, b in itertools.pairwise(stamps)]
    host_steps = [b[0] - a[0] for a, b in itertools.pairwise(stamps)]
    host_s = stamps[-1][0] - stamps[0][0]
    device_s = sum(steps) / 1e6
    backwards = [i for i, (step, host) in enumerate(zip(steps, host_steps, strict=True))
                 if step > LAP_US_WRAP // 2 or step / 1e6 > 10 * host + 1]
    if backwards:
        i = backwards[0]
        return False, (f"clock: went backwards or jumped (m-lap-us {stamps[i][1]} then {stamps[i + 1][1]} "
                       f"{host_steps[i]:.2f} s later): check the timer's wrap and overflow handling")
    if device_s == 0:
        return False, (f"clock: counted 0 us while the host waited {host_s:.2f} s (m-lap-us stays {stamps[0][1]}): "
                       "the firmware's timestamp timer is stopped; start it (and its clock) before main's loop")
    rate = device_s / host_s
    slack = CLOCK_TOLERANCE + max(s[2] for s in stamps) / host_s
    tick = math.gcd(*steps)
    said = f"{device_s:.3f} s counted in {host_s:.3f} s of host time ({100 * rate:.2f} %)"
    if abs(rate - 1.0) > slack:
        return False, (f"clock: {said}: the timer does not count microseconds; check its prescaler against the "
                       "core clock")
    if tick >= COARSE_TICK_US:
        return False, (f"clock: {said}, but it steps in {tick} us: too coarse to time an inference; "
                       "use a 1 MHz timer")
    return True, f"clock: {said}, steps of {tick} us or finer, never backwards"


def check_inference(connected: Connected, benchmark: str, source: str, findings: Findings) -> None:
    """A known (seeded) input loaded as the runners do, `infer 1 0`, each printed value against TFLM."""
    import numpy as np

    from tinyperf.sim.board.engine import TflmEngine
    from tinyperf.suite.synthetic import synthetic_input

    try:
        entry, model = chosen_model(benchmark, source)
        data = synthetic_input(entry, np.random.default_rng(20261202))
        reference = TflmEngine(model.path, entry.input.bin_format).run(data)
    except TinyperfError as e:
        findings.skip("device", f"infer 1 0: no host reference for {benchmark} ({e})")
        return
    device = connected.device
    try:
        device.load(data)
        if connected.passthrough:
            got = device.infer_energy(1, 0, INFER_TIMEOUT_S)
        else:
            got = device.infer(1, 0, INFER_TIMEOUT_S).values
    except TinyperfError as e:
        findings.fail("device", f"infer 1 0: {e}")
        return
    worst = max((abs(g - r) / max(1.0, abs(r)) for g, r in zip(got, reference, strict=False)), default=0.0)
    if len(got) != len(reference) or worst > RESULT_TOLERANCE:
        shown = ", ".join(f"{v:.3f}" for v in got[:6])
        expected = ", ".join(f"{v:.3f}" for v in reference[:6])
        findings.fail("device", f"infer 1 0 on a known {len(data)}-byte input: the device says [{shown}], TFLM's "
                                f"interpreter [{expected}]: the firmware's model, input conversion or kernels "
                                "differ from the reference")
    else:
        findings.ok("device", f"infer 1 0 on a known {len(data)}-byte input: {len(got)} value(s) equal TFLM's "
                              f"interpreter within {RESULT_TOLERANCE:g} (largest difference {worst:.4f})")
