"""A session folder: transcript, crash-safe journal, results.txt/json and a short summary.

Why a journal: every measured figure is appended (and flushed) before the runner acts on it, so
a crash or Ctrl-C never loses what was already measured.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tinyperf.errors import ConfigError, TinyperfError


class SessionWriteError(TinyperfError):
    """The session folder cannot be written (read-only mount, full disk, removed folder)."""


def strict_json(value: Any, indent: int | None = None) -> str:
    """JSON with every non-finite float written as null: bare NaN / Infinity are not JSON, and a
    figure that is not a number must not read as one."""
    return json.dumps(_finite(value), allow_nan=False, indent=indent)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise SessionWriteError(f"cannot write {path}: {e.strerror or e}; the measured figures are in the "
                                "journal beside it if it could be written") from None


_JOURNAL_LOCK = threading.Lock()  # the shards of a run journal from their own threads


@dataclass
class Session:
    root: Path

    @classmethod
    def create(cls, sessions_dir: Path, board: str, benchmark: str, mode: str) -> Session:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{board}-{benchmark}-{mode}"
        for suffix in range(1000):
            root = sessions_dir / (base if suffix == 0 else f"{base}-{suffix}")
            try:
                sessions_dir.mkdir(parents=True, exist_ok=True)
                root.mkdir()
            except FileExistsError:
                continue
            except OSError as e:
                raise SessionWriteError(f"cannot create a session folder in {sessions_dir}: {e.strerror or e}; "
                                        "give a writable --sessions-dir") from None
            return cls(root)
        raise ConfigError(f"too many sessions named {base} in {sessions_dir}")

    @property
    def log_path(self) -> Path:
        return self.root / "log.txt"

    def journal(self, record: dict[str, Any]) -> None:
        path = self.root / "journal.jsonl"
        try:
            with _JOURNAL_LOCK, path.open("a", encoding="utf-8") as handle:
                handle.write(strict_json({"t": time.time(), **record}) + "\n")
                handle.flush()
        except OSError as e:
            raise SessionWriteError(f"cannot append to {path}: {e.strerror or e}; the run stopped, as nothing it "
                                    "measures from here could be kept (make the folder writable, then "
                                    "resume or run again)") from None

    def lock(self) -> None:
        """Hold the session for this process until it exits: two `--resume` of one session would measure
        every sample twice and interleave their journal lines."""
        path = self.root / ".lock"
        try:
            handle = path.open("a+", encoding="utf-8")
        except OSError as e:
            raise SessionWriteError(f"cannot lock {path}: {e.strerror or e}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ConfigError(f"{self.root} is in use by {holder}: one run at a time per session "
                              "(wait for it to finish, or stop it)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"tinyperf pid {os.getpid()}\n")
        handle.flush()
        self._lock_handle = handle  # closed (and so released) when the process ends

    def mend_torn_journal(self) -> str | None:
        """A run killed mid-write leaves a last line without its newline; the next record would be glued
        to it. The torn bytes move to journal.torn (kept, not lost) before anything is appended."""
        path = self.root / "journal.jsonl"
        data = path.read_bytes() if path.is_file() else b""
        if not data or data.endswith(b"\n"):
            return None
        keep = data.rfind(b"\n") + 1
        try:
            with (self.root / "journal.torn").open("ab") as torn:
                torn.write(data[keep:] + b"\n")
            with path.open("r+b") as handle:
                handle.truncate(keep)
        except OSError as e:
            raise SessionWriteError(f"cannot mend the torn last line of {path}: {e.strerror or e}") from None
        return data[keep:][:60].decode("utf-8", "backslashreplace")

    def write_results(self, lines: list[str], data: dict[str, Any], summary: str) -> None:
        now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        _atomic_write(self.root / "results.txt", "".join(f"{now} tinyperf: {line}\n" for line in lines))
        _atomic_write(self.root / "results.json", strict_json(data, indent=2) + "\n")
        _atomic_write(self.root / "summary.txt", summary + "\n")


def read_journal(root: Path) -> list[dict[str, Any]]:
    """Every record of a session's journal. A torn last line (the run was killed mid-write) is left
    out; a broken line anywhere else is an error naming it, since later records depend on it."""
    path = root / "journal.jsonl"
    if not path.is_file():
        raise ConfigError(f"{root} is not a tinyperf session folder: it has no journal.jsonl")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            if number == len(lines):
                break
            raise ConfigError(f"{path}:{number}: not a journal record ({e.msg})") from None
        if not isinstance(record, dict):
            raise ConfigError(f"{path}:{number}: a journal record is a JSON object, not {type(record).__name__}")
        records.append(record)
    return records


def journaled_request(root: Path) -> dict[str, Any]:
    """The request a session started with (its first record)."""
    records = read_journal(root)
    if not records or records[0].get("event") != "start" or not isinstance(records[0].get("request"), dict):
        raise ConfigError(f"{root / 'journal.jsonl'}:1: expected the run's start record with its request")
    return records[0]["request"]


def finished_samples(session: Session, fits: Callable[[dict[str, Any]], bool] = lambda r: True,
                     ) -> dict[str, dict[str, Any]]:
    """Accuracy samples a session already finished (succeeded or failed for good), by name. A record that
    does not `fit` the model (journaled by an older tinyperf that did not check result vectors) is left
    out, so the sample is measured again instead of breaking the score on every resume."""
    done: dict[str, dict[str, Any]] = {}
    path = session.root / "journal.jsonl"
    for number, record in enumerate(read_journal(session.root), start=1):
        if record.get("event") != "sample":
            continue
        if not isinstance(record.get("name"), str):
            raise ConfigError(f"{path}:{number}: a sample record without a name")
        sample = {k: v for k, v in record.items() if k not in ("event", "t")}
        if sample.get("failed") or fits(sample):
            done[record["name"]] = sample
    return done
