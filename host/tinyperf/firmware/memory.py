"""Flash and RAM a firmware image takes, against its board's, and the linker's verdict when it cannot fit.

Why both: `size` gives the figures a user compares (and we print) for an image that links; an image that
does not fit never links, so the linker's "region overflowed" message is turned into the same numbers.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from tinyperf.device.boards import Board
from tinyperf.errors import ConfigError
from tinyperf.tools import run_tool

_BERKELEY = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+[0-9a-f]+\s", re.MULTILINE)
_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")
_STACK = "less than 16 KiB of RAM left for the stack"


@dataclass(frozen=True)
class MemoryUse:
    flash_bytes: int
    ram_bytes: int  # .data + .bss, the stack (at least 16 KiB) comes on top
    flash_limit: int
    ram_limit: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self) -> str:
        return (f"flash {self.flash_bytes / 1024:.1f} KiB of {self.flash_limit // 1024} KiB "
                f"({100 * self.flash_bytes / self.flash_limit:.1f} %), RAM {self.ram_bytes / 1024:.1f} KiB of "
                f"{self.ram_limit // 1024} KiB ({100 * self.ram_bytes / self.ram_limit:.1f} %) + stack")


def memory_use(elf: Path, board: Board) -> MemoryUse:
    output = run_tool(["arm-none-eabi-size", "-B", str(elf)], "reading the image's size", 30.0)
    match = _BERKELEY.search(output)
    if match is None:
        raise ConfigError(f"arm-none-eabi-size printed no Berkeley line for {elf}: {output[-200:]}")
    text, data, bss = (int(v) for v in match.groups())
    return MemoryUse(text + data, data + bss, board.flash_kb * 1024, board.ram_kb * 1024)


def does_not_fit(linker_output: str, board: Board, what: str) -> ConfigError | None:
    """The linker's overflow, named in numbers; None when the failure was something else."""
    overflows = _OVERFLOW.findall(linker_output)
    limits = {"FLASH": board.flash_kb, "RAM": board.ram_kb}
    if overflows:
        parts = [f"{region} needs {(limits.get(region, 0) * 1024 + int(over)) / 1024:.1f} KiB of "
                 f"{limits.get(region, '?')} KiB (over by {int(over) / 1024:.1f} KiB)" for region, over in overflows]
        return ConfigError(f"{what} does not fit {board.id}: " + "; ".join(parts))
    if _STACK in linker_output:
        return ConfigError(f"{what} does not fit {board.id}: fewer than 16 KiB of its {board.ram_kb} KiB RAM are "
                           "left for the stack")
    return None
