"""`tinyperf doctor`: check a bench before a long run, one line per check, and say what to fix."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated

import typer

from tinyperf.cli.choices import INTERFACE_PORT_HELP, Benchmark, ModelChoice, TimestampMode
from tinyperf.cli.common import EXIT_INVALID, console, err_console, user_errors

SHORT_PLAY_S = 5  # sww01 on a simulated bench: seconds of the packaged stream put on its SD card
STYLE = {"ok": "green", "warning": "yellow", "FAIL": "bold red", "skipped": "dim"}


@user_errors
def doctor(
    board: Annotated[str | None, typer.Option(
        help="Board id (see `tinyperf boards`). A simulated board without --port: doctor starts a simulated "
        "bench and checks that.")] = None,
    port: Annotated[str | None, typer.Option(
        help="The DUT's serial port (default: the one port with the board's USB id); with --interface-board, "
        "the interface board's port.")] = None,
    interface_board: Annotated[bool, typer.Option(
        "--interface-board", help="--port is an energy-mode interface board: the DUT answers through it "
        "(`dut <cmd>%`, 9600 baud to the DUT) and the monitor powers the DUT.")] = False,
    interface_port: Annotated[str | None, typer.Option(help=INTERFACE_PORT_HELP)] = None,
    monitor: Annotated[str | None, typer.Option(
        help="The energy monitor, e.g. lpm01a:/dev/ttyACM1, ppk2, otii, js220 (default: the one LPM01A on USB, "
        "if any).")] = None,
    benchmark: Annotated[Benchmark | None, typer.Option(
        help="The benchmark the bench is for (default: whatever model the firmware says it runs).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the findings as JSON (for CI).")] = False,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for each reply.")] = 2.0,
    clock_seconds: Annotated[float, typer.Option(min=0.5, help="How long the device clock is compared.")] = 3.0,
    stream_seconds: Annotated[float, typer.Option(min=0.5, help="How long the monitor must stream.")] = 3.0,
    monitor_rate: Annotated[int | None, typer.Option(min=1, help="Sample rate to check (default: a run's).")]
    = None,
    play: Annotated[str | None, typer.Option(help="sww01: the SD card's WAV to play (default: the first).")]
    = None,
    models: Annotated[ModelChoice, typer.Option(
        help="official (sha256-pinned MLPerf Tiny models) or fallback (labelled reproductions from PyPI, NOT "
        "official): what the device is compared against, and what a simulated bench runs.")]
    = ModelChoice.official,
    mode: Annotated[TimestampMode, typer.Option(
        help="Simulated bench only: energy (DUT behind the interface board, powered by the LPM01A) or "
        "performance (DUT on its own port).")] = TimestampMode.energy,
    sim_fault: Annotated[list[str] | None, typer.Option(
        help="Simulated bench only: build it wrong on purpose (repeatable): no-timestamp-wire, usb-powered, "
        "stopped-clock, slow-baud, monitor-drops, old-monitor-firmware.")] = None,
) -> None:
    """Walk the bench before a long run: ports, device, monitor and the wiring between them.

    One line per check (ok / warning / FAIL / skipped) with what to do. Ports: which USB device is which
    (a name% probe tells identical ST-LINKs apart) and which are busy. Device: answers name% and profile%
    (at which baud), runs the model tinyperf would use, its clock counts true microseconds, `infer 1 0`
    equals TFLM's interpreter. Monitor: firmware, rates, supply voltage, streams without dropping samples.
    Wiring (energy): the timestamp edge reaches the monitor, the DUT lives on the monitor's supply only,
    the interface board passes commands through. sww01: detection and processing lines toggle during a
    short play. Exit 0 when nothing failed, 1 when something did.
    """
    from tinyperf.device.boards import get_board
    from tinyperf.doctor.findings import Finding, Findings
    from tinyperf.doctor.walk import BenchPlan, walk
    from tinyperf.errors import ConfigError
    from tinyperf.power.monitor import parse_monitor

    def show(finding: Finding) -> None:
        if not json_output:
            console.print(f"[{STYLE[finding.status]}]{finding.status:<8}[/]{finding.area:<8}{finding.text}",
                          soft_wrap=True, highlight=False)

    chosen = get_board(board) if board else None
    if (sim_fault or mode != TimestampMode.energy) and not (chosen and chosen.simulated and port is None):
        raise ConfigError("--sim-fault and --mode are for the simulated bench: give a simulated --board (e.g. "
                          "sim-nucleo-l4r5zi) and no --port")
    with contextlib.ExitStack() as stack:
        if chosen is None:
            chosen = _board_on_usb()
        if chosen is not None and chosen.simulated and port is None:
            plan = _simulated_bench(chosen.id, benchmark, mode.value, tuple(sim_fault or ()), models.value, stack,
                                    json_output)
        else:
            plan = BenchPlan(chosen or get_board("nucleo-l4r5zi"))
            _real_ports(plan, port, interface_board, interface_port, monitor)
        plan.benchmark = plan.benchmark or (benchmark.value if benchmark else None)
        plan.monitor = plan.monitor or (parse_monitor(monitor) if monitor else None)
        plan.timeout_s, plan.clock_s, plan.stream_s = timeout, clock_seconds, stream_seconds
        plan.rate_hz, plan.play, plan.models = monitor_rate, play, models.value
        findings = walk(plan, Findings(show))
    if json_output:
        print(json.dumps(findings.as_json(), indent=2))
    else:
        style = "bold red" if findings.failed else "bold green"
        console.print(f"[{style}]{findings.summary()}[/]", highlight=False)
    if findings.failed:
        raise typer.Exit(EXIT_INVALID)


def _board_on_usb():  # type: ignore[no-untyped-def]
    """The one known board on USB, or None (doctor then checks ports only and says what to pass)."""
    from tinyperf.device.boards import load_boards
    from tinyperf.device.ports import find_board_ports

    found = [b for b in load_boards().values() if not b.simulated and find_board_ports(b.usb_ids)]
    return found[0] if len(found) == 1 else None


def _real_ports(plan, port: str | None, interface_board: bool, interface_port: str | None,  # type: ignore[no-untyped-def]
                monitor: str | None) -> None:
    from tinyperf.device.ports import LPM01A_USB_ID, find_board_ports, list_serial_ports
    from tinyperf.power.monitor import parse_monitor

    if port is None and plan.board.usb_ids:
        found = find_board_ports(plan.board.usb_ids)
        port = found[0] if len(found) == 1 else None
    if interface_board:
        plan.interface_port = port
    else:
        plan.dut_port, plan.interface_port = port, interface_port
    if monitor is None:
        lpm = [p.device for p in list_serial_ports() if p.usb_id == LPM01A_USB_ID]
        if len(lpm) == 1:
            plan.monitor = parse_monitor(f"lpm01a:{lpm[0]}")


def _simulated_bench(board: str, benchmark: Benchmark | None, mode: str, faults: tuple[str, ...],  # type: ignore[no-untyped-def]
                     models: str, stack: contextlib.ExitStack, quiet: bool):
    """Start a simulated bench (as `tinyperf sim --bench`) and plan the walk over its ports."""
    from tinyperf.device.boards import get_board
    from tinyperf.doctor.device_check import chosen_model
    from tinyperf.doctor.walk import BenchPlan
    from tinyperf.power.monitor import parse_monitor
    from tinyperf.sim.bench import start_bench
    from tinyperf.sim.bench_faults import check_faults

    name = benchmark.value if benchmark else "kws01"
    faults = check_faults(faults)
    sd_card = _short_stream(stack) if name == "sww01" else None
    entry, model = chosen_model(name, models)
    # a fallback model takes its own input conversion: the simulated firmware is built for it, as a run's is
    bench = stack.enter_context(start_bench(board, name, model.path, mode, sd_card=sd_card, faults=faults,
                                            bin_format=entry.input.bin_format))
    described = bench.describe()["devices"]
    roles = {d["role"]: (d["port"], d["name"], f"{d['vid'][2:]}:{d['pid'][2:]}") for d in described}
    if not quiet:
        what = f"faults: {', '.join(faults)}" if faults else "no faults"
        err_console.print(f"checking a SIMULATED bench ({mode} mode) of {board} running {name} ({what})",
                          highlight=False, soft_wrap=True)
    plan = BenchPlan(get_board(board), benchmark=name, monitor=parse_monitor(f"lpm01a:{bench.ports['power']}"),
                     sim_roles=roles)
    if name == "sww01":
        plan.dut_port, plan.interface_port = bench.ports["dut"], bench.ports["interface"]
    elif mode == "energy":
        plan.interface_port = bench.ports["interface"]
    else:
        plan.dut_port = bench.ports["dut"]
    return plan


def register(app: typer.Typer) -> None:
    app.command()(doctor)


def _short_stream(stack: contextlib.ExitStack):  # type: ignore[no-untyped-def]
    """An SD card holding the packaged stream's first seconds: `play` blocks for a file's length, and the
    lines only need to toggle, which the first frame's marker and every frame's processing do."""
    import shutil
    import tempfile
    import wave
    from pathlib import Path

    from tinyperf.suite.sww.inputs import packaged_stream

    source = next(packaged_stream().glob("*.wav"))
    folder = Path(tempfile.mkdtemp(prefix="tinyperf-doctor-sd-"))
    stack.callback(shutil.rmtree, folder, True)
    with wave.open(str(source), "rb") as reader, wave.open(str(folder / f"doctor_{SHORT_PLAY_S}s.wav"), "wb") as out:
        out.setparams(reader.getparams())
        out.writeframes(reader.readframes(SHORT_PLAY_S * reader.getframerate()))
    return folder
