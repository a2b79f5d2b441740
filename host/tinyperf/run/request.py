"""A run request: what the user asked for (options, or a resumed session's journal), as one value."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from tinyperf.device.connection import Protocol
from tinyperf.errors import ConfigError
from tinyperf.run.modes.performance import PerformanceSettings
from tinyperf.run.session import journaled_request

Mode = Literal["performance", "accuracy", "energy"]
ModelSource = Literal["official", "fallback"]


@dataclass
class RunRequest:
    board: str
    benchmark: str
    mode: Mode
    port: str | None = None
    dataset: Path | None = None
    model: Path | None = None
    sessions_dir: Path = Path("sessions")
    pacing: Literal["virtual", "realtime"] = "virtual"
    baud: int | None = None
    timeout_s: float = 5.0
    models: ModelSource = "official"
    monitor: str | None = None  # energy mode: "sim" or "lpm01a:PORT"
    monitor_rate_hz: int | None = None  # None: the instrument's default (power/instruments/*.yaml)
    interface_board: bool = False  # talk through an energy-mode interface board (`dut <cmd>%`)
    performance: PerformanceSettings = field(default_factory=PerformanceSettings)
    firmware: Path | None = None  # emulated boards: the ELF to run (default: the last `tinyperf build`)
    builds_dir: Path = Path("builds")
    protocol: Protocol = "auto"  # auto: the tinyperf extension when the device offers it, else legacy
    fast_baud: int | None = None  # extension: switch to this rate after negotiating (falls back if it fails)
    faults: str | None = None  # fault plan for the link (tests, benchmarks): "corrupt=0.01,hang=0.002,seed=1"
    sim_options: tuple[str, ...] = ()  # simulated boards: legacy-only, reuses-input-tensor, max-baud=N
    shard_ports: tuple[str, ...] = ()  # accuracy: more identical boards beside `port`; samples are shared out
    sim_boards: int = 1  # accuracy on a simulated board: how many to start and share the samples across
    labgrid_places: tuple[str, ...] = ()  # boards in a labgrid farm: acquired, reached, released at the end
    labgrid_coordinator: str | None = None  # host:port (default: labgrid's, $LG_COORDINATOR)
    single_stream: int = 0  # performance: after the windows, this many single timed inferences (p50/p90/p99)
    offline_s: float = 0.0  # performance: after the windows, one back-to-back window this long (sustained inf./s)
    duty_rate_hz: float = 0.0  # energy: after the windows, requests at this rate with the device asleep between
    duty_requests: int = 30
    duty_arrivals: Literal["periodic", "poisson"] = "periodic"
    interface_port: str | None = None  # sww01 on a bench: the enhanced interface board's port
    score_as_open_runner: bool = False  # sww01: score with the open runner's end + 2 s window


def sim_options(words: tuple[str, ...]) -> dict:
    """`legacy-only`, `reuses-input-tensor`, `max-baud=N`, `slowdown=F`, `window-jitter=F`, `jitter-seed=N`
    -> start_sim_board keyword arguments."""
    options: dict = {}
    numbers = {"max-baud": int, "slowdown": float, "window-jitter": float, "jitter-seed": int}
    for word in words:
        name, _, value = word.partition("=")
        if name in ("legacy-only", "reuses-input-tensor") and not value:
            options[name.replace("-", "_")] = True
            continue
        try:
            options[name.replace("-", "_")] = numbers[name](value)
        except (KeyError, ValueError):
            raise ConfigError(f"unknown simulated-board option {word!r}; known: legacy-only, reuses-input-tensor, "
                              "max-baud=N, slowdown=F, window-jitter=F, jitter-seed=N") from None
    return options


def resumed_request(root: Path, port: str | None = None) -> RunRequest:
    """The request a session was started with; only accuracy runs resume (their samples are independent)."""
    data = dict(journaled_request(root))
    if data.get("mode") != "accuracy":
        raise ConfigError(f"{root} is a {data.get('mode')} run; only accuracy runs resume (performance and energy "
                          "windows are measured again from the start: rerun them)")
    known = {f.name for f in fields(RunRequest)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{root / 'journal.jsonl'}:1: request fields {unknown} are not known to this tinyperf")
    where = f"{root / 'journal.jsonl'}:1"
    try:
        data["performance"] = PerformanceSettings(**data.get("performance", {}))
        for name in ("dataset", "model", "sessions_dir", "firmware", "builds_dir"):
            if data.get(name) is not None:
                data[name] = Path(data[name])
        data["sim_options"] = tuple(data.get("sim_options", ()))
        if port is not None:
            data["port"] = port
        return RunRequest(**data)
    except TypeError as e:
        raise ConfigError(f"{where}: the journaled request does not fit this tinyperf ({e})") from None


def jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=str))
