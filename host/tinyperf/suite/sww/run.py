"""One sww01 stream on a bench, in the open runner's order, scored by the rules.

Sequence (open runner script.py, _ScriptStreamStep): device `stop`, `start`; interface board
`record_detections`, `play <wav>` (blocks for the file's length); device `stop` (its activations);
interface `print_detections`, `print_dutycycle`. Detection times count from the first detection, the
device's t = 0 marker. In energy mode the device's timestamp edges at `start` and `stop` bracket the
stream, and average power is the energy between them over the time between them.
"""

from __future__ import annotations

from tinyperf.power.energy import window_energy
from tinyperf.power.monitor import Monitor
from tinyperf.run.modes import Journal, ProgressSink
from tinyperf.suite.sww.bench import InterfaceBoard, StreamingDevice
from tinyperf.suite.sww.score import Rule, duty_cycle, score_detections
from tinyperf.suite.sww.truth import StreamTruth

EDGE_WAIT_S = 30.0
STEPS = 7
WAKEWORDS_IN_OFFICIAL_STREAM = 50
MAX_FALSE = 8  # closed division: at most 8 false positives and at most 8 false negatives


def run_stream_test(device: StreamingDevice, interface: InterfaceBoard, truth: StreamTruth, journal: Journal,
                    progress: ProgressSink, monitor: Monitor | None = None, rule: Rule = "mlperf") -> dict:
    progress.start(f"{truth.wav_file} ({truth.length_sec:.0f} s)", STEPS)
    device.stop()
    edges_before = len(monitor.trace.edges) if monitor is not None and monitor.trace is not None else 0
    device.start()
    interface.record_detections()
    progress.advance(3)
    journal({"event": "play", "wav_file": truth.wav_file, "seconds": truth.length_sec})
    interface.play(truth.wav_file, truth.length_sec)
    progress.advance()
    activations = device.stop(timeout_s=60.0 + truth.length_sec / 10)
    detections_ms = interface.detections_ms()
    starts, stops = interface.dutycycle()
    progress.advance(3)
    journal({"event": "stream", "detections_ms": detections_ms, "frames": len(activations),
             "processing_edges": len(starts)})
    figures = wakeword_figures(detections_ms, starts, stops, truth, rule)
    figures["activations"] = activations
    if monitor is not None:
        figures["energy"] = stream_energy(monitor, edges_before)
    return figures


def wakeword_figures(detections_ms: list[int], starts: list[float], stops: list[float], truth: StreamTruth,
                     rule: Rule) -> dict:
    """Scores (the rule's and, for comparison, the other), duty cycle and the run-rule problems."""
    problems = []
    if not detections_ms:
        problems.append("no detections recorded: the device's t = 0 marker (its first frame) is missing")
        relative_s: list[float] = []
    else:
        relative_s = [(ms - detections_ms[0]) / 1000.0 for ms in detections_ms[1:]]
    windows = list(truth.windows)
    score = score_detections(relative_s, windows, rule)
    other = score_detections(relative_s, windows, "open-runner" if rule == "mlperf" else "mlperf")
    duty = duty_cycle(starts, stops)
    if duty.period_s > 0 and duty.processing_s > duty.period_s:
        problems.append(f"the device needs {1e3 * duty.processing_s:.2f} ms per {1e3 * duty.period_s:.2f} ms frame: "
                        "it cannot keep up with the stream")
    return {"wakeword": {**score.as_dict(), "duty_cycle": duty.duty_cycle, "stream_seconds": truth.length_sec,
                         "wakewords": len(windows), "detections": len(relative_s)},
            "alternative_score": other.as_dict(), "dutycycle": duty.as_dict(),
            "duty_frames_note": f"over the first {duty.frames} frames the interface board recorded",
            "detections_ms": detections_ms, "problems": problems, "valid": not problems,
            "closed_limits_met": score.false_positives <= MAX_FALSE and score.false_negatives <= MAX_FALSE}


def stream_energy(monitor: Monitor, edges_before: int) -> dict:
    """Energy and average power between the device's two timestamp edges (start and stop)."""
    edges = monitor.wait_for_edges(edges_before + 2, EDGE_WAIT_S)
    trace = monitor.trace
    assert trace is not None
    start, end = edges[edges_before], edges[edges_before + 1]
    period = 1.0 / monitor.rate_hz  # type: ignore[attr-defined]
    window = window_energy(trace.energies_j, start, end, period)
    return {"energy_j": window.energy_j, "seconds": window.seconds, "uncertainty_j": window.uncertainty_j,
            "power_mw": 1e3 * window.energy_j / window.seconds if window.seconds > 0 else 0.0,
            "edges": [start, end], "edge_uncertainty_s": [window.start.uncertainty_s, window.end.uncertainty_s]}


def result_lines(figures: dict) -> list[str]:
    """The lines the official checker reads, in the open runner's wording, and tinyperf's own beside them."""
    w, d = figures["wakeword"], figures["dutycycle"]
    lines = []
    if "energy" in figures:
        lines += ["Power Edition Output", f"Power : {figures['energy']['power_mw']:.4f} mW."]
    lines += [f"Accuracy: {w['true_positives']} True positives, {w['false_negatives']} False negatives, "
              f"{w['false_positives']} False positives",
              f"F1 score: {w['f1']:.4f} (scored by the {w['rule']} rule; "
              f"{_other(figures['alternative_score'])})",
              f"Average duty cycle: {d['duty_cycle']:1.5}",
              f"Average period: {d['period_s']:1.5} s",
              f"Estimated throughput: {d['throughput']:1.5} inf./sec.",
              f"Duty cycle and throughput {figures['duty_frames_note']}."]
    if w["missed_s"]:
        lines.append("False negatives (wakeword starts, s): " + ", ".join(f"{t:.3f}" for t in w["missed_s"]))
    if w["false_positive_s"]:
        lines.append("False positives (s after the marker): " + ", ".join(f"{t:.3f}" for t in w["false_positive_s"]))
    return lines


def _other(score: dict) -> str:
    window = "end + 2 s" if score["rule"] == "open-runner" else "end + 1 s"
    return (f"the {score['rule']} rule ({window}) gives {score['true_positives']} TP, {score['false_negatives']} FN, "
            f"{score['false_positives']} FP")
