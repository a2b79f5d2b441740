"""One small exception tree. Every message is one line a user can act on."""

from __future__ import annotations


class TinyperfError(Exception):
    """Base of every error tinyperf reports to a user (shown without a traceback)."""


class ConfigError(TinyperfError):
    """A board, manifest or option is wrong: says which file/field and what was expected."""


class ModelError(TinyperfError):
    """A model cannot be found, fetched or verified."""


class DatasetError(TinyperfError):
    """A dataset folder or label file is malformed or does not fit the model."""


class LinkError(TinyperfError):
    """The byte transport failed: port missing, busy, no permission, closed."""


class DeviceTimeout(LinkError):
    """The device did not answer in time."""

    def __init__(self, awaited: str, limit_s: float, tail: bytes, still_talking: bool = False) -> None:
        self.awaited = awaited
        self.limit_s = limit_s
        self.tail = tail
        shown = tail[-120:].decode("ascii", "backslashreplace")
        advice = ("it kept sending without ever ending its reply: check that the port is the device's and the "
                  "firmware speaks the MLPerf Tiny protocol" if still_talking else
                  "check the port, the baud rate and that the firmware is running")
        super().__init__(f"device did not answer {awaited} within {limit_s:.1f} s (last bytes received: "
                         f"{shown!r}); {advice}")


class ProtocolError(TinyperfError):
    """A line from the device does not parse as the protocol says it must."""


class DeviceError(ProtocolError):
    """The device answered a command with an `e-` error line."""

    def __init__(self, command: str, line: str) -> None:
        self.command = command
        self.line = line
        super().__init__(f"device rejected {command!r}: {line}")


class MonitorError(TinyperfError):
    """The energy monitor refused a command, sent something malformed, or stopped streaming."""


class ToolError(TinyperfError):
    """An external program (compiler, flasher, emulator) is missing or failed; names the package or command."""


class DeviceUnresponsive(LinkError):
    """A frame went unanswered through every retry: the device is hung or gone (recovery resets it)."""

    def __init__(self, awaited: str, attempts: int, limit_s: float) -> None:
        self.awaited = awaited
        self.attempts = attempts
        super().__init__(f"device did not answer {awaited} in {attempts} tries (the last waited {limit_s:.1f} s); "
                         "it is hung, reset or unplugged")


class DeviceRebooted(LinkError):
    """The device printed its boot banner in the middle of a command: its buffers are gone."""


class RunInterrupted(TinyperfError):
    """The user stopped a run (Ctrl-C); what was finished is journaled and the run can be resumed."""
