"""The TFLM tensor-arena size a model needs, measured by TFLM's own RecordingMicroAllocator.

Why a subprocess: TFLM prints its allocation report from C++ straight to the process's stdout,
so it is read from a child's pipe. The figure is from the host build (64-bit pointers), so the
Cortex-M arena is slightly smaller; it is an estimate for sizing, labelled as such.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tinyperf.errors import ModelError

ARENA_TIMEOUT_S = 60.0
_SCRIPT = (
    "import sys\n"
    "from tflite_micro.python.tflite_micro import runtime\n"
    "runtime.Interpreter.from_file(sys.argv[1]).print_allocations()\n"
)
_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")


def arena_estimate_bytes(model: Path) -> int:
    try:
        done = subprocess.run([sys.executable, "-c", _SCRIPT, str(model)], capture_output=True, text=True,
                              timeout=ARENA_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise ModelError(f"{model}: TFLM took over {ARENA_TIMEOUT_S:.0f} s to allocate the model") from e
    found = _TOTAL.search(done.stdout + done.stderr)
    if done.returncode != 0 or not found:
        raise ModelError(f"{model}: TFLM could not allocate the model: {(done.stderr or done.stdout)[-300:]}")
    return int(found.group(1))
