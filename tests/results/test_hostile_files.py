"""Hostile files and instruments: every malformed input a named error, nothing unbounded, nothing lost."""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import re
import socket
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tinyperf.archives import extract_tar, read_cifar_batch
from tinyperf.deadline import Deadline
from tinyperf.device.link.base import Link
from tinyperf.device.link.serial_link import SerialLink
from tinyperf.device.protocol.client import LegacyClient
from tinyperf.device.protocol.legacy import LineSplitter, LineTooLong
from tinyperf.errors import ConfigError, DatasetError, MonitorError, TinyperfError
from tinyperf.power.energy import EdgesInOneSample, WindowEnergy, locate_edge, window_energy
from tinyperf.power.trace import Trace
from tinyperf.run.modes.clock import DeviceClockError, calibrate
from tinyperf.run.session import Session, SessionWriteError, finished_samples, read_journal


# ---- energy ---------------------------------------------------------------------------------------
def test_both_edges_in_one_sample_is_named_not_a_value_error() -> None:
    energies = np.full(40, 1e-6)
    with pytest.raises(EdgesInOneSample, match="both timestamp edges fell in monitor sample 20"):
        window_energy(energies, 20, 20, 1e-3)
    with pytest.raises(MonitorError, match="went backwards"):
        window_energy(energies, 21, 20, 1e-3)


def test_edges_that_go_back_in_time_are_refused_by_the_trace() -> None:
    trace = Trace(1e-3)
    trace.add_edges([5, 9], "Otii at 127.0.0.1:1905")
    with pytest.raises(MonitorError, match=r"Otii at 127.0.0.1:1905 reported an edge at sample 7 after one at 9"):
        trace.add_edges([7], "Otii at 127.0.0.1:1905")
    assert trace.edges == [5, 9]  # what came before stays


def test_energy_uncertainty_of_absurd_samples_does_not_overflow() -> None:
    energies = np.full(40, 1e200)
    energies[10:30] = 1e300
    window = window_energy(energies, 10, 30, 1e-3)
    assert window.uncertainty_j >= 0 or np.isinf(window.uncertainty_j)  # a number, not an OverflowError
    assert isinstance(WindowEnergy.uncertainty_j.fget(window), float)  # type: ignore[attr-defined]
    assert locate_edge(energies, 10, 1e-3).sample == 10


def test_calibration_grows_while_the_window_is_below_one_sample_and_stops_on_a_dead_clock() -> None:
    seen = []

    def below_until_a_thousand(count: int) -> tuple[float | None, float]:
        seen.append(count)
        return (None, 0.01) if count < 1000 else (count * 1e-4, 0.01 + count * 1e-4)

    assert calibrate(below_until_a_thousand, realtime=True) == (pytest.approx(1e-4), 1000)
    assert seen == [1, 10, 100, 1000]
    with pytest.raises(DeviceClockError, match="looks coarse or stopped"):
        calibrate(lambda count: (0.0, 1.5), realtime=False)


# ---- CIFAR-10 and archives -------------------------------------------------------------------------
class _Exploit:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        import os

        return (os.system, ("touch /tmp/tinyperf-pwned",))


def test_a_crafted_cifar_batch_cannot_run_code(tmp_path: Path) -> None:
    marker = Path("/tmp/tinyperf-pwned")
    marker.unlink(missing_ok=True)
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps({b"data": _Exploit(), b"labels": [1]}))
    with pytest.raises(DatasetError, match=r"refers to (posix|os)\.system, which a CIFAR-10 batch never does"):
        read_cifar_batch(path)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_real_cifar_batches_of_every_numpy_pickle_protocol_read(tmp_path: Path, protocol: int) -> None:
    data = np.arange(2 * 3072, dtype=np.uint32).astype(np.uint8).reshape(2, 3072)
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps({b"batch_label": b"testing batch 1 of 1", b"data": data, b"labels": [3, 9],
                                   b"filenames": [b"a.png", b"b.png"]}, protocol=protocol))
    read, labels = read_cifar_batch(path)
    assert labels == [3, 9] and (read == data).all()


def _tar(members: list[tarfile.TarInfo], payload: bytes = b"x") -> tarfile.TarFile:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for member in members:
            archive.addfile(member, io.BytesIO(payload) if member.isfile() else None)
    buffer.seek(0)
    return tarfile.open(fileobj=buffer)


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, 1 if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(("member", "why"), [
    (_member("../evil.bin"), "would land outside the folder"),
    (_member("/etc/evil.bin"), "would land outside the folder"),
    (_member("link.bin", tarfile.SYMTYPE, "/etc/passwd"), "is not a regular file"),
    (_member("hard.bin", tarfile.LNKTYPE, "y_labels.csv"), "is not a regular file"),
])
def test_tar_extraction_refuses_what_leaves_the_folder(tmp_path: Path, member: tarfile.TarInfo, why: str) -> None:
    with pytest.raises(DatasetError, match=why):
        extract_tar(_tar([_member("ok/y_labels.csv"), member]), tmp_path, "smoke.tar.xz")
    assert not (tmp_path.parent / "evil.bin").exists()


def test_smoke_sets_unpack_where_extractall_has_no_filter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.11.2 (Debian 12) has no extractall(filter=): the smoke set must not need it."""
    from tinyperf.suite.smoke.store import smoke_dataset

    def old_extractall(self, path, members=None, *, numeric_owner=False):  # type: ignore[no-untyped-def]
        raise AssertionError("extractall is not used")

    monkeypatch.setattr(tarfile.TarFile, "extractall", old_extractall)
    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path))
    folder = smoke_dataset("ic01")
    assert (folder / "y_labels.csv").is_file() and len(list(folder.glob("*.bin"))) > 10


# ---- sessions --------------------------------------------------------------------------------------
def _session_with_samples(tmp_path: Path) -> Session:
    session = Session.create(tmp_path, "b", "kws01", "accuracy")
    session.journal({"event": "start", "request": {"mode": "accuracy", "board": "sim-nucleo-l4r5zi",
                                                   "benchmark": "kws01"}})
    session.journal({"event": "sample", "name": "a.bin", "label": 1, "values": [0.0] * 12, "prediction": 0})
    return session


def test_a_torn_last_journal_line_is_kept_aside_and_every_later_resume_reads(tmp_path: Path) -> None:
    session = _session_with_samples(tmp_path)
    with (session.root / "journal.jsonl").open("a") as handle:
        handle.write('{"event": "sample", "name": "b.b')  # killed mid-write
    for round_ in range(3):
        session.mend_torn_journal()
        session.journal({"event": "resume", "round": round_})
        assert [r["event"] for r in read_journal(session.root)][-1] == "resume"
        assert list(finished_samples(session)) == ["a.bin"]
    assert (session.root / "journal.torn").read_text() == '{"event": "sample", "name": "b.b\n'


def test_one_session_cannot_be_resumed_twice_at_once(tmp_path: Path) -> None:
    session = _session_with_samples(tmp_path)
    code = ("import sys, time; from pathlib import Path; from tinyperf.run.session import Session\n"
            f"held = Session(Path({str(session.root)!r})); held.lock(); print('locked', flush=True); time.sleep(30)")
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = run_cli("run", "--resume", str(session.root), timeout=60)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"is in use by tinyperf pid {holder.pid}" in " ".join(result.stderr.split())
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_session_folder_that_cannot_be_written_is_one_named_error(tmp_path: Path) -> None:
    session = _session_with_samples(tmp_path)
    (session.root / "journal.jsonl").rename(session.root / "journal.old")
    (session.root / "journal.jsonl").mkdir()  # as unwritable as a read-only mount, even for root
    with pytest.raises(SessionWriteError, match=r"cannot append to .*journal.jsonl: Is a directory; the run stopped"):
        session.journal({"event": "sample"})


def test_results_json_never_holds_bare_nan(tmp_path: Path) -> None:
    session = Session.create(tmp_path, "b", "kws01", "energy")
    session.write_results(["x"], {"median_power_mw": float("nan"), "w": [float("inf"), 1.5]}, "x")
    data = json.loads((session.root / "results.json").read_text(), parse_constant=pytest.fail)
    assert data == {"median_power_mw": None, "w": [None, 1.5]}


# ---- malformed files through the CLI ----------------------------------------------------------------
@pytest.mark.parametrize(("content", "why"), [
    (b"{", "results.json:1: not valid JSON"),
    (b"[1, 2]", "holds a JSON list, not the object"),
    (b'{"board": 3, "benchmark": "kws01", "mode": "performance"}', "'board' is missing or not a string"),
    (b"\xff\xfe", "not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "results.json"),
])
@pytest.mark.parametrize("command", [["report"], ["store", "index"], ["compare"]])
def test_malformed_results_json_is_one_line(tmp_path: Path, content: bytes, why: str, command: list[str]) -> None:
    runs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_bytes(content)
        runs.append(str(tmp_path / name))
    args = [*command, *runs] if command != ["store", "index"] else [*command, runs[0]]
    result = run_cli(*args, "--html", str(tmp_path / "r.html")) if command == ["report"] else run_cli(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and why in " ".join(result.stderr.split())


def test_report_of_a_zero_reference_says_na(tmp_path: Path) -> None:
    from tinyperf.results.report import SessionView, html_report

    views = [SessionView(tmp_path / name, {"benchmark": "<b>kws01</b>", "mode": "performance", "board": "b",
                                            "median_throughput": value, "valid": True})
             for name, value in (("a", 0.0), ("b", 5.0))]
    page = html_report(views)
    assert "n/a" in page and "<b>kws01</b>" not in page and "&lt;b&gt;kws01&lt;/b&gt;" in page


@pytest.mark.parametrize(("content", "why"), [
    (b"\xef\xbb\xbfa.bin,12,1\n", None),  # an Excel BOM is not part of the first file name
    (b"a.bin,12,1\nb\xe9.bin,12,2\n", "y_labels.csv:2: not UTF-8 text (byte 0xe9)"),
])
def test_label_files_from_spreadsheets(tmp_path: Path, content: bytes, why: str | None) -> None:
    from tinyperf.suite.datasets import read_labels
    from tinyperf.suite.models import get_entry

    (tmp_path / "y_labels.csv").write_bytes(content)
    if why is None:
        assert [s.name for s in read_labels(tmp_path, get_entry("kws01"))] == ["a.bin"]
    else:
        with pytest.raises(DatasetError, match=re.escape(why)):
            read_labels(tmp_path, get_entry("kws01"))


def test_board_yaml_that_is_not_utf8(tmp_path: Path) -> None:
    from tinyperf.device.boards import load_board_file

    path = tmp_path / "x.yaml"
    path.write_bytes(b"id: x\nname: \xff\n")
    with pytest.raises(ConfigError, match=r"x.yaml: not UTF-8 text \(byte 12\)"):
        load_board_file(path)


# ---- links and lines ---------------------------------------------------------------------------------
def test_socket_links_read_what_has_arrived_in_one_go() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    payload = bytes(range(256)) * 40

    def send() -> None:
        conn, _ = server.accept()
        with conn:
            time.sleep(0.3)  # after pyserial's open, which throws away what is already there
            conn.sendall(payload)
            time.sleep(2)

    threading.Thread(target=send, daemon=True).start()
    link = SerialLink.open(f"socket://127.0.0.1:{server.getsockname()[1]}", 115200)
    try:
        time.sleep(0.6)
        got, reads = b"", 0
        while len(got) < len(payload):
            got += link.read_some(Deadline(2))
            reads += 1
        assert got == payload and reads <= 3  # not 2 bytes per read (5,120 reads)
    finally:
        link.close()
        server.close()


def test_line_splitter_memory_is_bounded_and_the_stream_recovers() -> None:
    splitter = LineSplitter(max_line=100)
    with pytest.raises(LineTooLong, match="longer than 100 bytes"):
        for _ in range(1000):
            splitter.feed(b"x" * 64)
    assert len(splitter.pending) <= 100
    assert splitter.feed(b"xxx\r\nm-ready\r\n") == ["m-ready"]  # the rest of the long line is dropped


class _Scripted(Link):
    url = "scripted://"

    def __init__(self, data: bytes) -> None:
        self.data = data

    def write(self, data: bytes) -> None:
        pass

    def read_some(self, deadline: Deadline) -> bytes:
        if not self.data:
            time.sleep(min(deadline.remaining(), 0.01))
            return b""
        chunk, self.data = self.data[:997], self.data[997:]
        return chunk

    def close(self) -> None:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=20_000) | st.lists(st.sampled_from([
    b"m-ready\r\n", b"m-results-[", b"nan,", b"1e999,", b"]\r\n", b"m-lap-us-", b"9" * 30, b"\r\n", b"e-[x]\r\n",
    b"m-[Expecting 99999999999999999999999 bytes]\r\n", b"m-init-done\r\n", b"\x00", b"\xff" * 50,
    b"m-timestamp-mode-performance\r\n", b"m-name-dut-[", b"m-model-[kws01]\r\n"]), max_size=200).map(b"".join))
def test_any_bytes_from_a_device_end_in_a_reply_or_a_named_error(data: bytes) -> None:
    from tinyperf.device.dut import Device

    device = Device(LegacyClient(_Scripted(data), timeout_s=0.05), outputs=12)
    started = time.monotonic()
    for call in (device.identify, device.results, lambda: device.infer(1, 0, 0.05)):
        with contextlib.suppress(TinyperfError):  # anything else (ValueError, IndexError...) fails the test
            call()
    assert time.monotonic() - started < 5


def test_ppk2_metadata_that_does_not_parse_is_a_monitor_error() -> None:
    from tinyperf.power.ppk2 import Ppk2
    from tinyperf.power.profiles import instrument_profile

    class Api:
        def __init__(self, failure: Exception | None, modifiers: object = None) -> None:
            self.failure, self.modifiers = failure, modifiers

        def get_modifiers(self) -> object:
            if self.failure:
                raise self.failure
            return self.modifiers

    ppk2 = Ppk2.__new__(Ppk2)  # the driver without a port: only its metadata handling is under test
    ppk2.name, ppk2.profile = "PPK2 at /dev/ttyACM9", instrument_profile("ppk2")
    for api in (Api(UnicodeDecodeError("ascii", b"\xff", 0, 1, "bad")), Api(IndexError("list index")),
                Api(None, {"HW": 1, "Calibrated": 0, "R": {"0": "x"}})):
        ppk2.api = api
        with pytest.raises(MonitorError, match="PPK2 at /dev/ttyACM9 sent metadata that does not parse"):
            ppk2.identify()


@pytest.mark.parametrize("benchmark", ["kws01", "vww01", "ad01", "ic01"])
def test_synthetic_float_inputs_are_finite_for_every_model(benchmark: str) -> None:
    """Random bytes read as float32 hold NaN and inf patterns, which a checked result vector then refuses:
    the demo's fallback ad01 failed that way. Generated float inputs must be finite numbers."""
    from tinyperf.suite.models import fallback_entry, get_entry
    from tinyperf.suite.synthetic import synthetic_inputs

    for entry in (get_entry(benchmark), fallback_entry(benchmark)):
        if entry.input.bin_format in ("float32", "float32_quantize"):
            for _, data in synthetic_inputs(entry, 5):
                assert np.isfinite(np.frombuffer(data, "<f4")).all(), (benchmark, entry.input.bin_format)
