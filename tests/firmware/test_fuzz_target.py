"""The C protocol core under libFuzzer (+ASan/UBSan), briefly: the benchmark script runs it for 300 s."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_models  # runs without the official models

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("clang") is None and not os.environ.get("TINYPERF_REQUIRE_CLANG"),
                    reason="clang is not installed (apt-get install clang); CI installs it")
def test_the_protocol_fuzz_target_links_and_survives_a_short_run() -> None:
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "fuzz_protocol.py"), "--seconds", "15"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"(\d+) executions, no crash", result.stdout)
    assert found and int(found.group(1)) > 1000, result.stdout
