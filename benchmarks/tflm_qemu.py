"""TFLM builds measured: per model and kernel set, build time from a cold engine cache, QEMU instruction
count per inference (EMULATED), per-operator profile sum against the whole inference, bit-exactness
with TFLM's interpreter on smoke-set inputs, and firmware/flash/RAM of the nucleo-l4r5zi build.

    python benchmarks/tflm_qemu.py --tflm-dir D [--cmsis-nn-dir D] [--cmsis-dir D] [--inputs 50]
    python benchmarks/tflm_qemu.py --board posix-host     # bit-exactness as a host process (host-timer us)

Without the folder flags the pinned sources come from the verified cache (or are downloaded once). The
engine-library cache is a fresh folder, so the first build of each kernel set is cold; later models with
the same operators reuse it, as a user's builds would. Needs cmake, gcc-arm-none-eabi, qemu-system-arm and
the official models (TINYPERF_MODELS); ic02's model is found there by file name.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinyperf.device.boards import get_board
from tinyperf.firmware.engine_check import check_firmware, smoke_inputs
from tinyperf.firmware.sources import sources_cache
from tinyperf.suite.models import resolve_model

# (row name, tinyperf benchmark it is built as, model file or None for the official one)
MODELS = [("kws01", "kws01", None), ("vww01", "vww01", None), ("ad01", "ad01", None), ("ic01", "ic01", None),
          ("ic02", "ic01", "pretrainedResnet_large_int8.tflite")]
KERNELS = ("reference", "cmsis-nn")
QEMU = "qemu-mps2-an386"
INSTRUCTIONS_PER_US = 1000  # -icount shift=0: one instruction per nanosecond


def _tinyperf(args: list[str], env: dict[str, str], timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "tinyperf", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise SystemExit(f"tinyperf {' '.join(args)} failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
    return done


def _build(board: str, benchmark: str, model: Path, kernels: str, out: Path, dirs: list[str],
           env: dict[str, str]) -> tuple[dict, float]:
    started = time.monotonic()
    _tinyperf(["build", "--board", board, "--benchmark", benchmark, "--model", str(model), "--engine", "tflm",
               "--kernels", kernels, "--builder", "cmake", "--builds-dir", str(out), *dirs], env)
    seconds = time.monotonic() - started
    return json.loads((out / board / "build.json").read_text()), seconds


def _profile_ratio(benchmark: str, out: Path, env: dict[str, str]) -> float:
    """Per-op sum over one whole inference; NaN (said, not hidden) when the profile could not finish."""
    report = out / "profile.json"
    try:
        _tinyperf(["profile", "--board", QEMU, "--benchmark", benchmark, "--builds-dir", str(out), "--json",
                   str(report)], env, timeout=600)
    except SystemExit as e:
        print(f"  profile failed: {str(e).splitlines()[-1]}", flush=True)
        return float("nan")
    return float(json.loads(report.read_text())["sum_over_timed"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tflm-dir", type=Path)
    parser.add_argument("--cmsis-nn-dir", type=Path)
    parser.add_argument("--cmsis-dir", type=Path)
    parser.add_argument("--inputs", type=int, default=50, help="smoke inputs checked per model (0: all)")
    parser.add_argument("--models", default=",".join(m[0] for m in MODELS))
    parser.add_argument("--cache", type=Path, help="an engine-library cache to keep (default: a cold, temporary one)")
    parser.add_argument("--board", default=QEMU, choices=[QEMU, "posix-host"],
                        help="posix-host: bit-exactness only (its timer is the host's, no profile, no nucleo build)")
    args = parser.parse_args()
    dirs = [f"--{flag}={value}" for flag, value in (("tflm-dir", args.tflm_dir), ("cmsis-nn-dir", args.cmsis_nn_dir),
                                                     ("cmsis-dir", args.cmsis_dir)) if value]
    models_dir = Path(os.environ.get("TINYPERF_MODELS", ""))
    with tempfile.TemporaryDirectory(prefix="tflm-bench-") as scratch:
        cold = args.cache or Path(scratch) / "cache"
        (cold / "models").mkdir(parents=True, exist_ok=True)
        if not (cold / "sources").exists():  # verified sources shared; the engine cache starts empty
            (cold / "sources").symlink_to(sources_cache())
        env = dict(os.environ, TINYPERF_CACHE=str(cold / "models"))
        rows = []
        for name, benchmark, file_name in MODELS:
            if name not in args.models.split(","):
                continue
            model = models_dir / file_name if file_name else resolve_model(benchmark, None).path
            inputs = smoke_inputs(benchmark, args.inputs or None)
            for kernels in KERNELS:
                out = Path(scratch) / f"{name}-{kernels}"
                manifest, seconds = _build(args.board, benchmark, model, kernels, out, dirs, env)
                check = check_firmware(get_board(args.board), out / args.board / manifest["elf"], benchmark, model,
                                       inputs)
                if args.board != QEMU:
                    print(f"{name:6} {kernels:9} built in {seconds:5.1f} s, {check.exact}/{check.checked} bit-exact, "
                          f"engine {check.engine}, arena {check.arena_used}/{check.arena_bytes}", flush=True)
                    continue
                ratio = _profile_ratio(benchmark, out, env)
                nucleo, _ = _build("nucleo-l4r5zi", benchmark, model, kernels, out, dirs, env)
                rows.append((name, kernels, manifest, seconds, check, ratio, nucleo))
                _print_row(rows[-1], rows)


HEADER = (f"{'model':6} {'kernels':9} {'instr/inference':>16} {'vs ref':>7} {'op sum/whole':>12} {'bit-exact':>10} "
          f"{'build s':>8} {'library':>9} {'nucleo flash KiB':>16} {'nucleo RAM KiB':>14} {'arena used/size':>16}")


def _print_row(row: tuple, rows: list) -> None:
    """One finished model and kernel set, at once (a later failure cannot lose it)."""
    name, kernels, manifest, seconds, check, ratio, nucleo = row
    if len(rows) == 1:
        print("EMULATED latency: QEMU mps2-an386 -icount shift=0 instruction counts, not cycles of any silicon.")
        print(HEADER)
    instructions = statistics.median(check.elapsed_us) * INSTRUCTIONS_PER_US
    reference = next((statistics.median(r[4].elapsed_us) * INSTRUCTIONS_PER_US for r in rows
                      if r[0] == name and r[1] == "reference"), None)
    speedup = f"{reference / instructions:5.2f}x" if reference else "-"
    memory = nucleo["memory"]
    print(f"{name:6} {kernels:9} {instructions:16,.0f} {speedup:>7} {ratio:12.4f} "
          f"{check.exact:>4}/{check.checked:<5} {seconds:8.1f} {manifest['engine_library']:>9} "
          f"{memory['flash_bytes'] / 1024:16.1f} {memory['ram_bytes'] / 1024:14.1f} "
          f"{check.arena_used:>7}/{check.arena_bytes:<8}", flush=True)


if __name__ == "__main__":
    main()
