"""A session folder: transcript, crash-safe journal, results.txt/json and a short summary.

Why a journal: every measured figure is appended (and flushed) before the runner acts on it, so
a crash or Ctrl-C never loses what was already measured.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


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
        with (self.root / "journal.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"t": time.time(), **record}) + "\n")
            handle.flush()

    def write_results(self, lines: list[str], data: dict[str, Any], summary: str) -> None:
        now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        _atomic_write(self.root / "results.txt", "".join(f"{now} tinyperf: {line}\n" for line in lines))
        _atomic_write(self.root / "results.json", json.dumps(data, indent=2) + "\n")
        _atomic_write(self.root / "summary.txt", summary + "\n")
