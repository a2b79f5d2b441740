"""Git's tree id of a folder on disk, computed without git: the fingerprint a commit fixes for it.

Why: a source archive's bytes are not stable, but the tree id of its folders is; comparing the two
proves a downloaded folder holds exactly what the pinned commit holds.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _object_id(kind: bytes, body: bytes) -> bytes:
    return hashlib.sha1(kind + b" " + str(len(body)).encode() + b"\0" + body, usedforsecurity=False).digest()


def _tree(folder: Path) -> bytes | None:
    """The raw tree id, or None for a folder git would not record (nothing in it)."""
    entries: list[tuple[bytes, bytes, bytes]] = []  # (sort key, mode, id)
    for child in folder.iterdir():
        name = os.fsencode(child.name)
        if child.is_symlink():
            entries.append((name, b"120000", _object_id(b"blob", os.fsencode(os.readlink(child)))))
        elif child.is_dir():
            sub = _tree(child)
            if sub is not None:
                entries.append((name + b"/", b"40000", sub))
        elif child.is_file():
            mode = b"100755" if os.access(child, os.X_OK) else b"100644"
            entries.append((name, mode, _object_id(b"blob", child.read_bytes())))
    if not entries:
        return None
    entries.sort(key=lambda entry: entry[0])
    body = b"".join(mode + b" " + key.rstrip(b"/") + b"\0" + oid for key, mode, oid in entries)
    return _object_id(b"tree", body)


def git_tree_id(folder: Path) -> str:
    found = _tree(folder)
    return found.hex() if found is not None else "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # the empty tree
