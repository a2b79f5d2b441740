"""sww01 streaming wakeword: front end, detection loop, scoring rules, the bench's text formats, and whole
runs on the simulated bench (device + interface board on two ptys, the open runner's command order)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import model_path, run_cli
from tinyperf.errors import DatasetError, ProtocolError
from tinyperf.power.profiles import board_power_model
from tinyperf.sim.board.sww_device import print_vals_int8
from tinyperf.suite.frontends.audio import write_wav
from tinyperf.suite.sww.bench import parse_activations, parse_detections, parse_dutycycle
from tinyperf.suite.sww.detector import StreamModel, run_stream
from tinyperf.suite.sww.frontend import hamming_window, log_mel_features, mel_matrix, quantize
from tinyperf.suite.sww.inputs import resolve_stream
from tinyperf.suite.sww.score import duty_cycle, score_detections
from tinyperf.suite.sww.truth import read_truth, read_wav

SCALE = 0.003701042616739869


def test_front_end_tables_are_tfs() -> None:
    window = hamming_window()
    assert window[0] == pytest.approx(0.08) and window[511] == pytest.approx(window[512])
    mel = mel_matrix()
    assert mel.shape == (513, 40) and not mel[0].any()  # DC row zero, as TF pads it
    for column in mel.T:  # each filter is one triangle: a contiguous run of positive weights
        nonzero = np.nonzero(column)[0]
        assert len(nonzero) and np.all(np.diff(nonzero) == 1) and column.max() <= 1.0


def test_a_tone_lights_its_mel_band_and_silence_sits_at_the_floor() -> None:
    t = np.arange(16000) / 16000
    tone = (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    features = log_mel_features(tone)
    assert features.shape == (31, 40)
    centre = np.argmax(features[10])
    peak_hz = np.argmax(mel_matrix()[:, centre]) * 16000 / 1024
    assert abs(peak_hz - 1000) < 150
    assert np.all(log_mel_features(np.zeros(4096, np.int16)) == 0.0)


def test_quantisation_truncates_and_wraps_as_the_device_cast_does() -> None:
    values = quantize(np.array([0.0, 0.5, 0.94, 1.0], np.float32), SCALE)
    assert values.tolist() == [-128, 7, 125, -114]  # 1.0 -> 142.19 -> wraps past 127


def test_packaged_stream_through_the_detection_loop() -> None:
    stream = resolve_stream(None)
    outputs = run_stream(StreamModel(model_path("sww01")), read_wav(stream.wav))
    assert outputs.detections[0] == 0  # the t = 0 marker on the first frame
    seconds = [(k - outputs.detections[0]) * 0.032 for k in outputs.detections[1:]]
    score = score_detections(seconds, list(stream.truth.windows))
    assert (score.true_positives, score.false_negatives, score.false_positives) == (5, 0, 1)


def test_rule_window_is_end_plus_1s_and_the_open_runner_end_plus_2s() -> None:
    windows = [(10.0, 10.6)]
    late = [12.1]  # 1.5 s after the word ends
    rule = score_detections(late, windows)
    runner = score_detections(late, windows, "open-runner")
    assert (rule.true_positives, rule.false_negatives, rule.false_positives) == (0, 1, 1)
    assert (runner.true_positives, runner.false_negatives, runner.false_positives) == (1, 0, 0)


def test_false_positives_are_debounced_over_one_second() -> None:
    score = score_detections([20.0, 20.5, 20.9, 22.0, 40.0], [(5.0, 5.5)])
    assert score.false_positives == 3 and score.false_positive_s == (20.0, 22.0, 40.0)
    assert score.false_negatives == 1 and score.f1 == 0.0


def test_interface_board_texts_as_its_firmware_prints_them() -> None:
    assert parse_detections(["Detection Timestamps (ms)", "57,", "10521,", "m-ready"]) == [57, 10521]
    starts = ", ".join(str(v) for v in range(0, 3200 * 9, 3200))
    lines = ["Duty cycle start times (s)", "0, 3200, 6400, 9600, 12800, 16000, 19200, 22400, ", "25600, ",
             "Duty cycle stop times (s)", "1794, 4994, 8194, 11394, 14594, 17794, 20994, 24194, ", "27394, m-ready"]
    rising, falling = parse_dutycycle(lines)
    assert [round(v / 10e-6) for v in rising] == [int(v) for v in starts.split(", ")]
    duty = duty_cycle(rising, falling)
    assert duty.frames == 9 and duty.duty_cycle == pytest.approx(1794 / 3200) and duty.throughput == \
        pytest.approx(1 / 0.01794)
    with pytest.raises(ProtocolError, match="not a tick count"):
        parse_dutycycle(["Duty cycle start times (s)", "12, x3, m-ready"])


def test_activations_print_as_ee_print_vals_int8() -> None:
    text = print_vals_int8(list(range(-8, 10)))
    assert text.startswith("[-8, -7, ") and "7, \r\n8, 9  \r\n]" in text
    assert parse_activations(["Streaming stopped.", "target activations: ", *text.split("\r\n"), "m-ready"]) == \
        list(range(-8, 10))


def test_official_ground_truth_format_is_read_and_bad_files_named(tmp_path: Path) -> None:
    write_wav(tmp_path / "short.wav", np.zeros(16000), channels=2)
    (tmp_path / "truth.json").write_text(json.dumps([{"wav_file": "short.wav", "sample_rate": 16000,
                                                      "length_sec": 1.0, "detection_windows": [[0.2, 0.5]]}]))
    stream = resolve_stream(tmp_path)
    assert stream.truth.windows == ((0.2, 0.5),) and len(read_wav(stream.wav)) == 16000
    (tmp_path / "truth.json").write_text('[{"wav_file": "short.wav", "detection_windows": [[0.5, 0.2]]}]')
    with pytest.raises(DatasetError, match=r"truth\.json: entry 0: detection windows"):
        read_truth(tmp_path / "truth.json")


def _session(root: Path) -> Path:
    (session,) = root.iterdir()
    return session


def test_sim_bench_run_prints_the_checkers_lines(tmp_path: Path) -> None:
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "sww01", "--mode", "energy",
                     "--monitor", "sim", "--sessions-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    session = _session(tmp_path)
    text = (session / "results.txt").read_text()
    assert "Accuracy: 5 True positives, 0 False negatives, 1 False positives" in text
    duty = float(re.search(r"Average duty cycle: ([\d.]+)", text).group(1))
    throughput = float(re.search(r"Estimated throughput: ([\d.]+) inf\./sec\.", text).group(1))
    power = float(re.search(r"Power : ([\d.]+) mW\.", text).group(1))
    assert duty == pytest.approx(0.5606, abs=0.001) and throughput == pytest.approx(55.74, abs=0.05)
    model = board_power_model("sim-nucleo-l4r5zi")
    expected_mw = 1e3 * model.voltage_v * (duty * model.active_current_a + (1 - duty) * model.idle_current_a)
    assert power == pytest.approx(expected_mw, rel=0.01)
    assert "SIMULATED" in text and "MODELLED" in text and "synthetic" in text.lower()
    sent = (session / "log.txt").read_text()
    interface = (session / "interface-log.txt").read_text()
    assert "stop%" in sent and "start%" in sent
    order = [interface.index(c) for c in ("record_detections%", "play tinyperf_sww_60s.wav%", "print_detections%",
                                          "print_dutycycle%")]
    assert order == sorted(order)
    data = json.loads((session / "results.json").read_text())
    assert data["wakeword"]["true_positives"] == 5 and len(data["activations"]) == 1875


def test_a_bench_without_an_interface_port_is_refused(tmp_path: Path) -> None:
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "sww01", "--mode", "accuracy",
                     "--port", "/dev/null", "--sessions-dir", str(tmp_path))
    assert result.returncode == 2 and "--interface-port" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not os.environ.get("TINYPERF_SWW_OFFICIAL"),
                    reason="set TINYPERF_SWW_OFFICIAL to the open runner's sww_data_dir (short_wav_easy10s.wav)")
def test_official_10s_debug_file_scores_as_the_reference_firmware(tmp_path: Path) -> None:
    """The facts: the reference firmware finds 2 of the 3 wakewords of short_wav_easy10s.wav."""
    folder = Path(os.environ["TINYPERF_SWW_OFFICIAL"])
    stream = resolve_stream(folder / "sww_short_test.json")
    outputs = run_stream(StreamModel(model_path("sww01")), read_wav(stream.wav))
    seconds = [(k - outputs.detections[0]) * 0.032 for k in outputs.detections[1:]]
    score = score_detections(seconds, list(stream.truth.windows))
    assert (score.true_positives, score.false_negatives) == (2, 1)


def test_a_50_wakeword_stream_exports_a_tree_the_checker_rules_pass(tmp_path: Path) -> None:
    built = run_cli("datasets", "sww-stream", "--out", str(tmp_path / "stream"), "--seconds", "200",
                    "--wakewords", "50", "--others", "0", "--seed", "3")
    assert built.returncode == 0, built.stderr
    truth = read_truth(tmp_path / "stream" / "tinyperf_sww.json")[0]
    assert len(truth.windows) == 50 and truth.length_sec == 200.0
    ran = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "sww01", "--mode", "accuracy",
                  "--dataset", str(tmp_path / "stream"), "--sessions-dir", str(tmp_path / "sessions"))
    assert ran.returncode == 0, ran.stderr
    text = (_session(tmp_path / "sessions") / "results.txt").read_text()
    tp, fn, _ = map(int, re.search(r"Accuracy: (\d+) True positives, (\d+) False negatives, (\d+)", text).groups())
    assert tp + fn == 50 and "synthetic" in text
    out = tmp_path / "tree"
    exported = run_cli("submission", "export", str(out), "--system", "sim", "--division", "open", "--sessions-dir",
                       str(tmp_path / "sessions"), "--allow-simulated", "--allow-unofficial-data")
    assert exported.returncode == 0, exported.stderr
    assert (out / "open/tinyperf/results/sim/sww/performance/results.txt").is_file()  # sww has no accuracy folder
    checked = run_cli("submission", "check", str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
