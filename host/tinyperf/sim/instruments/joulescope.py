"""A simulated Joulescope behind the `joulescope` v1 API, fed by the simulated board's power wire.

A Joulescope speaks USB bulk to its own driver, so there is no byte protocol to put on a pty;
what tinyperf's driver relies on is the v1 Python API, and that is what this emulates:
`open/close`, `parameter_set('sampling_frequency' | 'i_range' | 'current_lsb', ...)`,
`stream_process_register(obj)` (obj.stream_notify(stream_buffer) on every block, as
`Device._on_stream` calls it), `start(stop_fn=...)/stop()`, and a stream buffer with
`sample_id_range` and `samples_get(start, stop, fields=[...])` returning {'signals': {name:
{'value', 'units'}}}. The buffer forgets samples older than `buffer_duration`, as the real one does.
Current and power come from the shared SampleMaker; GPI0 (`current_lsb`) is the timestamp GPIO.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinyperf.power.profiles import board_power_model
from tinyperf.sim.instruments.timeline import SampleMaker, Timeline
from tinyperf.sim.wire import bind_receiver, parse_message

BLOCK_S = 0.05


class SimulatedStreamBuffer:
    def __init__(self, duration_s: float, rate_hz: int) -> None:
        self.capacity = int(duration_s * rate_hz)
        self.first = 0
        self.signals: dict[str, np.ndarray] = {name: np.zeros(0) for name in ("current", "voltage", "power",
                                                                                 "current_lsb", "voltage_lsb")}

    @property
    def sample_id_range(self) -> tuple[int, int]:
        return self.first, self.first + len(self.signals["current"])

    def add(self, block: dict[str, np.ndarray]) -> None:
        for name, values in block.items():
            self.signals[name] = np.concatenate([self.signals[name], values])
        excess = len(self.signals["current"]) - self.capacity
        if excess > 0:
            self.first += excess
            self.signals = {name: values[excess:] for name, values in self.signals.items()}

    def samples_get(self, start: int, stop: int, fields: list[str] | None = None) -> dict[str, Any]:
        first, end = self.sample_id_range
        start, stop = max(start, first), min(stop, end)
        units = {"current": "A", "voltage": "V", "power": "W", "current_lsb": "", "voltage_lsb": ""}
        return {"time": {"sample_id_range": {"value": [start, stop], "units": "samples"}},
                "signals": {name: {"value": self.signals[name][start - first : stop - first], "units": units[name]}
                            for name in (fields or list(units))}}


class SimulatedJoulescope:
    def __init__(self, board_id: str, model: str = "JS220", serial: str = "SIM001") -> None:
        self.power = board_power_model(board_id)
        self.model, self.serial_number = model.lower(), serial
        self.timeline = Timeline()
        self.maker = SampleMaker(self.timeline, self.power, 1_000_000)
        self.parameters: dict[str, Any] = {"sampling_frequency": 1_000_000, "i_range": "auto",
                                           "buffer_duration": 30}
        self.stream_buffer: SimulatedStreamBuffer | None = None
        self.processors: list[Any] = []
        self.streaming = False
        self.is_open = False
        self.lock = threading.Lock()

    def __str__(self) -> str:
        return f"{self.model.upper()}-{self.serial_number}"

    def open(self) -> None:
        self.is_open = True

    def close(self) -> None:
        self.stop()
        self.is_open = False

    def parameter_set(self, name: str, value: Any) -> None:
        if name not in ("sampling_frequency", "i_range", "current_lsb", "voltage_lsb", "buffer_duration"):
            raise KeyError(name)
        self.parameters[name] = value

    def stream_process_register(self, obj: Any) -> None:
        self.processors.append(obj)

    def start(self, stop_fn: Callable | None = None, duration: float | None = None) -> None:
        with self.lock:
            rate = int(self.parameters["sampling_frequency"])
            self.stream_buffer = SimulatedStreamBuffer(float(self.parameters["buffer_duration"]), rate)
            self.maker.start(rate)
            self.streaming = True

    def stop(self) -> None:
        with self.lock:
            self.streaming = False

    def pump(self) -> None:
        """Make the samples board time allows and hand them to the stream processors (the USB thread's job)."""
        with self.lock:
            if not self.streaming or self.stream_buffer is None:
                return
            made = self.maker.make()
            if made is None:
                return
            voltage = np.full(len(made.current_a), self.power.voltage_v)
            self.stream_buffer.add({"current": made.current_a, "voltage": voltage, "power": made.current_a * voltage,
                                    "current_lsb": made.pin_high.astype(np.uint8),
                                    "voltage_lsb": np.ones(len(voltage), dtype=np.uint8)})
            buffer = self.stream_buffer
        for processor in list(self.processors):
            if getattr(processor, "driver_active", True):
                processor.stream_notify(buffer)


def start_feed(device: SimulatedJoulescope, wire: Path) -> Callable[[], None]:
    """Listen on the board's power wire in a thread; returns the function that stops it."""
    receiver = bind_receiver(wire)
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            select.select([receiver], [], [], BLOCK_S)
            while True:  # drain what is queued, then make samples: the board never waits for us
                try:
                    device.timeline.apply(*parse_message(receiver.recv(256, socket.MSG_DONTWAIT)))
                except BlockingIOError:
                    break
            device.pump()

    thread = threading.Thread(target=run, name="sim-joulescope", daemon=True)
    thread.start()

    def stop() -> None:
        done.set()
        thread.join(timeout=2.0)
        receiver.close()
        wire.unlink(missing_ok=True)

    return stop
