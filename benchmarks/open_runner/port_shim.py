"""Run a script with the simulated bench's ptys added to pyserial's port list, with the USB identity each
role has on a real bench. Nothing else is changed: the script (e.g. the MLPerf Tiny open runner's
main.py) runs as it is, found by VID:PID like real hardware.

Run: python port_shim.py PORTS_JSON SCRIPT [ARGS...]   (PORTS_JSON from `tinyperf sim --bench --ports-file`)
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

from serial.tools import list_ports, list_ports_common


def bench_ports(ports_file: Path) -> list[list_ports_common.ListPortInfo]:
    described = json.loads(ports_file.read_text(encoding="utf-8"))
    found = []
    for device in described["devices"]:
        info = list_ports_common.ListPortInfo(device["port"], skip_link_detection=True)
        info.vid, info.pid = int(device["vid"], 16), int(device["pid"], 16)
        info.description = info.product = f"simulated {device['name']}"
        found.append(info)
    return found


def main() -> None:
    ports_file, script, *args = sys.argv[1:]
    real_comports = list_ports.comports
    simulated = bench_ports(Path(ports_file))
    list_ports.comports = lambda include_links=False: [*real_comports(include_links), *simulated]
    sys.argv = [script, *args]
    sys.path.insert(0, str(Path(script).resolve().parent))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
