"""Each hostile-device finding replayed through the real CLI: prints the command's last stderr line,
its exit code and its wall time, so the one-line errors can be read side by side.

Run: PYTHONPATH=host:. TINYPERF_MODELS=../shared/models python benchmarks/hostile_findings.py
The devices are scripted fakes on real ptys (tests/device/hostile_device.py); nothing here is a measurement
of a board.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.device.hostile_device import FakeDevice
from tests.device.test_hostile_devices import Chatterbox, Clock, HugeNumber, JumpsBack, Results

from tinyperf.suite.smoke.store import smoke_subset

CASES: list[tuple[str, FakeDevice, str, str]] = [
    ("m-results-[] (accuracy)", Results("m-results-[]"), "accuracy", "sim-nucleo-l4r5zi"),
    ("13 results for 12 classes", Results("m-results-[" + ",".join(["0.1"] * 13) + "]"), "accuracy",
     "sim-nucleo-l4r5zi"),
    ("NaN results", Results("m-results-[" + ",".join(["nan"] * 12) + "]"), "accuracy", "sim-nucleo-l4r5zi"),
    ("200,000 numbers on one line", Results("m-results-[" + ",".join(["0.5"] * 200_000) + "]"), "accuracy",
     "sim-nucleo-l4r5zi"),
    ("a device that never goes quiet", Chatterbox(0.001), "performance", "sim-nucleo-l4r5zi"),
    ("1 kHz tick reported in us", Clock(lambda us: us // 1000 * 1000), "performance", "nucleo-l4r5zi"),
    ("a stopped clock", Clock(lambda us: 123456), "performance", "nucleo-l4r5zi"),
    ("a clock that jumps back", JumpsBack(), "performance", "nucleo-l4r5zi"),
    ("a 4,500-digit timestamp", HugeNumber(4500), "performance", "nucleo-l4r5zi"),
]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        dataset = smoke_subset("kws01", 3, Path(tmp) / "ds")
        for index, (what, device, mode, board) in enumerate(CASES):
            url = device.serve_pty()
            args = [sys.executable, "-m", "tinyperf.cli", "run", "--board", board, "--benchmark", "kws01",
                    "--mode", mode, "--port", url, "--protocol", "legacy", "--timeout", "2",
                    "--sessions-dir", str(Path(tmp) / f"s{index}"), "--min-window", "0.5"]
            if mode == "accuracy":
                args += ["--dataset", str(dataset)]
            started = time.monotonic()
            done = subprocess.run(args, capture_output=True, text=True, timeout=300)
            device.close()
            last = (done.stderr.strip().splitlines() or [""])[-1]
            results = list((Path(tmp) / f"s{index}").glob("*/results.txt"))
            if done.returncode == 1 and results:  # measured, INVALID: the line results.txt gives
                last = next(line for line in results[0].read_text().splitlines() if "INVALID" in line)
            print(f"{what}: exit {done.returncode} in {time.monotonic() - started:.1f} s: {last[:300]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
