"""The tinyperf protocol extension: the frame codec, the simulated board on a real pty, and whole runs
through the CLI with injected faults, SIGKILL + resume, baud switching and the legacy fallback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import model_path, run_cli
from tinyperf.deadline import Deadline
from tinyperf.device.link import open_link
from tinyperf.device.link.faults import FaultPlan
from tinyperf.device.protocol.client import LegacyClient
from tinyperf.device.protocol.extended import ExtendedClient, negotiate
from tinyperf.device.protocol.frames import (
    KIND_COMMAND,
    KIND_DATA,
    BadFrame,
    Frame,
    FrameError,
    StreamDemux,
    TextPiece,
    cobs_decode,
    cobs_encode,
    decode_frame,
    encode_frame,
)
from tinyperf.errors import ConfigError, DeviceError, ProtocolError
from tinyperf.run.session import read_journal
from tinyperf.sim.launcher import start_sim_board
from tinyperf.suite.smoke.store import smoke_dataset, smoke_subset

# ---- codec ------------------------------------------------------------------------------------------


@given(st.binary(max_size=2000))
def test_cobs_round_trips_and_never_emits_zero(data: bytes) -> None:
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert len(encoded) <= len(data) + len(data) // 254 + 1
    assert cobs_decode(encoded) == data


@given(st.integers(0, 0xFFFE), st.binary(max_size=600))
def test_frames_round_trip_and_any_single_byte_error_is_caught(seq: int, body: bytes) -> None:
    wire = encode_frame(KIND_DATA, seq, body)
    assert wire[0] == 0 and wire[-1] == 0
    assert decode_frame(wire[1:-1]) == Frame(KIND_DATA, seq, body)
    for position in range(1, len(wire) - 1, max(1, len(wire) // 7)):
        spoiled = bytearray(wire)
        spoiled[position] ^= 0x5A
        pieces = StreamDemux(b"\n").feed(bytes(spoiled))
        assert not [p for p in pieces if isinstance(p, Frame)], f"byte {position} spoiled, still decoded"


def test_demux_separates_text_and_frames_and_resyncs_after_a_lost_delimiter() -> None:
    first = encode_frame(KIND_COMMAND, 1, b"name")
    second = encode_frame(KIND_COMMAND, 2, b"profile")
    demux = StreamDemux(b"\n")
    # text between whole frames, then back-to-back frames of which the first lost its opening 0x00
    stream = b"m-init-done\r\n" + encode_frame(KIND_COMMAND, 9, b"x") + b"m-ready\r\n" + first[1:] + second
    pieces = []
    for i in range(0, len(stream), 3):  # arrives in dribs and drabs
        pieces += demux.feed(stream[i : i + 3])
    assert pieces[:3] == [TextPiece(b"m-init-done\r\n"), Frame(KIND_COMMAND, 9, b"x"), TextPiece(b"m-ready\r\n")]
    assert pieces[-1] == Frame(KIND_COMMAND, 2, b"profile")  # the next frame is found whatever came before
    assert not any(isinstance(p, Frame) and p.seq == 1 for p in pieces)


def test_demux_refuses_overlong_frames_and_keeps_going() -> None:
    demux = StreamDemux(b"\n", max_frame_bytes=64)
    pieces = demux.feed(b"\0" + b"\x01" * 100 + b"\0" + encode_frame(KIND_COMMAND, 5, b"ok"))
    assert isinstance(pieces[0], BadFrame) and "longer than 64" in pieces[0].reason
    assert pieces[-1] == Frame(KIND_COMMAND, 5, b"ok")


def test_decode_names_what_is_wrong() -> None:
    raw = cobs_encode(b"\x43\x01\x00")
    with pytest.raises(FrameError, match="shorter than"):
        decode_frame(raw)
    with pytest.raises(FrameError, match="COBS block"):
        decode_frame(b"\x09abc")


def test_fault_plan_parse_names_bad_fields() -> None:
    assert FaultPlan.parse("corrupt=0.01,hang=0.002,seed=3") == FaultPlan(corrupt=0.01, hang=0.002, seed=3)
    with pytest.raises(ConfigError, match="unknown fault 'flip'"):
        FaultPlan.parse("flip=0.1")
    with pytest.raises(ConfigError, match="corrupt is a probability"):
        FaultPlan.parse("corrupt=2")


# ---- the simulated board on a pty -----------------------------------------------------------------


def test_sim_offers_the_extension_and_a_legacy_only_sim_refuses_it_as_reference_firmware_does() -> None:
    with start_sim_board("sim-nucleo-l4r5zi", "kws01", model_path("kws01")) as sim:
        link = open_link(sim.url, 115200)
        try:
            caps = negotiate(LegacyClient(link))
        finally:
            link.close()
    assert caps is not None and caps.buffers == 2 and caps.buffer_bytes >= 102400 and 2000000 in caps.bauds
    with start_sim_board("sim-nucleo-l4r5zi", "kws01", model_path("kws01"), legacy_only=True) as sim:
        link = open_link(sim.url, 115200)
        try:
            client = LegacyClient(link)
            assert negotiate(client) is None
            with pytest.raises(DeviceError, match=r"e-\[Unknown command: tp-caps\]"):
                client.command("tp-caps")
        finally:
            link.close()


@pytest.mark.no_models
@pytest.mark.parametrize(("refusal", "legacy"), [
    ("e-[Unknown command: tp-caps]", True),  # the reference firmware's words for it
    ("e-[Unknown command]", True),  # a firmware that does not name the command
    ("e-[Unknown command: tp-cbps]", False),  # a bit flipped on the way: not a legacy device
])
def test_only_a_refusal_of_tp_caps_itself_means_a_legacy_device(refusal: str, legacy: bool) -> None:
    """A fault-injected CI run once fell back to legacy for the rest of its session after a garbled
    `tp-caps%` came back refused under another name."""

    class Refuses:
        def command(self, text: str) -> None:
            raise DeviceError(text, refusal)

    if legacy:
        assert negotiate(Refuses()) is None  # type: ignore[arg-type]
    else:
        with pytest.raises(ProtocolError, match=r"'tp-caps%' reached the device as 'tp-cbps' .*: the link garbled it"):
            negotiate(Refuses())  # type: ignore[arg-type]


def test_repeated_command_frame_is_answered_from_cache_not_run_again_and_bad_crc_is_refused() -> None:
    data = bytes(range(256)) + bytes(234)
    with start_sim_board("sim-nucleo-l4r5zi", "kws01", model_path("kws01")) as sim:
        link = open_link(sim.url, 115200)
        try:
            caps = negotiate(LegacyClient(link))
            assert caps is not None
            client = ExtendedClient(link, caps, 115200)
            client.write_buffer(1, data)
            command = f"tp-infer 1 {len(data)} {zlib.crc32(data):08x} 3 0"
            demux = StreamDemux(b"\n")
            replies: list[Frame] = []
            for _ in range(2):  # the same seq twice, as after a lost reply
                link.write(encode_frame(KIND_COMMAND, 77, command.encode()))
                replies += _frames_until(link, demux, lambda got: any(f.kind == ord("R") for f in got))
            answers = [p.body for p in replies if p.kind == ord("R")]
            assert len(answers) == 2 and answers[0] == answers[1]  # same m-lap-us: it did not run again
            assert b"m-infer-start-3" in answers[0]
            with pytest.raises(DeviceError, match=r"tp-infer: buffer 1 CRC [0-9a-f]{8}, expected 00000000"):
                client.command(f"tp-infer 1 {len(data)} 00000000 1 0")
        finally:
            link.close()


def _frames_until(link, demux: StreamDemux, done, limit_s: float = 10.0) -> list[Frame]:  # type: ignore[no-untyped-def]
    got: list[Frame] = []
    deadline = Deadline(limit_s)
    while not done(got) and not deadline.expired():
        got += [p for p in demux.feed(link.read_some(deadline)) if isinstance(p, Frame)]
    return got


# ---- whole runs --------------------------------------------------------------------------------------


def _run(tmp_path: Path, benchmark: str, *extra: str, name: str = "sessions") -> dict:
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", benchmark, "--mode", "accuracy",
                     "--sessions-dir", str(tmp_path / name), *extra)
    assert result.returncode == 0, result.stderr
    (session,) = (tmp_path / name).iterdir()
    return json.loads((session / "results.json").read_text())


def _subset(benchmark: str, rows: list[str] | int, folder: Path) -> Path:
    return smoke_subset(benchmark, rows, folder)


def test_faulty_link_and_hangs_give_the_same_predictions_as_a_clean_run(tmp_path: Path) -> None:
    dataset = _subset("kws01", 120, tmp_path / "ds")
    clean = _run(tmp_path, "kws01", "--dataset", str(dataset), name="clean")
    faulty = _run(tmp_path, "kws01", "--dataset", str(dataset), "--inject-faults",
                  "corrupt=0.02,drop=0.01,duplicate=0.01,hang=0.005,hang_at=60,seed=4", name="faulty")
    assert faulty["link"]["protocol"] == "extended"
    injected = faulty["link"]["faults_injected"]
    assert injected.get("corrupt", 0) + injected.get("corrupt-read", 0) > 0 and injected.get("hang", 0) >= 1
    assert faulty["link"]["recoveries"] >= 1  # a hang during a recovery (or on a hung board) needs no extra one
    assert faulty["samples"] == clean["samples"] and faulty["valid"] is True


def test_legacy_fallback_and_device_side_windows_score_ad01_alike_but_exactly(tmp_path: Path) -> None:
    lines = (smoke_dataset("ad01") / "y_labels.csv").read_text().splitlines()
    names = [next(line for line in lines if line.split(",")[2] == label).split(",")[0] for label in "01"]
    dataset = _subset("ad01", names, tmp_path / "ds")
    legacy = _run(tmp_path, "ad01", "--dataset", str(dataset), "--sim-option", "legacy-only", name="legacy")
    extended = _run(tmp_path, "ad01", "--dataset", str(dataset), name="extended")
    assert legacy["link"]["protocol"] == "legacy" and extended["link"]["protocol"] == "extended"
    # legacy scores what the device printed (3 decimals per window), the extension the exact float32 MSEs
    pairs = list(zip([s["score"] for s in legacy["samples"]], [s["score"] for s in extended["samples"]], strict=True))
    assert all(abs(printed - exact) <= 0.0005 for printed, exact in pairs) and pairs[0][0] != pairs[0][1]
    assert all(s["windows"] == 196 for s in extended["samples"])
    # each file once (the first in doubling segments that overlap by 2 kB), not 196 windows of 2560 B in hex
    assert extended["link"]["bytes_sent"] < 2 * 102400 * 1.1


def test_baud_switch_and_its_fallback(tmp_path: Path) -> None:
    dataset = _subset("kws01", 10, tmp_path / "ds")
    fast = _run(tmp_path, "kws01", "--dataset", str(dataset), "--fast-baud", "2000000", name="fast")
    assert fast["link"]["baud"] == 2000000
    refused = _run(tmp_path, "kws01", "--dataset", str(dataset), "--fast-baud", "921600",
                   "--sim-option", "max-baud=115200", name="refused")
    assert refused["link"]["baud"] == 115200 and refused["samples"] == fast["samples"]
    (session,) = (tmp_path / "refused").iterdir()
    assert '"baud-fallback"' in (session / "journal.jsonl").read_text()


def test_sigkill_mid_run_then_resume_ends_identical(tmp_path: Path) -> None:
    dataset = _subset("kws01", 30, tmp_path / "ds")
    clean = _run(tmp_path, "kws01", "--dataset", str(dataset), name="clean")
    sessions = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "tinyperf.cli", "run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01",
         "--mode", "accuracy", "--dataset", str(dataset), "--sessions-dir", str(sessions), "--pacing", "realtime",
         "--baud", "2000000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    deadline = time.monotonic() + 60
    journal = None
    while time.monotonic() < deadline:
        found = list(sessions.glob("*/journal.jsonl"))
        if found and found[0].read_text().count('"event": "sample"') >= 8:
            journal = found[0]
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert journal is not None, "the run never journaled 8 samples"
    before = journal.read_text().count('"event": "sample"')
    assert before < 30, "the run finished before it was killed"
    assert not (journal.parent / "results.json").exists()
    result = run_cli("run", "--resume", str(journal.parent))
    assert result.returncode == 0, result.stderr
    resumed = json.loads((journal.parent / "results.json").read_text())
    assert resumed["samples"] == clean["samples"] and resumed["top1_percent"] == clean["top1_percent"]
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    names = [r["name"] for r in records if r["event"] == "sample"]
    assert len(names) == len(set(names)) == 30  # nothing finished was redone
    assert any(r["event"] == "resume" and r["finished_samples"] == before for r in records)


def test_resume_refuses_what_it_cannot_continue(tmp_path: Path) -> None:
    result = run_cli("run", "--resume", str(tmp_path))
    assert result.returncode == 2 and "has no journal.jsonl" in result.stderr
    perf = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "performance",
                   "--min-window", "0.2", "--sessions-dir", str(tmp_path / "perf"))
    (session,) = (tmp_path / "perf").iterdir()
    assert perf.returncode == 1  # a 0.2 s window breaks the rules: written, marked invalid
    refused = run_cli("run", "--resume", str(session))
    assert refused.returncode == 2 and "only accuracy runs resume" in refused.stderr


def test_firmware_whose_repeated_inference_changes_its_input_is_flagged(tmp_path: Path) -> None:
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "performance",
                     "--min-window", "0.5", "--sim-option", "reuses-input-tensor", "--sessions-dir", str(tmp_path))
    (session,) = tmp_path.iterdir()
    text = (session / "results.txt").read_text()
    assert "INCONSISTENT FIRMWARE: in " in text, text
    data = json.loads((session / "results.json").read_text())
    assert data["consistency"]["consistent"] is False and len(data["consistency"]["mismatches"]) >= 3
    assert "repeat consistency" in result.stdout


def test_failed_samples_that_leave_one_ad01_class_make_the_auc_undefined_not_a_crash() -> None:
    from tinyperf.run.modes.accuracy import score
    from tinyperf.suite.models import get_entry
    from tinyperf.suite.scoring import auc_text

    records = [{"name": "normal_00.bin", "label": 0, "score": 1.5},
               {"name": "anomaly_00.bin", "label": 1, "failed": True, "error": "device did not answer"}]
    figures = score(records, get_entry("ad01"))
    assert figures["auc"] is None and auc_text(figures["auc"]) == "undefined" and figures["valid"] is False
    assert figures["problems"] == ["1 of 2 samples failed 3 times: anomaly_00.bin (first: device did not answer)",
                                   "AUC undefined: the samples left after the failed ones are all of one class"]


# ---- several boards --------------------------------------------------------------------------------


def test_three_boards_share_a_run_and_a_board_that_dies_hands_its_samples_to_the_others(tmp_path: Path) -> None:
    dataset = _subset("kws01", 60, tmp_path / "ds")
    one = _run(tmp_path, "kws01", "--dataset", str(dataset), name="one")
    shared = _run(tmp_path, "kws01", "--dataset", str(dataset), "--sim-boards", "3", name="three")
    assert [s["prediction"] for s in shared["samples"]] == [s["prediction"] for s in one["samples"]]
    assert len(shared["shards"]) == 3 and sum(s["samples"] for s in shared["shards"]) == 60
    assert all(s["samples"] > 0 for s in shared["shards"])
    (session,) = (tmp_path / "three").iterdir()
    assert (session / "log-2.txt").is_file() and "Boards: 3 shared the samples" in (session / "results.txt").read_text()

    boards = [start_sim_board("sim-nucleo-l4r5zi", "kws01", model_path("kws01"), pacing="realtime") for _ in range(3)]
    try:
        sessions = tmp_path / "dies"

        def kill_board_1_after_10_samples() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                journals = list(sessions.glob("*/journal.jsonl"))
                if journals and journals[0].read_text().count('"event": "sample"') >= 10:
                    boards[1].process.kill()
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_board_1_after_10_samples)
        killer.start()
        ports = [arg for board in boards for arg in ("--port", board.url)]
        dies = _run(tmp_path, "kws01", "--dataset", str(dataset), *ports, name="dies")
        killer.join()
    finally:
        for board in boards:
            board.stop()
    assert [s["prediction"] for s in dies["samples"]] == [s["prediction"] for s in one["samples"]]
    assert dies["valid"] is True and sum(s["samples"] for s in dies["shards"]) == 60
    (session,) = sessions.iterdir()
    events = read_journal(session)
    out = [e for e in events if e.get("event") == "board-out"]
    assert len(out) == 1 and boards[1].url in out[0]["shard"]


def test_keepalive_pings_on_a_clean_link_are_not_counted_as_resends(tmp_path: Path) -> None:
    """Realtime windows run for seconds, so the host pings the running command; none of that is a fault."""
    result = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "ad01", "--mode", "performance",
                     "--pacing", "realtime", "--min-window", "2.5", "--sessions-dir", str(tmp_path), timeout=180)
    assert result.returncode == 1, result.stderr  # short windows: INVALID by the rules, measured
    (session,) = tmp_path.iterdir()
    link = json.loads((session / "results.json").read_text())["link"]
    assert link["protocol"] == "extended" and link["frames_resent"] == 0 and link["keepalive_pings"] >= 5, link
    assert ", 0 frames resent." in (session / "results.txt").read_text()
