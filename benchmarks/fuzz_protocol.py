"""Fuzz the device harness's protocol parser with libFuzzer (+ASan/UBSan) for a bounded time.

Prints the executions run and whether anything crashed. Needs clang (apt-get install clang) and cmake.
  python benchmarks/fuzz_protocol.py [--seconds 300]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = """#pragma once
#define TP_BENCHMARK "kws01"
#define TP_VENDOR_NAME "fuzz"
#define TP_INPUT_BYTES 490
#define TP_MAX_INPUT_BYTES 490
#define TP_RESULT_COUNT 12
#define TP_ENERGY_MODE 0
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=300)
    args = parser.parse_args()
    for tool in ("clang", "cmake"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install {tool})")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "gen").mkdir()
        (work / "gen" / "tp_config.h").write_text(CONFIG)
        corpus = work / "corpus"
        shutil.copytree(REPO / "firmware" / "fuzz" / "corpus", corpus)
        subprocess.run(["cmake", "-S", str(REPO / "firmware"), "-B", str(work / "build"), "-DTP_FUZZ=ON",
                        f"-DTP_GENERATED_DIR={work / 'gen'}", "-DCMAKE_C_COMPILER=clang",
                        "-DCMAKE_CXX_COMPILER=clang++"], check=True, capture_output=True, timeout=120)
        subprocess.run(["cmake", "--build", str(work / "build")], check=True, capture_output=True, timeout=300)
        done = subprocess.run([str(work / "build" / "fuzz_protocol"), str(corpus), f"-max_total_time={args.seconds}",
                               "-max_len=512", f"-artifact_prefix={work}/", "-print_final_stats=1"],
                              capture_output=True, text=True, timeout=args.seconds + 120)
        log = done.stdout + done.stderr
        execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
        crashed = done.returncode != 0
        print(f"libFuzzer on the protocol parser: {args.seconds} s, "
              f"{int(execs.group(1)) if execs else 'unknown'} executions, "
              f"{'CRASH (see below)' if crashed else 'no crash'}")
        if crashed:
            print(log[-3000:])
        return 1 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
