"""pyserial-backed link: a real /dev/tty*, a pseudo-terminal path, socket://host:port, rfc2217://."""

from __future__ import annotations

import errno
import os

import serial

from tinyperf.deadline import Deadline
from tinyperf.device.link.base import Link
from tinyperf.errors import LinkError

_POLL_S = 0.05
READ_CHUNK = 1 << 16  # most bytes one read takes: what a caller holds at once stays bounded


def explain_open_error(url: str, error: Exception) -> str:
    """Turn pyserial's open failure into one line that says what to do."""
    text = str(error)
    code = getattr(error, "errno", None)
    if code == errno.ENOENT or "No such file" in text:
        return f"port {url} does not exist; list the ports with `tinyperf ports`"
    if code == errno.EACCES or "Permission denied" in text:
        return (
            f"permission denied opening {url}; add your user to the port's group "
            "(usually `sudo usermod -aG dialout $USER`, then log in again)"
        )
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "exclusively lock" in text:
        return f"port {url} is busy: another program (or another tinyperf run) has it open"
    if code == errno.ECONNREFUSED or "refused" in text:
        return f"nothing is listening at {url} (connection refused)"
    return f"cannot open {url}: {text}"


class SerialLink(Link):
    """A pyserial port. Local ports are locked exclusively so two runs cannot share a board."""

    def __init__(self, port: serial.SerialBase, url: str) -> None:
        self._port = port
        self.url = url
        # RFC 2217 (a remote port, e.g. ser2net under labgrid) renegotiates the port with the server on
        # every timeout change: keep one poll timeout there and let a wait overshoot by at most _POLL_S
        self._fixed_timeout = url.startswith("rfc2217://")
        self._socket = url.startswith("socket://")

    @classmethod
    def open(cls, url: str, baud: int) -> SerialLink:
        is_local_path = "://" not in url
        if is_local_path and not os.path.exists(url):
            raise LinkError(explain_open_error(url, FileNotFoundError(errno.ENOENT, "No such file")))
        try:
            kwargs: dict = {"exclusive": True} if is_local_path else {}
            if not url.startswith("rfc2217://"):  # pyserial's RFC 2217 client has no write timeout
                kwargs["write_timeout"] = 10
            port = serial.serial_for_url(url, baudrate=baud, timeout=_POLL_S, **kwargs)
        except (serial.SerialException, OSError, ValueError) as e:
            raise LinkError(explain_open_error(url, e)) from e
        return cls(port, url)

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"writing to {self.url} failed: {e}") from e

    def read_some(self, deadline: Deadline) -> bytes:
        while True:
            try:
                if not self._fixed_timeout:
                    self._port.timeout = min(_POLL_S, max(deadline.remaining(), 0.001))
                data = self._port.read(1)
                waiting = self._port.in_waiting if data else 0
                if waiting and self._socket:
                    # a socket's in_waiting only says "readable" (1): take what is there without waiting
                    self._port.timeout = 0
                    data += self._port.read(READ_CHUNK)
                elif waiting:
                    data += self._port.read(min(waiting, READ_CHUNK))
            except (serial.SerialException, OSError) as e:
                raise LinkError(f"reading from {self.url} failed: {e}") from e
            if data or deadline.expired():
                return data

    def set_baud(self, baud: int) -> None:
        try:
            self._port.baudrate = baud
        except (serial.SerialException, OSError, ValueError) as e:
            raise LinkError(f"cannot set {self.url} to {baud} baud: {e}") from e

    def close(self) -> None:
        self._port.close()


def open_link(url: str, baud: int) -> SerialLink:
    return SerialLink.open(url, baud)
