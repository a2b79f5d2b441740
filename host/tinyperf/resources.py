"""Finds the data folders (boards/, models_tflm/) in an installed wheel or a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Installed wheels carry the folder under tinyperf/_data; a checkout has it at the repo top."""
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parents[1] / name
