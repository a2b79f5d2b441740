"""A newcomer's first hour: a fast CLI, a version, options refused where they are parsed, exit codes,
one-line file errors, progress a CI log can show, and no child left behind by SIGTERM or SIGHUP."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tinyperf.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ.copy())


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc (children of children too)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_line(process: subprocess.Popen, needle: str, timeout_s: float) -> list[str]:
    assert process.stdout is not None
    fd = process.stdout.fileno()
    buffer = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        chunk = os.read(fd, 65536) if ready else b""
        buffer += chunk
        if needle.encode() in buffer:
            return buffer.decode(errors="replace").splitlines()
        if ready and not chunk:
            break  # it exited
    raise AssertionError(f"no line with {needle!r} within {timeout_s} s: {buffer[-400:]!r}")


def terminated_cleanly(args: list[str], needle: str, signum: int, timeout_s: float = 120) -> tuple[str, set[int]]:
    """Start the CLI, wait for `needle` on stdout, send `signum`; return stderr and the children it had."""
    process = _cli(*args)
    try:
        _wait_for_line(process, needle, timeout_s)
        children = descendants(process.pid)
        assert children, "the run had started no child process"
        process.send_signal(signum)
        _, raw_err = process.communicate(timeout=60)
        err = raw_err.decode(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {pid for pid in children if alive(pid)}
    assert not left, f"left running after {signal.Signals(signum).name}: {left}"
    return err, children


@pytest.mark.no_models
def test_version_and_exit_codes_in_help() -> None:
    from tinyperf import __version__

    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"tinyperf {__version__}"
    shown = run_cli("--help", "--debug")
    assert shown.returncode == 0
    flat = " ".join(shown.stdout.replace("│", " ").split())
    assert ("Exit codes: 0 ok; 1 measured but INVALID, or a regression (gate); 2 user or input error (one line "
            "says what to do); 3 inconclusive (gate); 4 internal error; 130 interrupted (Ctrl-C, SIGTERM, SIGHUP)."
            ) in flat


@pytest.mark.no_models
def test_cli_start_imports_nothing_heavy() -> None:
    """`tinyperf --help` must start fast: no numpy, pydantic, matplotlib or model code at import."""
    probe = ("import sys, tinyperf.cli.app; heavy = [m for m in ('numpy', 'pydantic', 'matplotlib', 'yaml', "
             "'tflite_micro', 'tinyperf.run.runner', 'tinyperf.device.boards') if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


@pytest.mark.no_models
@pytest.mark.parametrize(("args", "message"), [
    (["--baud", "0"], "Invalid value for '--baud'"),
    (["--timeout", "-1"], "Invalid value for --timeout: -1 is not > 0 seconds"),
    (["--min-window", "0"], "Invalid value for --min-window: 0 is not > 0 seconds"),
    (["--monitor-rate", "0"], "Invalid value for '--monitor-rate'"),
    (["--duty-arrivals", "bursty"], "error: --duty-arrivals 'bursty': expected periodic or poisson"),
])
def test_run_options_are_refused_where_they_are_parsed(args: list[str], message: str) -> None:
    ran = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "performance", *args)
    assert ran.returncode == 2
    assert message in " ".join(ran.stderr.replace("│", " ").split())


@pytest.mark.no_models
def test_resume_refuses_options_it_would_ignore(tmp_path: Path) -> None:
    ran = run_cli("run", "--resume", str(tmp_path), "--board", "sim-nucleo-l4r5zi", "--mode", "accuracy")
    assert ran.returncode == 2
    assert ran.stderr.strip() == ("error: --resume continues a session with the options it was started with; drop "
                                  "--board, --mode (only --port may be given anew)")


def test_a_file_where_a_folder_should_be_is_one_line_with_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file\n")
    for args in (
        ["run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "ad01", "--mode", "performance",
         "--sessions-dir", str(blocker / "sessions")],
        ["datasets", "synth", "ad01", "--out", str(blocker / "set"), "--count", "2"],
        ["monitor", "trace", "--out", str(blocker / "trace.png"), "--seconds", "0.2"],
    ):
        ran = run_cli(*args)
        assert ran.returncode == 2, (args, ran.stdout, ran.stderr)
        lines = ran.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, ran.stderr)
        assert str(blocker) in lines[0], lines[0]
        assert "Not a directory" in lines[0] or "a file is in the way of a folder" in lines[0], lines[0]
        assert "Traceback" not in ran.stderr


def test_performance_progress_in_a_log_and_every_figure_on_screen(tmp_path: Path) -> None:
    """Piped (as in CI), progress is plain lines: calibration, then exactly 5 windows; the summary shows
    the single-stream and offline figures as well as writing them."""
    ran = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "ad01", "--mode", "performance",
                  "--sessions-dir", str(tmp_path), "--single-stream", "20", "--offline", "1")
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert "ad01 calibration: started, 1 to do" in lines
    assert "ad01 performance windows: started, 5 to do" in lines
    windows = [line for line in lines if line.startswith("ad01 performance windows: 5/5 (100 %)")]
    assert len(windows) == 1 and "ETA 0:00:00" in windows[0] and "/s" in windows[0]
    assert not any("6/6" in line for line in lines)
    data = json.loads(next(tmp_path.iterdir()).joinpath("results.json").read_text())
    ss, off = data["single_stream"], data["offline"]
    assert f"p50 {ss['p50_ms']:.3f} / p90 {ss['p90_ms']:.3f} / p99 {ss['p99_ms']:.3f} ms" in ran.stdout
    assert f"{off['throughput']:.3f} inf./s ({off['inferences']} inferences" in ran.stdout


def test_an_invalid_run_says_why_and_report_and_gate_keep_their_contract(tmp_path: Path) -> None:
    ran = run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "ad01", "--mode", "performance",
                  "--sessions-dir", str(tmp_path / "s"), "--min-window", "0.5")
    assert ran.returncode == 1, ran.stderr
    session = next((tmp_path / "s").iterdir())
    assert ran.stderr.startswith("INVALID under the MLPerf Tiny rules: window 0 lasted ")
    assert f"(exit 1; the session is kept in {session})" in " ".join(ran.stderr.split())
    # a place that cannot be written: one line, exit 2 (gate's 1 means "regression", so it must not be 1)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    report = run_cli("report", str(session), "--html", str(blocker / "report.html"))
    gate = run_cli("gate", str(session), "--baseline", str(session), "--markdown", str(blocker / "gate.md"))
    for done in (report, gate):
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"error: {blocker}/") and "Not a directory" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    gated = run_cli("gate", str(session), "--baseline", str(session))
    assert gated.returncode == 1 and "gate: the new run is INVALID" in gated.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_every_child_and_closes_the_session(tmp_path: Path, signum: int) -> None:
    err, _ = terminated_cleanly(["run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--mode", "energy",
                                 "--monitor", "sim", "--pacing", "realtime", "--sessions-dir", str(tmp_path)],
                                "kws01 energy windows: started", signum)
    session = next(tmp_path.iterdir())
    name = signal.Signals(signum).name
    assert err.strip() == (f"interrupted; what was measured is journaled in {session}/journal.jsonl (this energy run "
                           "cannot be continued: run it again)")
    records = [json.loads(line) for line in (session / "journal.jsonl").read_text().splitlines()]
    assert {k: v for k, v in records[-1].items() if k != "t"} == {"event": "interrupted", "by": name}


def test_monitor_trace_records_the_seconds_asked_for(tmp_path: Path) -> None:
    import numpy as np

    ran = run_cli("monitor", "trace", "--out", str(tmp_path / "t.png"), "--seconds", "2")
    assert ran.returncode == 0, ran.stderr
    trace = np.load(tmp_path / "t.npz")
    seconds = len(trace["energies_j"]) * float(trace["period_s"])
    assert 2.0 <= seconds < 2.2, seconds
