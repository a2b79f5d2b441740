"""A session folder: transcript, crash-safe journal, results.txt/json and a short summary.

Why a journal: every measured figure is appended (and flushed) before the runner acts on it, so
a crash or Ctrl-C never loses what was already measured.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tinyperf.errors import ConfigError


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


_JOURNAL_LOCK = threading.Lock()  # the shards of a run journal from their own threads


@dataclass
class Session:
    root: Path

    @classmethod
    def create(cls, sessions_dir: Path, board: str, benchmark: str, mode: str) -> Session:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{board}-{benchmark}-{mode}"
        sessions_dir.mkdir(parents=True, exist_ok=True)
        for suffix in range(1000):
            root = sessions_dir / (base if suffix == 0 else f"{base}-{suffix}")
            try:
                root.mkdir()
            except FileExistsError:
                continue
            return cls(root)
        raise FileExistsError(f"too many sessions named {base} in {sessions_dir}")

    @property
    def log_path(self) -> Path:
        return self.root / "log.txt"

    def journal(self, record: dict[str, Any]) -> None:
        with _JOURNAL_LOCK, (self.root / "journal.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"t": time.time(), **record}) + "\n")
            handle.flush()

    def write_results(self, lines: list[str], data: dict[str, Any], summary: str) -> None:
        now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        _atomic_write(self.root / "results.txt", "".join(f"{now} tinyperf: {line}\n" for line in lines))
        _atomic_write(self.root / "results.json", json.dumps(data, indent=2) + "\n")
        _atomic_write(self.root / "summary.txt", summary + "\n")


def read_journal(root: Path) -> list[dict[str, Any]]:
    """Every record of a session's journal. A torn last line (the run was killed mid-write) is left
    out; a broken line anywhere else is an error naming it, since later records depend on it."""
    path = root / "journal.jsonl"
    if not path.is_file():
        raise ConfigError(f"{root} is not a tinyperf session folder: it has no journal.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            if number == len(lines):
                break
            raise ConfigError(f"{path}:{number}: not a journal record ({e.msg})") from None
    return records


def journaled_request(root: Path) -> dict[str, Any]:
    """The request a session started with (its first record)."""
    records = read_journal(root)
    if not records or records[0].get("event") != "start":
        raise ConfigError(f"{root / 'journal.jsonl'}:1: expected the run's start record")
    return records[0]["request"]


def finished_samples(session: Session) -> dict[str, dict[str, Any]]:
    """Accuracy samples a session already finished (succeeded or failed for good), by name."""
    done: dict[str, dict[str, Any]] = {}
    for record in read_journal(session.root):
        if record.get("event") == "sample":
            done[record["name"]] = {k: v for k, v in record.items() if k not in ("event", "t")}
    return done
