"""A simulated Qoitech Otii (Ace) behind a simulated Otii 3 TCP server, fed by the simulated board.

It speaks the JSON-lines protocol `otii-tcp-client` uses (port 1905 on a real desk): a greeting
{"type": "information", "info": "connected"} on connect, then one response per request with the same
`trans_id`, errors as {"type": "error", "errorcode": "Command failure", "data": {"message": ...}}.
Recordings hold the main current channel `mc` (equal-period analog samples, timestamp of sample 0 and
the interval) and the digital input `i1` (level changes with their exact times), where the timestamp
GPIO is wired.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import numpy as np

from tinyperf.power.profiles import BoardPowerModel
from tinyperf.sim.instruments.instrument_host import emulator_main
from tinyperf.sim.instruments.timeline import SampleMaker, Timeline

DEVICE = {"device_id": "SIM-ACE-0001", "name": "Otii Ace (simulated)", "type": "Ace"}
SAMPLE_RATES = (1_000, 4_000, 50_000)
CHANNELS = {"mc", "mp", "mv", "ac", "av", "sp", "sn", "vb", "vj", "tp", "rx", "i1", "i2"}


class CommandFailure(Exception):
    pass


class OtiiEmulator:
    def __init__(self, power: BoardPowerModel, seed: int = 0) -> None:
        self.power = power
        self.timeline = Timeline()
        self.maker = SampleMaker(self.timeline, power, 4_000, seed)
        self.buffer = ""
        self.main_voltage = 3.3
        self.main_on = False
        self.enabled: set[str] = set()
        self.rate_hz = 4_000
        self.recording_id = -1
        self.recording = False
        self.current_chunks: list[np.ndarray] = []
        self.current: np.ndarray = np.zeros(0)
        self.digital: list[dict] = []

    def on_connect(self) -> bytes:
        return self._line({"type": "information", "info": "connected",
                           "data": {"otii_version": "3.5.5-sim", "protocol_version": "0.1", "server": "otii-server"}})

    @staticmethod
    def _line(message: dict) -> bytes:
        return (json.dumps(message) + "\r\n").encode()

    def feed(self, data: bytes) -> bytes:
        self.buffer += data.decode("utf-8", errors="replace")
        *lines, self.buffer = self.buffer.split("\r\n")
        out = bytearray()
        for line in lines:
            if not line.strip():
                continue
            self.produce()
            request = json.loads(line)
            command = request.get("cmd", "")
            reply = {"type": "response", "cmd": command, "trans_id": request.get("trans_id", "")}
            try:
                reply["data"] = self.handle(command, request.get("data") or {})
            except CommandFailure as e:
                reply.update(type="error", errorcode="Command failure", data={"message": str(e)})
            out += self._line(reply)
        return bytes(out)

    def handle(self, command: str, data: dict) -> dict:  # one branch per command
        if command.startswith("arc_") and data.get("device_id") != DEVICE["device_id"]:
            raise CommandFailure(f"no device {data.get('device_id')!r}")
        if command == "otii_is_logged_in":
            return {"logged_in": True}
        if command == "otii_get_licenses":
            return {"licenses": [{"id": 1, "type": "Automation", "available": True, "reserved_to": "tinyperf",
                                  "hostname": "localhost"}]}
        if command == "otii_get_devices":
            return {"devices": [DEVICE]}
        if command in ("otii_get_active_project", "otii_create_project"):
            return {"project_id": 1}
        if command == "arc_get_version":
            return {"hw_version": "Ace-sim", "fw_version": "1.0.0-sim"}
        if command == "arc_set_main_voltage":
            if not 0.5 <= float(data["value"]) <= 5.0:
                raise CommandFailure("main voltage out of range 0.5-5 V")
            self.main_voltage = float(data["value"])
        elif command == "arc_set_max_current":
            pass
        elif command == "arc_enable_channel":
            if data["channel"] not in CHANNELS:
                raise CommandFailure(f"unknown channel {data['channel']!r}")
            (self.enabled.add if data["enable"] else self.enabled.discard)(data["channel"])
        elif command == "arc_set_channel_samplerate":
            if int(data["value"]) not in SAMPLE_RATES:
                raise CommandFailure(f"sample rate {data['value']} not supported; use one of {list(SAMPLE_RATES)}")
            self.rate_hz = int(data["value"])
        elif command == "arc_get_channel_samplerate":
            return {"value": self.rate_hz}
        elif command == "arc_set_main":
            self.main_on = bool(data["enable"])
            self.maker.powered = self.main_on
        elif command == "project_start_recording":
            self._start_recording()
        elif command == "project_stop_recording":
            self.recording = False
        elif command == "project_get_last_recording":
            return {"recording_id": self.recording_id, "name": f"Recording {self.recording_id}",
                    "start-time": datetime.now(UTC).isoformat()}
        elif command == "recording_get_channel_data_count":
            return {"count": self._count(data)}
        elif command == "recording_get_channel_data":
            return self._channel_data(data)
        else:
            raise CommandFailure(f"command {command!r} is not emulated")
        return {}

    def _start_recording(self) -> None:
        if "mc" not in self.enabled:
            raise CommandFailure("no channel enabled")
        self.recording_id += 2 if self.recording_id < 0 else 1
        self.recording = True
        self.maker.start(self.rate_hz)
        self.current_chunks, self.current = [], np.zeros(0)
        self.digital = [{"timestamp": 0.0, "value": True}] if "i1" in self.enabled else []

    def _check_recording(self, data: dict) -> str:
        if data.get("recording_id") != self.recording_id or self.recording_id < 0:
            raise CommandFailure(f"no recording {data.get('recording_id')!r}")
        if data.get("channel") not in self.enabled:
            raise CommandFailure(f"channel {data.get('channel')!r} was not recorded")
        return data["channel"]

    def _joined(self) -> np.ndarray:
        if self.current_chunks:
            self.current = np.concatenate([self.current, *self.current_chunks])
            self.current_chunks = []
        return self.current

    def _count(self, data: dict) -> int:
        channel = self._check_recording(data)
        return len(self._joined()) if channel == "mc" else len(self.digital) if channel == "i1" else 0

    def _channel_data(self, data: dict) -> dict:
        channel = self._check_recording(data)
        index, count = int(data["index"]), int(data["count"])
        if channel == "i1":
            return {"data_type": "digital", "values": self.digital[index : index + count]}
        if channel != "mc":
            raise CommandFailure(f"channel {channel!r} is not emulated")
        values = self._joined()[index : index + count]
        interval = 1.0 / self.rate_hz
        return {"data_type": "analog", "timestamp": index * interval, "interval": interval, "values": values.tolist()}

    def produce(self) -> bytes:
        """Recordings fill as board time passes; nothing is pushed to the client."""
        if not self.recording:
            return b""
        made = self.maker.make()
        if made is not None:
            self.current_chunks.append(made.current_a)
            if "i1" in self.enabled:
                for t in made.edge_times_s:
                    self.digital += [{"timestamp": t, "value": False},
                                     {"timestamp": t + self.power.timestamp_pulse_s, "value": True}]
        return b""


def main(argv: list[str] | None = None) -> int:
    return emulator_main("python -m tinyperf.sim.instruments.otii", __doc__ or "", OtiiEmulator, "tcp", argv)


if __name__ == "__main__":
    sys.exit(main())
