"""Instrument profiles (power/instruments/*.yaml) and per-board power models (power/boards/*.yaml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from tinyperf.errors import ConfigError
from tinyperf.resources import data_dir


class VoltageRange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    min: float
    max: float
    default: float


class InstrumentProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    name: str
    usb_ids: tuple[str, ...]
    baud: int
    voltage_v: VoltageRange
    max_current_a: float
    rates_hz: tuple[int, ...]
    continuous_max_hz: int
    default_rate_hz: int
    event_input: str

    def check_setup(self, voltage_v: float, rate_hz: int) -> None:
        """The setup this instrument can do, or a MonitorError naming what it can."""
        from tinyperf.errors import MonitorError

        usable = [rate for rate in self.rates_hz if rate <= self.continuous_max_hz]
        if rate_hz not in usable:
            why = ("is too fast to stream continuously (a run needs that)" if rate_hz in self.rates_hz
                   else "is not one of its rates")
            raise MonitorError(f"{rate_hz} Hz {why} for the {self.name}; choose one of {usable}")
        if not self.voltage_v.min <= voltage_v <= self.voltage_v.max:
            limits = self.voltage_v
            raise MonitorError(f"{voltage_v} V is outside the {self.name}'s {limits.min}-{limits.max} V")


class BoardPowerModel(BaseModel):
    """Active/idle current at the board voltage, plus white noise: the simulated monitor's truth."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    board: str
    voltage_v: float
    active_current_a: float
    idle_current_a: float
    noise_a_rms_1khz: float
    sleep_current_a: float | None = None  # the low-power state between duty-cycled requests (None: none)
    timestamp_pulse_s: float = 50e-6  # how long the firmware holds the timestamp GPIO low (>= 1 us by the rules)

    def energy_per_inference_j(self, inference_s: float) -> float:
        return self.voltage_v * self.active_current_a * inference_s


def _load(path: Path, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from e
    except ValidationError as e:
        raise ConfigError(f"{path}: {e}") from e


@cache
def instrument_profile(instrument: str) -> InstrumentProfile:
    path = data_dir("power") / "instruments" / f"{instrument}.yaml"
    if not path.is_file():
        raise ConfigError(f"no instrument profile {path}")
    return _load(path, InstrumentProfile)  # type: ignore[return-value]


@cache
def board_power_model(board: str) -> BoardPowerModel:
    path = data_dir("power") / "boards" / f"{board}.yaml"
    if not path.is_file():
        raise ConfigError(f"{board} has no power model ({path}); energy runs on it need a real monitor")
    return _load(path, BoardPowerModel)  # type: ignore[return-value]


def supply_voltage(board: str) -> float:
    """The voltage a monitor applies to `board`: its modelled supply (simulated boards) or the MLPerf Tiny
    reference 1.8 V (the LPM01A profile's default)."""
    try:
        return board_power_model(board).voltage_v
    except ConfigError:
        return instrument_profile("lpm01a").voltage_v.default
