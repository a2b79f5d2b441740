"""Submission export and check on real sessions: the tree the official v1.4 checker reads, data provenance,
the newest valid session, and every check rule failing once on an otherwise good tree."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tinyperf.results.submission_rules import check
from tinyperf.run.modes.performance import PerformanceSettings
from tinyperf.run.runner import RunRequest, execute

BOARD = "sim-nucleo-l4r5zi"
SYSTEM = "sim-l4r5"


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kws01 in all three modes, then a newer INVALID performance run (4 windows) that export must skip."""
    folder = tmp_path_factory.mktemp("sessions")
    for mode, monitor in (("performance", None), ("accuracy", None), ("energy", "sim")):
        execute(RunRequest(board=BOARD, benchmark="kws01", mode=mode, monitor=monitor, sessions_dir=folder))  # type: ignore[arg-type]
    execute(RunRequest(board=BOARD, benchmark="kws01", mode="performance", sessions_dir=folder,
                       performance=PerformanceSettings(windows=4)))
    return folder


def _export(sessions: Path, out: Path, division: str, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli("submission", "export", str(out), "--system", SYSTEM, "--division", division,
                   "--sessions-dir", str(sessions), *extra)


def _runs(tree: Path, division: str = "open") -> Path:
    return tree / division / "tinyperf" / "results" / SYSTEM / "kws"


def test_export_writes_the_official_layout_names_and_readable_logs(sessions: Path, tmp_path: Path) -> None:
    refused = _export(sessions, tmp_path / "refused", "open")
    assert refused.returncode == 2 and "SIMULATED-board run" in refused.stderr
    done = _export(sessions, tmp_path / "sub", "open", "--allow-simulated", "--system-field", "Status=Preview",
                   "--system-field", "Hardware Notes=bench 3")
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "skipped" in out and "INVALID: 4 windows" in out  # the newer invalid run is named and left out
    runs = _runs(tmp_path / "sub")
    for mode in ("performance", "accuracy", "energy"):
        assert {p.name for p in (runs / mode).iterdir()} >= {"log.txt", "results.txt", "results.json"}
    assert json.loads((runs / "performance" / "results.json").read_text())["valid"] is True
    assert (runs / "energy" / "energy_inf_000.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    log = (runs / "accuracy" / "log.txt").read_text()
    assert "\0" not in log and "> [frame" in log and "< [frame" in log and "m-results-f32-[" in log
    system = json.loads((tmp_path / "sub" / "open" / "tinyperf" / "systems" / f"{SYSTEM}.json").read_text())
    assert system["Status"] == "Preview" and system["Hardware Notes"] == "bench 3"
    assert "Operating System " in system and system["Processor(s) Frequencies"] == "120 MHz"
    assert "SIMULATED" in system["Software Notes"]
    findings = check(tmp_path / "sub")
    assert findings and {f.rule for f in findings} == {"simulated"} and not any(f.official for f in findings)


def test_closed_export_refuses_smoke_accuracy_unless_allowed_and_then_labels_it(sessions: Path, tmp_path: Path) -> None:
    refused = _export(sessions, tmp_path / "r", "closed", "--allow-simulated")
    assert refused.returncode == 2
    assert "accuracy data is smoke" in " ".join(refused.stderr.split())
    assert not (tmp_path / "r").exists()  # refused before anything is written
    assert _export(sessions, tmp_path / "c", "closed", "--allow-simulated", "--allow-unofficial-data").returncode == 0
    results = (_runs(tmp_path / "c", "closed") / "accuracy" / "results.txt").read_text()
    assert "UNOFFICIAL DATA (exported with --allow-unofficial-data): smoke" in results
    rules = {f.rule for f in check(tmp_path / "c")}
    assert {"data", "accuracy-target", "simulated"} <= rules


def test_bad_system_field_and_status_are_refused(sessions: Path, tmp_path: Path) -> None:
    typo = _export(sessions, tmp_path / "t", "open", "--allow-simulated", "--system-field", "status=available")
    assert typo.returncode == 2 and "did you mean 'Status'" in typo.stderr
    status = _export(sessions, tmp_path / "s", "open", "--allow-simulated", "--system-field", "Status=soon")
    assert status.returncode == 2 and "available, preview, rdi" in status.stderr


@pytest.fixture(scope="module")
def good_tree(sessions: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An exported open-division tree edited into what a hardware run on official data exports: every rule
    passes, so each mutation below shows its own rule failing alone."""
    tree = tmp_path_factory.mktemp("good") / "tree"
    assert _export(sessions, tree, "open", "--allow-simulated").returncode == 0
    for results in tree.rglob("results.json"):
        data = json.loads(results.read_text())
        data["simulated"] = False
        data["data"] = {"kind": "official", "reason": "edited for the rule tests"}
        results.write_text(json.dumps(data))
    assert check(tree) == []
    return tree


def _replace_line(path: Path, needle: str, new: str) -> None:
    path.write_text("".join(new + "\n" if needle in line else line
                            for line in path.read_text().splitlines(keepends=True)))


def _to_closed(tree: Path) -> None:
    (tree / "open").rename(tree / "closed")
    system = tree / "closed" / "tinyperf" / "systems" / f"{SYSTEM}.json"
    system.write_text(system.read_text().replace('"open"', '"closed"'))


def _system_json(tree: Path, edit: Callable[[dict], None]) -> None:
    path = tree / "open" / "tinyperf" / "systems" / f"{SYSTEM}.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def _json_edit(path: Path, edit: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def _ic2_without_ic(tree: Path) -> None:
    shutil.copytree(_runs(tree), _runs(tree).parent / "ic2")
    shutil.rmtree(_runs(tree))


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as f:
        f.truncate(size)


MUTATIONS: dict[str, Callable[[Path], None]] = {
    "division": lambda t: (t / "open").rename(t / "opne"),
    "symlink": lambda t: os.symlink("results.txt", _runs(t) / "performance" / "link.txt"),
    "file-size": lambda t: _sparse(_runs(t) / "energy" / "big.bin", 501 * 1024 * 1024),
    "pycache": lambda t: ((_runs(t) / "__pycache__").mkdir(), (_runs(t) / "__pycache__" / "x.pyc").write_bytes(b"x")),
    "empty-dir": lambda t: (_runs(t) / "performance" / "extra").mkdir(),
    "system-file": lambda t: (t / "open" / "tinyperf" / "systems" / f"{SYSTEM}.json").rename(
        t / "open" / "tinyperf" / "systems" / "other.json"),
    "status": lambda t: _system_json(t, lambda d: d.pop("Status")),
    "system-type": lambda t: _system_json(t, lambda d: d.update(system_type="datacenter")),
    "system-fields": lambda t: _system_json(t, lambda d: d.update({"Board Name": ""})),
    "model": lambda t: (_runs(t).rename(_runs(t).parent / "kws01"), _to_closed(t)),
    "ic2-needs-ic": _ic2_without_ic,
    "required-test": lambda t: shutil.rmtree(_runs(t) / "accuracy"),
    "file-list": lambda t: (_runs(t) / "performance" / "notes.txt").write_text("x"),
    "accuracy-line": lambda t: _replace_line(_runs(t) / "accuracy" / "results.txt", "Top-1%", "accuracy: good"),
    "accuracy-target": _to_closed,
    "performance-line": lambda t: _replace_line(_runs(t) / "performance" / "results.txt", "Median throughput", "x"),
    "energy-line": lambda t: _replace_line(_runs(t) / "energy" / "results.txt", "Median energy cost", "x"),
    "windows": lambda t: _json_edit(_runs(t) / "performance" / "results.json", lambda d: d["windows"].pop()),
    "invalid": lambda t: _replace_line(_runs(t) / "energy" / "results.txt", "Rules followed", "INVALID run: x"),
    "simulated": lambda t: _json_edit(_runs(t) / "energy" / "results.json", lambda d: d.update(simulated=True)),
    "readable-log": lambda t: (_runs(t) / "performance" / "log.txt").write_bytes(b"\0\x01frames"),
    "energy-plot": lambda t: (_runs(t) / "energy" / "energy_inf_000.png").unlink(),
}
OFFICIAL = {"division", "symlink", "file-size", "pycache", "empty-dir", "system-file", "status", "system-type",
            "model", "ic2-needs-ic", "required-test", "file-list", "accuracy-line", "accuracy-target",
            "performance-line", "energy-line"}


@pytest.mark.parametrize("rule", list(MUTATIONS))
def test_each_rule_fails_alone_naming_its_rule_and_file(good_tree: Path, tmp_path: Path, rule: str) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(good_tree, tree, symlinks=True)
    MUTATIONS[rule](tree)
    findings = check(tree)
    assert [f.rule for f in findings] == [rule], findings
    assert findings[0].official == (rule in OFFICIAL)
    assert str(tree) in str(findings[0].path)


def test_check_cli_prints_rule_origin_and_file(good_tree: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(good_tree, tree)
    assert run_cli("submission", "check", str(tree)).returncode == 0
    MUTATIONS["status"](tree)
    result = run_cli("submission", "check", str(tree))
    assert result.returncode == 1
    text = " ".join(result.stdout.split())
    assert f"FAIL [status] (official) {tree}/open/tinyperf/systems/{SYSTEM}.json: Status None" in text


def test_sww_folder_needs_its_lines_and_counts(good_tree: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(good_tree, tree)
    sww = _runs(tree).parent / "sww" / "performance"
    sww.mkdir(parents=True)
    (sww / "log.txt").write_text("log\n")
    (sww / "results.txt").write_text("x Accuracy: 40 True positives, 9 False negatives, 3 False positives\n"
                                     "Average duty cycle: 0.5\nEstimated throughput: 50.1 inf./sec.\n")
    assert [f.message for f in check(tree)] == ["TP 40 + FN 9 != 50"]
    _to_closed(tree)
    (_runs(tree, "closed").parent / "sww" / "performance" / "results.txt").write_text(
        "x Accuracy: 41 True positives, 9 False negatives, 12 False positives\n"
        "Average duty cycle: 0.5\nEstimated throughput: 50.1 inf./sec.\n")
    assert "sww-fp-fn" in {f.rule for f in check(tree)}
