"""The results store: every session indexed in SQLite, so runs can be found, compared and repeated.

The session folder stays the record (results.json, journal, transcript); the store is an index over
it that can always be rebuilt (`tinyperf store index sessions/`). Each session also gets a
provenance.json: the request and every input's identity (model sha256, dataset hash, firmware
build, tool versions), which `tinyperf rerun` replays and checks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from tinyperf.errors import ConfigError
from tinyperf.results.headlines import HEADLINE_KEYS
from tinyperf.results.jsonfiles import read_json_object, read_results

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,           -- the session folder's name
    path TEXT NOT NULL,
    finished_at REAL NOT NULL,
    board TEXT NOT NULL,
    simulated INTEGER NOT NULL,
    benchmark TEXT NOT NULL,
    mode TEXT NOT NULL,
    valid INTEGER NOT NULL,
    model_sha256 TEXT,
    dataset_hash TEXT,
    firmware_hash TEXT,
    tinyperf_version TEXT,
    host TEXT,
    monitor TEXT,                  -- JSON: kind, rate, voltage (energy runs)
    median_throughput REAL,
    latency_ms REAL,
    median_energy_uj REAL,
    top1_percent REAL,
    auc REAL,
    figures TEXT NOT NULL,         -- JSON: every figure of results.json
    provenance TEXT                -- JSON: provenance.json (request, tool versions, input hashes)
);
CREATE INDEX IF NOT EXISTS sessions_by_run ON sessions (benchmark, mode, board, finished_at);
"""


def store_path() -> Path:
    """$TINYPERF_STORE, else results.sqlite in the user data folder."""
    override = os.environ.get("TINYPERF_STORE")
    return Path(override) if override else Path(platformdirs.user_data_dir("tinyperf")) / "results.sqlite"


@contextlib.contextmanager
def connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    path = path or store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(path, timeout=10.0)
    except sqlite3.Error as e:
        raise ConfigError(f"cannot open the results store {path}: {e}; set TINYPERF_STORE or --store") from None
    try:
        db.row_factory = sqlite3.Row
        db.executescript(SCHEMA)
        _add_missing_columns(db)
        with db:
            yield db
    except sqlite3.DatabaseError as e:
        raise ConfigError(f"results store {path}: {e} (not a tinyperf store? move it away and run "
                          "`tinyperf store index sessions/` to rebuild it)") from None
    finally:
        db.close()


ADDED_COLUMNS = {"provenance": "TEXT"}  # columns newer than the first schema: added to older stores in place


def _add_missing_columns(db: sqlite3.Connection) -> None:
    present = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
    for name, kind in ADDED_COLUMNS.items():
        if name not in present:
            db.execute(f"ALTER TABLE sessions ADD COLUMN {name} {kind}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_hash(folder: Path) -> str:
    """One sha256 over the label file and every file it names, in order: the same rows give the same hash.
    A folder without y_labels.csv (a sww01 stream: WAV + ground truth) hashes every file in it by name."""
    labels = folder / "y_labels.csv"
    if not labels.is_file():
        digest = hashlib.sha256(b"files")
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            digest.update(path.name.encode() + b"\0" + bytes.fromhex(file_sha256(path)))
        return digest.hexdigest()
    digest = hashlib.sha256(labels.read_bytes())
    for line in labels.read_text(encoding="utf-8-sig").splitlines():
        name = line.split(",")[0].strip()
        if name and (folder / name).is_file():
            digest.update(name.encode() + b"\0" + bytes.fromhex(file_sha256(folder / name)))
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredSession:
    id: str
    path: Path
    board: str
    simulated: bool
    benchmark: str
    mode: str
    valid: bool
    finished_at: float
    figures: dict
    headline: dict


def index_session(session: Path, db_path: Path | None = None) -> str:
    """Add (or refresh) one session folder; returns its id."""
    results = session / "results.json"
    if not results.is_file():
        raise ConfigError(f"{session}: no results.json (an unfinished or failed run cannot be indexed)")
    data = read_results(results)
    manifest = session / "provenance.json"
    provenance = read_json_object(manifest, "provenance.json") if manifest.is_file() else {}
    monitor = data.get("monitor")
    row = {
        "id": session.name, "path": str(session.resolve()), "finished_at": results.stat().st_mtime,
        "board": str(data["board"]), "simulated": int(bool(data.get("simulated"))), "benchmark": data["benchmark"],
        "mode": data["mode"], "valid": int(bool(data.get("valid", True))),
        "model_sha256": (data.get("model") or {}).get("sha256"), "dataset_hash": provenance.get("dataset_hash"),
        "firmware_hash": provenance.get("firmware_sha256"), "tinyperf_version": data.get("tinyperf_version"),
        "host": data.get("host"), "monitor": json.dumps(monitor) if monitor else None,
        **{name: data.get(name) for name in HEADLINE_KEYS},
        "figures": json.dumps({k: v for k, v in data.items() if k != "samples"}),
        "provenance": json.dumps(provenance) if provenance else None,
    }
    with connect(db_path) as db:
        db.execute(f"INSERT OR REPLACE INTO sessions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                   list(row.values()))
    return session.name


def _stored(row: sqlite3.Row) -> StoredSession:
    return StoredSession(row["id"], Path(row["path"]), row["board"], bool(row["simulated"]), row["benchmark"],
                         row["mode"], bool(row["valid"]), row["finished_at"], json.loads(row["figures"]),
                         {name: row[name] for name in HEADLINE_KEYS if row[name] is not None})


def history(benchmark: str | None = None, board: str | None = None, mode: str | None = None, limit: int = 20,
            db_path: Path | None = None) -> list[StoredSession]:
    """Newest first, filtered by whatever is given."""
    where, args = [], []
    for column, value in (("benchmark", benchmark), ("board", board), ("mode", mode)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    sql = "SELECT * FROM sessions" + (" WHERE " + " AND ".join(where) if where else "")
    with connect(db_path) as db:
        rows = db.execute(sql + " ORDER BY finished_at DESC LIMIT ?", [*args, limit]).fetchall()
    return [_stored(row) for row in rows]


def find(session: str, db_path: Path | None = None) -> StoredSession:
    """A session by id (folder name), unique id prefix, or folder path."""
    key = Path(session).name if Path(session).is_dir() else session
    with connect(db_path) as db:
        rows = db.execute("SELECT * FROM sessions WHERE id = ? OR id LIKE ? ORDER BY finished_at DESC",
                          [key, key + "%"]).fetchall()
    exact = [row for row in rows if row["id"] == key]
    if exact or len(rows) == 1:
        return _stored((exact or rows)[0])
    if not rows:
        raise ConfigError(f"no session {session!r} in the results store {db_path or store_path()}; "
                          "`tinyperf history` lists them, `tinyperf store index DIR` adds old ones")
    raise ConfigError(f"{session!r} matches {len(rows)} sessions ({', '.join(r['id'] for r in rows[:4])}...); "
                      "give more of the name")
