"""Reading the JSON files tinyperf writes (results.json, provenance.json, manifests) back in.

Whatever a file holds (hand-edited, truncated, from another tool), the reader says which file, which
line and what was expected in one ConfigError; callers never see JSONDecodeError, KeyError or
UnicodeDecodeError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tinyperf.errors import ConfigError

RESULTS_KEYS = ("board", "benchmark", "mode")


def read_json_object(path: Path, what: str = "JSON file") -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); not a tinyperf {what}") from None
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}:{e.lineno}: not valid JSON ({e.msg}); not a tinyperf {what}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply; not a tinyperf {what}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: holds a JSON {type(data).__name__}, not the object a tinyperf {what} is")
    return data


def read_results(path: Path) -> dict[str, Any]:
    """A session's results.json, with the fields every reader relies on present and of the right type."""
    data = read_json_object(path, "results.json")
    for key in RESULTS_KEYS:
        if not isinstance(data.get(key), str):
            raise ConfigError(f"{path}: '{key}' is missing or not a string; not a tinyperf results.json")
    if not isinstance(data.get("valid", True), bool):
        raise ConfigError(f"{path}: 'valid' must be true or false")
    return data


def number(data: dict[str, Any], key: str) -> float | None:
    """A figure as a float, or None when it is absent or not a finite number."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None
