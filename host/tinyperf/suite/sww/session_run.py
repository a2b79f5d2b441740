"""A sww01 run from request to session folder: stream, bench (simulated or real), monitor, results.

A simulated board runs as a whole simulated bench (device + interface board, two ports, one process).
A real bench needs --port (the device) and --interface-port (the enhanced interface board, whose SD card
must hold the stream's WAV file).
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from pathlib import Path

from tinyperf.device.boards import Board
from tinyperf.device.dut import Identity
from tinyperf.device.link import RecordingLink, open_link
from tinyperf.device.ports import board_port
from tinyperf.errors import ConfigError, DatasetError, ProtocolError, RunInterrupted
from tinyperf.power.monitor import sim_wire_path
from tinyperf.run.modes import ProgressSink
from tinyperf.run.provenance import Provenance, submittable_reasons
from tinyperf.run.session import Session
from tinyperf.sim.launcher import start_sww_bench
from tinyperf.suite.models import ModelEntry, ResolvedModel
from tinyperf.suite.sww.bench import InterfaceBoard, StreamingDevice, TextPort
from tinyperf.suite.sww.inputs import StreamInput, resolve_stream
from tinyperf.suite.sww.run import WAKEWORDS_IN_OFFICIAL_STREAM, result_lines, run_stream_test
from tinyperf.suite.sww.streams import NOTE as SYNTHETIC_NOTE

INTERFACE_BAUD = 115200  # the open runner's devices_sww.yaml


def execute_streaming(request, board: Board, entry: ModelEntry, model: ResolvedModel,
                      progress: ProgressSink):  # -> RunOutcome
    from tinyperf.run import bench, plan
    from tinyperf.run import outcome as written
    from tinyperf.run.request import jsonable

    if board.emulator is not None:
        raise ConfigError(f"{board.id}: sww01 on an emulated board needs the host-streamed harness, which tinyperf "
                          "does not have yet; use the simulated bench or a real one (--port, --interface-port)")
    stream = resolve_stream(request.dataset)
    monitor_spec = plan.monitor_spec_for(request, board)
    session = Session.create(request.sessions_dir, board.id, request.benchmark, request.mode)
    session.lock()
    session.journal({"event": "start", "request": jsonable(asdict(request)), "stream": stream.note})
    rule = "open-runner" if request.score_as_open_runner else "mlperf"
    try:
        with contextlib.ExitStack() as stack:
            monitor, wire = None, None
            if monitor_spec is not None:
                wire = sim_wire_path(stack) if monitor_spec.simulated else None
                monitor = bench.start_monitor(monitor_spec, board, request, stack, session, wire)
            device_url, interface_url = _ports(board, request, model, stream, stack, wire)
            baud = request.baud or board.baud
            device_link = stack.enter_context(RecordingLink(open_link(device_url, baud), session.log_path))
            interface_link = stack.enter_context(RecordingLink(open_link(interface_url, INTERFACE_BAUD),
                                                               session.root / "interface-log.txt"))
            device = StreamingDevice(TextPort(device_link, "device", request.timeout_s))
            interface = InterfaceBoard(TextPort(interface_link, "interface board", request.timeout_s))
            identity = _identify(device, interface, stream, device_url)
            session.journal({"event": "identity", **asdict(identity), "port": device_url,
                             "interface_port": interface_url})
            figures = run_stream_test(device, interface, stream.truth, session.journal, progress, monitor, rule)
            if monitor is not None:
                figures["monitor"] = bench.monitor_figures(monitor, monitor_spec, board)  # type: ignore[arg-type]
    except KeyboardInterrupt as e:
        session.journal({"event": "interrupted", "by": str(e) or "SIGINT"})
        raise RunInterrupted(f"interrupted; the stream is not scored (start it again: a stream is one "
                             f"measurement). Transcripts are in {session.root}") from None
    except Exception as e:
        written.record_error(session, e)
        raise
    data = _provenance(stream)
    figures["data"] = data.as_dict()
    # every sww01 mode scores the stream, so the data counts in every mode
    reasons = submittable_reasons("accuracy", figures["valid"], board.kind, model.official, data)
    if not figures["closed_limits_met"]:
        reasons.append("more than 8 false positives or false negatives")
    if figures["wakeword"]["wakewords"] != WAKEWORDS_IN_OFFICIAL_STREAM:
        reasons.append(f"{figures['wakeword']['wakewords']} wakewords in the stream (the checker requires TP + FN = "
                       f"{WAKEWORDS_IN_OFFICIAL_STREAM}, the official stream's count)")
    figures["submittable"] = {"closed": not reasons, "reasons": reasons}
    outcome = written.RunOutcome(session, board, identity, model, figures, stream.note, None)
    written.write_provenance(request, outcome, stream.folder)
    lines = written.header_lines(request, outcome) + _timing_note(board) + result_lines(figures) \
        + written.footer_lines(request, outcome)
    written.write_session_results(request, outcome, lines)
    written.index(session)
    return outcome


def _ports(board: Board, request, model: ResolvedModel, stream: StreamInput,
           stack: contextlib.ExitStack, wire: Path | None) -> tuple[str, str]:
    if board.simulated and not request.port:
        bench = start_sww_bench(board.id, model.path, stream.folder, request.pacing, wire)
        stack.callback(bench.stop)
        return bench.url, bench.interface_url
    if not request.interface_port:
        raise ConfigError("sww01 on a bench needs the enhanced interface board too: --interface-port PORT "
                          "(it plays the stream over I2S and times the device's GPIO pulses)")
    return request.port or board_port(board), request.interface_port


def _identify(device: StreamingDevice, interface: InterfaceBoard, stream: StreamInput, url: str) -> Identity:
    model_id = device.identify()
    if model_id != "sww01":
        raise ProtocolError(f"the device at {url} runs model {model_id!r}, not 'sww01'; flash the streaming "
                            "wakeword firmware or change --benchmark")
    files = interface.files()
    if stream.truth.wav_file not in files:
        raise DatasetError(f"the interface board's SD card has no {stream.truth.wav_file} (it lists: "
                           f"{', '.join(files[:8]) or 'nothing'}); copy the stream's WAV file onto the card")
    return Identity(name=interface.name(), profile="", model=model_id)


def _timing_note(board: Board) -> list[str]:
    if not board.simulated or board.streaming_timing is None:
        return []
    return [f"MODELLED: frame time = the board's {board.streaming_timing} cycle model of the sww01 model (fitted "
            "to the v1.3 KWS/VWW/IC/AD latencies) + its declared front-end cycles (the remainder of the published "
            "v1.3 SWW processing time), so its duty cycle and throughput match the published ones by construction."]


def _provenance(stream: StreamInput) -> Provenance:
    if stream.packaged:
        return Provenance("smoke", "the packaged synthetic sww01 stream (TTS voices over generated noise), "
                          "not the official 1200 s test stream")
    sources = stream.truth_file.with_name(stream.truth_file.stem + ".sources.json")
    if sources.is_file() and SYNTHETIC_NOTE in sources.read_text(encoding="utf-8", errors="replace"):
        return Provenance("synthetic", f"{stream.truth_file.name}: a stream built by `tinyperf datasets sww-stream` "
                          "(TTS voices over generated noise), not the official one")
    return Provenance("custom", f"{stream.truth_file.name}: tinyperf cannot tell the official stream from another")
