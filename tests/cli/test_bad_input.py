"""Every bad input named in the walking-skeleton issue: one line saying what and where, exit != 0,
no traceback, and no earlier session touched."""

from __future__ import annotations

import errno
import os
import shutil
import tty
from pathlib import Path

import pytest
import serial

from tests.conftest import model_path, run_cli
from tinyperf.device.boards import load_board_file
from tinyperf.device.link.serial_link import explain_open_error
from tinyperf.errors import ConfigError, ModelError
from tinyperf.suite.models import resolve_model


def _fails_cleanly(result, *fragments: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    for fragment in fragments:
        assert fragment in message, message
    return message


def _run(*extra: str, tmp_path: Path, benchmark: str = "kws01", mode: str = "performance"):
    return run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", benchmark, "--mode", mode,
                   "--sessions-dir", str(tmp_path / "sessions"), *extra)


def test_unknown_board(tmp_path: Path) -> None:
    result = run_cli("run", "--board", "nucleo-nope", "--benchmark", "kws01", "--mode", "performance")
    _fails_cleanly(result, "unknown board 'nucleo-nope'", "sim-nucleo-l4r5zi")


def test_real_board_without_port_or_usb_match(tmp_path: Path) -> None:
    result = run_cli("run", "--board", "nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "performance",
                     "--sessions-dir", str(tmp_path))
    _fails_cleanly(result, "no --port given", "0483:374B", "--port")


def test_missing_port(tmp_path: Path) -> None:
    _fails_cleanly(_run("--port", "/dev/ttyNOPE0", tmp_path=tmp_path), "/dev/ttyNOPE0 does not exist")


def test_busy_port(sim_kws, tmp_path: Path) -> None:
    holder = serial.Serial(sim_kws.url, exclusive=True)
    try:
        _fails_cleanly(_run("--port", sim_kws.url, tmp_path=tmp_path), f"port {sim_kws.url} is busy")
    finally:
        holder.close()


def test_permission_denied_message() -> None:
    # tests run as root, for whom no device node is unreadable: check the mapping of the real errno
    error = serial.SerialException(errno.EACCES, "could not open port /dev/ttyACM0: [Errno 13] Permission denied")
    assert "permission denied opening /dev/ttyACM0" in explain_open_error("/dev/ttyACM0", error)
    assert "dialout" in explain_open_error("/dev/ttyACM0", error)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_permission_denied_for_real_as_unprivileged_user(tmp_path: Path) -> None:
    import subprocess
    import sys

    master, slave = os.openpty()
    path = os.ttyname(slave)
    os.chmod(path, 0o600)
    code = ("import sys; from tinyperf.device.link.serial_link import SerialLink\n"
            "from tinyperf.errors import LinkError\n"
            f"try:\n SerialLink.open({path!r}, 115200)\nexcept LinkError as e:\n print(e)")
    host = str(Path(__file__).resolve().parents[2] / "host")
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                             code], capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": host})
    os.close(master)
    os.close(slave)
    if "Permission denied" in result.stderr and "tinyperf" not in result.stdout:
        pytest.skip(f"the unprivileged user cannot run this interpreter: {result.stderr.strip()[-200:]}")
    assert f"permission denied opening {path}" in result.stdout


def test_device_not_answering(tmp_path: Path) -> None:
    master, slave = os.openpty()  # a port with nothing behind it
    tty.setraw(slave)
    try:
        message = _fails_cleanly(_run("--port", os.ttyname(slave), "--timeout", "0.5", tmp_path=tmp_path),
                                 "did not answer 'tp-caps%' within 0.5 s")
    finally:
        os.close(master)
        os.close(slave)
    (session,) = (tmp_path / "sessions").iterdir()
    assert "tp-caps%" in (session / "log.txt").read_text()  # the transcript survives the failure
    assert message.startswith("error:")


def _dataset(folder: Path, rows: list[str], sizes: dict[str, int]) -> Path:
    folder.mkdir()
    for name, size in sizes.items():
        (folder / name).write_bytes(bytes(size))
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_dataset_size_mismatch(tmp_path: Path) -> None:
    ds = _dataset(tmp_path / "ds", ["a.bin,12,3"], {"a.bin": 400})
    _fails_cleanly(_run("--dataset", str(ds), tmp_path=tmp_path, mode="accuracy"),
                   "a.bin: 400 bytes, but the model input takes 490")


def test_model_does_not_fit_benchmark(tmp_path: Path) -> None:
    _fails_cleanly(_run("--model", str(model_path("vww01")), tmp_path=tmp_path),
                   "model input has 27648 elements", "kws01 inputs carry 490")


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["a.bin,12,3", "b.bin,12"], "y_labels.csv:2: expected 3 fields"),
        (["a.bin,12,x"], "y_labels.csv:1: label must be an integer, got 'x'"),
        (["a.bin,12,40"], "y_labels.csv:1: label 40 is outside 0..11"),
        (["a.bin,10,1"], "y_labels.csv:1: num_classes is 10, the model has 12"),
    ],
)
def test_malformed_labels(tmp_path: Path, rows: list[str], expected: str) -> None:
    ds = _dataset(tmp_path / "ds", rows, {"a.bin": 490, "b.bin": 490})
    _fails_cleanly(_run("--dataset", str(ds), tmp_path=tmp_path, mode="accuracy"), expected)


def test_missing_dataset_files(tmp_path: Path) -> None:
    ds = _dataset(tmp_path / "ds", ["a.bin,12,3", "gone.bin,12,1"], {"a.bin": 490})
    _fails_cleanly(_run("--dataset", str(ds), tmp_path=tmp_path, mode="accuracy"), "1 of 2 input files are missing")


def test_duplicate_dataset_rows(tmp_path: Path) -> None:
    ds = _dataset(tmp_path / "ds", ["a.bin,12,3", "b.bin,12,1", "a.bin,12,3"], {"a.bin": 490, "b.bin": 490})
    _fails_cleanly(_run("--dataset", str(ds), tmp_path=tmp_path, mode="accuracy"),
                   "y_labels.csv:3: a.bin is listed twice (first on line 1)")


@pytest.mark.parametrize(
    ("rows", "sizes", "expected"),
    [
        (["a.bin,12,3"], {"a.bin": 489}, "a.bin: 489 bytes, but the model input takes 490"),
        (["a.bin,12,12"], {"a.bin": 490}, "y_labels.csv:1: label 12 is outside 0..11"),
        (["a.bin,12,3", "gone.bin,12,1"], {"a.bin": 490}, "1 of 2 input files are missing, first:"),
        (["a.bin,12,3", "a.bin,12,4"], {"a.bin": 490}, "y_labels.csv:2: a.bin is listed twice"),
    ],
)
def test_datasets_check_names_the_problem(tmp_path: Path, rows: list[str], sizes: dict[str, int],
                                          expected: str) -> None:
    ds = _dataset(tmp_path / "ds", rows, sizes)
    message = _fails_cleanly(run_cli("datasets", "check", str(ds), "--benchmark", "kws01"), expected)
    assert str(ds) in message


def test_datasets_check_accepts_a_good_folder(tmp_path: Path) -> None:
    ds = _dataset(tmp_path / "ds", ["a.bin,12,3", "b.bin,12,11"], {"a.bin": 490, "b.bin": 490})
    result = run_cli("datasets", "check", str(ds), "--benchmark", "kws01")
    assert result.returncode == 0, result.stderr
    assert "2 samples fit kws01" in result.stdout and "No 1" in result.stdout and "Unknown 1" in result.stdout


def test_earlier_sessions_survive_a_failed_run(tmp_path: Path) -> None:
    assert _run("--min-window", "0.5", tmp_path=tmp_path).returncode == 1  # short windows: marked invalid
    (first,) = (tmp_path / "sessions").iterdir()
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    assert "INVALID run" in before["results.txt"].decode()
    _run("--port", "/dev/ttyNOPE0", tmp_path=tmp_path)
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before


def test_bad_board_yaml_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "b1.yaml"
    bad.write_text("id: b1\nname: x\nmcu: x\ncore: x\nclock_hz: fast\nflash_kb: 1\nram_kb: 1\nbaud: 9600\n"
                   "max_input_bytes: 10\n")
    with pytest.raises(ConfigError, match=r"b1.yaml: field 'clock_hz'"):
        load_board_file(bad)
    broken = tmp_path / "b2.yaml"
    broken.write_text("id: b2\nname: [unclosed\n")
    with pytest.raises(ConfigError, match=r"b2.yaml: line \d+ is not valid YAML"):
        load_board_file(broken)


def test_wrong_hash_in_models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kws_ref_model.tflite").write_bytes(model_path("kws01").read_bytes()[:-10])
    monkeypatch.setenv("TINYPERF_MODELS", str(tmp_path))
    with pytest.raises(ModelError, match="does not match the pinned"):
        resolve_model("kws01")


def test_non_tflite_model_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"hello, not a model")
    with pytest.raises(ModelError, match="not a TensorFlow Lite flatbuffer"):
        resolve_model("kws01", junk)
