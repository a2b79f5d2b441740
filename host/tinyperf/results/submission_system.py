"""`systems/<system>.json` with the field names of the published MLPerf Tiny results repositories.

The official checker reads `Status` (and crashes without it) and passes the other fields into its
summary; the names, including the trailing space of "Operating System ", are the published ones.
Values come from the board YAML and the firmware build manifest; `--system-field KEY=VALUE` overrides.
"""

from __future__ import annotations

from tinyperf import __version__
from tinyperf.errors import ConfigError

STATUSES = ("available", "preview", "rdi")
# every field of a published system description, in the published order
SYSTEM_FIELDS = (
    "Submitter", "Division", "Status", "Board Name",
    "Board Memory capacity (not including SoC, processor, or accelerator)", "Board Memory type",
    "Board storage capacity", "Board storage type", "SoC Name",
    "SoC Memory capacity (not including processor or accelerator)", "SoC Memory type", "SoC storage capacity",
    "SoC storage type", "Processor(s) Name", "Processor(s) Frequencies", "Processor memory type and capacity",
    "Processor storage type and capacity", "Accelerator", "Accelerator(s) Frequencies",
    "Accelerator memory type and capacity", "Accelerator storage type and capacity", "Hardware Notes",
    "Inference Framework", "Software Libraries", "Operating System ", "Other Software Stack", "Software Notes",
    "Quantization Method", "Training framework", "ML Model Compiler(s)", "General Compiler(s)", "Other Software",
    "Training and Quantization Notes",
)
REQUIRED_FILLED = ("Submitter", "Division", "Status", "Board Name", "Processor(s) Name", "Processor(s) Frequencies",
                   "Inference Framework")
CORE_NAMES = {"cortex-m4f": "Arm Cortex-M4F", "cortex-m4": "Arm Cortex-M4", "cortex-m7": "Arm Cortex-M7",
              "cortex-m33": "Arm Cortex-M33", "cortex-m55": "Arm Cortex-M55", "cortex-m3": "Arm Cortex-M3"}


def parse_overrides(items: tuple[str, ...]) -> dict[str, str]:
    """`KEY=VALUE` words; KEY must be a published field name (a typo would silently add a new field)."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--system-field {item!r}: write KEY=VALUE, e.g. 'Status=preview'")
        if key not in SYSTEM_FIELDS:
            near = [name for name in SYSTEM_FIELDS if name.strip().lower() == key.strip().lower()]
            hint = f" (did you mean {near[0]!r}?)" if near else f"; fields: {', '.join(SYSTEM_FIELDS[:6])}, ..."
            raise ConfigError(f"--system-field {key!r} is not a field of an MLPerf Tiny system description{hint}")
        overrides[key] = value
    if "Status" in overrides and overrides["Status"].lower() not in STATUSES:
        raise ConfigError(f"--system-field Status={overrides['Status']!r}: choose one of {', '.join(STATUSES)}")
    return overrides


def system_description(submitter: str, division: str, board_id: str, results: list[dict],
                       notes: list[str], overrides: dict[str, str]) -> dict[str, str]:
    """Every published field (empty where tinyperf cannot know it), filled from what the runs recorded."""
    from tinyperf.device.boards import get_board

    fields = dict.fromkeys(SYSTEM_FIELDS, "")
    fields.update({"Submitter": submitter, "Division": division, "Status": "available"})
    try:
        board = get_board(board_id)
    except ConfigError:
        board = None
    if board is not None:
        fields["Board Name"] = board.name
        fields["SoC Name"] = board.mcu
        fields["Processor(s) Name"] = CORE_NAMES.get(board.core, board.core)
        fields["Processor(s) Frequencies"] = f"{board.clock_hz / 1e6:g} MHz"
        fields["Processor memory type and capacity"] = f"{board.ram_kb} KB SRAM"
        fields["Processor storage type and capacity"] = f"{board.flash_kb} KB flash"
        fields["Accelerator"] = "None"
    else:
        fields["Board Name"] = board_id
    firmware = next((r["firmware"] for r in results if r.get("firmware")), None)
    if firmware:
        engine = firmware.get("engine")
        fields["Inference Framework"] = (f"TensorFlow Lite Micro {firmware.get('tflm') or ''}".strip()
                                         if engine == "tflm" else f"tinyperf {engine} engine")
        fields["General Compiler(s)"] = firmware.get("toolchain") or ""
    else:
        fields["Inference Framework"] = "TensorFlow Lite Micro (host interpreter, simulated board)"
    fields["Quantization Method"] = "int8 post-training quantization (official MLPerf Tiny models)"
    fields["Other Software"] = f"tinyperf {__version__} (runner)"
    fields["Software Notes"] = " ".join(notes)
    fields.update(overrides)
    return fields
