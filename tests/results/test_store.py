"""The results store on real runs of the simulated board: indexed as they finish, listed, shown,
repeated from provenance.json, and a broken store never costs a run."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

from tests.conftest import run_cli
from tinyperf.results.store import dataset_hash, find, history
from tinyperf.suite.smoke.store import smoke_subset


def _dataset(folder: Path, count: int) -> Path:
    return smoke_subset("kws01", count, folder)


def _run(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("run", "--board", "sim-nucleo-l4r5zi", "--benchmark", "kws01", "--sessions-dir",
                   str(tmp_path / "sessions"), *args)


def test_runs_are_indexed_listed_shown_and_rerun(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path / "ds", 20)
    assert _run(tmp_path, "--mode", "performance").returncode == 0
    accuracy = _run(tmp_path, "--mode", "accuracy", "--dataset", str(dataset))
    assert accuracy.returncode == 0, accuracy.stderr
    rows = history()
    assert [r.mode for r in rows] == ["accuracy", "performance"] and all(r.simulated for r in rows)
    stored = find(rows[0].id.removesuffix("uracy"))  # a unique start of the name is enough
    results = json.loads((stored.path / "results.json").read_text())
    assert stored.headline == {"top1_percent": results["top1_percent"]}
    provenance = json.loads((stored.path / "provenance.json").read_text())
    assert provenance["dataset_hash"] == dataset_hash(dataset)
    assert provenance["model_sha256"] == results["model"]["sha256"]
    assert provenance["versions"]["tinyperf"] and provenance["versions"]["tflite-micro"]
    with sqlite3.connect(os.environ["TINYPERF_STORE"]) as db:
        (stored_provenance, model_sha) = db.execute("SELECT provenance, model_sha256 FROM sessions WHERE id = ?",
                                                    [stored.id]).fetchone()
    assert json.loads(stored_provenance) == provenance and model_sha == results["model"]["sha256"]
    listed = run_cli("history", "--mode", "accuracy")
    assert listed.returncode == 0 and "performance" not in listed.stdout
    # at 80 columns (a pipe's default): one line per session, its time as handle, figures by their label
    handle = stored.id.removesuffix("-sim-nucleo-l4r5zi-kws01-accuracy")
    row = next(line for line in listed.stdout.splitlines() if handle in line)
    assert row.split()[:5] == [handle, "sim-nucleo-l4r5zi", "(sim)", "kws01", "accuracy"]
    assert f"top-1 {results['top1_percent']:.4g} %" in row and "top1_percent" not in listed.stdout
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    shown = run_cli("show", str(stored.path))
    assert shown.returncode == 0 and results["model"]["sha256"][:40] in shown.stdout.replace("\n", "").replace("│", "")

    again = run_cli("rerun", str(stored.path))
    assert again.returncode == 0, again.stderr
    newest = history(mode="accuracy")[0]
    assert newest.id != stored.id
    again_results = json.loads((newest.path / "results.json").read_text())
    assert [s["prediction"] for s in again_results["samples"]] == [s["prediction"] for s in results["samples"]]

    labels = dataset / "y_labels.csv"
    first, *rest = labels.read_text().splitlines()
    name, classes, label = first.split(",")
    labels.write_text("\n".join([f"{name},{classes},{(int(label) + 1) % 12}", *rest]) + "\n")
    refused = run_cli("rerun", str(stored.path))
    assert refused.returncode == 2 and "provenance.json: the dataset" in refused.stderr
    assert "has changed" in refused.stderr


def test_a_broken_store_costs_no_run_and_says_how_to_fix_it(tmp_path: Path) -> None:
    store = Path(os.environ["TINYPERF_STORE"])
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_bytes(b"this is not an SQLite file" * 100)
    ran = _run(tmp_path, "--mode", "performance")
    assert ran.returncode == 0, ran.stderr
    assert "not indexed" in ran.stderr and "tinyperf store index" in ran.stderr
    (session,) = (tmp_path / "sessions").iterdir()
    assert (session / "results.txt").read_text().count("Median throughput is") == 1
    listed = run_cli("history")
    assert listed.returncode == 2 and f"results store {store}" in listed.stderr and "rebuild it" in listed.stderr
    store.unlink()
    indexed = run_cli("store", "index", str(tmp_path / "sessions"))
    assert indexed.returncode == 0 and "indexed 1 session(s)" in indexed.stdout
    assert [r.id for r in history()] == [session.name]


def test_rerun_refuses_when_the_firmware_it_ran_has_changed(tmp_path: Path) -> None:
    from tests.firmware.test_firmware import _need

    _need("cmake", "gcc")
    assert run_cli("build", "--board", "posix-host", "--benchmark", "kws01", cwd=tmp_path).returncode == 0
    ran = run_cli("run", "--board", "posix-host", "--mode", "performance", "--min-window", "1",
                  "--sessions-dir", str(tmp_path / "sessions"), cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr  # 1 s windows: written, and marked INVALID
    (session,) = (tmp_path / "sessions").iterdir()
    assert json.loads((session / "provenance.json").read_text())["firmware_sha256"]
    again = run_cli("rerun", str(session), "--sessions-dir", str(tmp_path / "again"), cwd=tmp_path)
    assert again.returncode == 1 and "rerun of" in again.stdout  # the same (INVALID) run again
    with (tmp_path / "builds" / "posix-host" / "firmware").open("ab") as elf:
        elf.write(b"\0")
    refused = run_cli("rerun", str(session), cwd=tmp_path)
    assert refused.returncode == 2 and "the firmware this run used is gone or rebuilt" in refused.stderr


def test_a_store_made_before_a_column_was_added_is_upgraded_in_place(tmp_path: Path) -> None:
    store = Path(os.environ["TINYPERF_STORE"])
    store.parent.mkdir(parents=True, exist_ok=True)
    from tinyperf.results.store import SCHEMA

    # the first schema: no provenance column, so figures was the last one
    old_schema = re.sub(r"\n\s*provenance TEXT[^\n]*", "", SCHEMA)
    old_schema = old_schema.replace("figures TEXT NOT NULL,", "figures TEXT NOT NULL")
    assert "provenance TEXT" not in old_schema
    with sqlite3.connect(store) as db:
        db.executescript(old_schema)
    ran = _run(tmp_path, "--mode", "performance")
    assert ran.returncode == 0 and "not indexed" not in ran.stderr, ran.stderr
    assert len(history()) == 1
