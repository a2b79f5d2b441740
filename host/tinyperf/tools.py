"""External programs (compilers, flashers, QEMU): found by name, run as argument lists with a timeout.

Why one home: every missing tool must say which package installs it, and every failure must show
the command and the tail of its output, the same way for builds and for flashing.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tinyperf.errors import ToolError

# program -> how to install it on Debian/Ubuntu (or from PyPI)
INSTALL_HINTS: dict[str, str] = {
    "cmake": "apt-get install cmake",
    "make": "apt-get install make",
    "gcc": "apt-get install gcc",
    "clang": "apt-get install clang",
    "arm-none-eabi-gcc": "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib",
    "arm-none-eabi-objcopy": "apt-get install binutils-arm-none-eabi",
    "qemu-system-arm": "apt-get install qemu-system-arm",
    "openocd": "apt-get install openocd",
    "st-flash": "apt-get install stlink-tools",
    "pyocd": "pip install pyocd (then `pyocd pack install stm32l4r5zitx` for the target's CMSIS pack)",
    "pio": "pip install platformio",
}
OUTPUT_TAIL_CHARS = 1500


def require_tool(program: str) -> str:
    """The program's path, or a ToolError naming the package that provides it."""
    found = shutil.which(program)
    if found is None:
        hint = INSTALL_HINTS.get(program, "install it and put it on PATH")
        raise ToolError(f"`{program}` is not installed or not on PATH; install it with: {hint}")
    return found


def run_tool(argv: Sequence[str], what: str, timeout_s: float, cwd: Path | None = None,
             env: Mapping[str, str] | None = None) -> str:
    """Run argv (never through a shell); return its output or raise a ToolError that shows it."""
    require_tool(argv[0])
    try:
        done = subprocess.run(list(argv), cwd=cwd, env=None if env is None else dict(env), capture_output=True,
                              text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as e:
        raise ToolError(f"{what} did not finish within {timeout_s:.0f} s: {shlex.join(argv)}") from e
    output = (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        raise ToolError(f"{what} failed (exit {done.returncode}): {shlex.join(argv)}\n"
                        f"{output[-OUTPUT_TAIL_CHARS:].rstrip()}")
    return output


def tool_version(program: str) -> str:
    """First line of `program --version`, for build manifests ('' if it does not answer)."""
    try:
        done = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def stop_process(process: subprocess.Popen, ask: Callable[[], None]) -> None:
    """Stop a child we started: ask it (`ask`), give it 5 s, then kill it. Idempotent."""
    if process.poll() is not None:
        return
    ask()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def bound_to_parent(argv: list[str]) -> list[str]:
    """`argv` so that the kernel stops the child when tinyperf dies, however it dies (even SIGKILL, which
    no clean-up code sees): `setpriv --pdeathsig TERM` on Linux, where util-linux provides it. Start such
    a child from the thread that outlives it: the signal follows the thread that started it."""
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else list(argv)
