"""The ref engine in QEMU for each MLPerf Tiny model: ticks per inference, ticks per MAC, the per-op sum
against a whole timed inference, and the wall time QEMU took; plus how many smoke-set inputs the posix
build of the same engine answers exactly as TFLM's interpreter does.

Run: PYTHONPATH=host TINYPERF_MODELS=../shared/models python benchmarks/ref_engine_profile.py [--inputs 20]
EMULATED: QEMU mps2-an386 under -icount shift=0; a tick is SysTick's 25 MHz in virtual time, which is 40
guest instructions, not a cycle of any silicon.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

from tinyperf.device.emulate import run_stdio
from tinyperf.device.op_profile import run_profile
from tinyperf.device.protocol.legacy import load_commands
from tinyperf.firmware.build import BuildRequest, build_firmware, builds_folder
from tinyperf.sim.board.engine import TflmEngine
from tinyperf.suite.device_math import format_results
from tinyperf.suite.models import get_entry, resolve_model
from tinyperf.suite.smoke.store import smoke_dataset

BENCHMARKS = ("kws01", "vww01", "ic01", "ad01")
_RESULTS = re.compile(r"m-results-\[[^\]]*\]")


def exact_matches(benchmark: str, builds: Path, inputs: int) -> tuple[int, int]:
    """(equal, compared): posix ref firmware against TFLM's interpreter on smoke-set files (ad01: the
    first windows of its first file). The ad01 error is compared as printed, %0.3f."""
    manifest = build_firmware(BuildRequest("posix-host", benchmark, builds_dir=builds, engine="ref"))
    elf = builds_folder(builds, "posix-host") / manifest.elf
    files = sorted(p for p in smoke_dataset(benchmark).iterdir() if p.suffix == ".bin")
    window = get_entry(benchmark).input.bin_bytes
    datas = ([files[0].read_bytes()[i * 2048 : i * 2048 + window] for i in range(inputs)] if benchmark == "ad01"
             else [p.read_bytes() for p in files[:inputs]])
    commands = [command for data in datas for command in [*load_commands(data, 32), "infer 1 0"]]
    got = _RESULTS.findall(run_stdio(elf, commands, 600.0))
    engine = TflmEngine(resolve_model(benchmark).path, get_entry(benchmark).input.bin_format)
    want = ["m-results-" + format_results(engine.run(data)) for data in datas]
    return sum(g == w for g, w in zip(got, want, strict=True)), len(want)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=20, help="smoke-set inputs per model for the exactness check")
    args = parser.parse_args()
    print("EMULATED (QEMU -icount shift=0): ticks are 25 MHz SysTick = 40 instructions each")
    print(f"{'model':6} {'ops':>4} {'MACs':>11} {'ticks/inf':>11} {'instr/MAC':>10} {'sum/timed':>10} "
          f"{'QEMU wall s':>12} {'== TFLM':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        builds = Path(tmp)
        for benchmark in BENCHMARKS:
            build_firmware(BuildRequest("qemu-mps2-an386", benchmark, builds_dir=builds, engine="ref"))
            started = time.monotonic()
            result = run_profile("qemu-mps2-an386", benchmark, builds_dir=builds)
            wall = time.monotonic() - started
            macs = sum(op.macs for op in result.ops)
            equal, compared = exact_matches(benchmark, builds, args.inputs)
            print(f"{benchmark:6} {len(result.ops):>4} {macs:>11,} {result.op_sum_cycles:>11,} "
                  f"{40 * result.op_sum_cycles / macs:>10.1f} {result.sum_over_timed:>10.4f} {wall:>12.1f} "
                  f"{equal:>4}/{compared:<4}")


if __name__ == "__main__":
    os.environ.setdefault("TINYPERF_MODELS", str(Path(__file__).resolve().parents[2] / "shared" / "models"))
    main()
